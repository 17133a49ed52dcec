// Nodes and their identities: join (with the takeover rules), authorisation of every agent call
// by certificate serial, renewal through the current identity, removal, and last-contact times.
//
// Takeover rules (docs/ARCHITECTURE.md "Trust domains"):
// - a live node's name is never taken by a plain join, whatever machine id the joiner sends;
// - a join repeated with the same token, name and key (an agent that died between our commit and
//   saving its identity) gets the same certificate again and does not use the token again;
// - only a token an operator bound to the name (`muster token create --node NAME`) may take a
//   held name over, and that is logged at warn;
// - a new key for a live identity comes only through RenewIdentity, authenticated by the current one.
import type { Op } from '../store/store.ts';
import type { StateWriter, Table } from './writer.ts';
import { PREFIX, type NodeRecord } from './records.ts';
import type { Tokens } from './tokens.ts';
import type { Logger } from '../../shared/log/logger.ts';
import { AlreadyExistsError, InvalidArgumentError, NotFoundError, PermissionDeniedError, TokenError } from '../../shared/errors/index.ts';
import { stableStringify } from '../../shared/json.ts';
import { ago } from '../../shared/cli/table.ts';
import { canonicalIp } from '../../shared/net/ip.ts';

export interface JoinInput {
  tokenId: string;
  tokenSecret: string;
  name: string;
  machineId: string;
  address: string;
  labels: Record<string, string>;
  agentVersion: string;
  /** publicKeyId of the CSR's key. */
  keyId: string;
  /** Signs the node's certificate for the CSR's key; called only when a new one is needed. */
  sign: () => { certPem: string; serial: string };
}

export interface JoinResult {
  node: NodeRecord;
  certPem: string;
  /** The same join again: the stored certificate, the token not used again. */
  repeated: boolean;
}

export class Nodes {
  readonly #w: StateWriter;
  readonly #t: Table<NodeRecord>;
  readonly #lastSeenTable: Table<number>;
  readonly #tokens: Tokens;
  readonly #log: Logger;
  readonly #clock: () => number;
  /** Last contact, in memory; flushed to the store every few seconds (losing some is harmless). */
  readonly #seen = new Map<string, number>();
  readonly #dirty = new Set<string>();
  /** Live nodes by address (committed): an address is one node's, as plans and hosts files assume. */
  readonly #byAddress = new Map<string, string>();
  readonly #addressOf = new Map<string, string>();

  constructor(w: StateWriter, tokens: Tokens, log: Logger, clock: () => number) {
    this.#w = w;
    this.#t = w.table<NodeRecord>(PREFIX.nodes);
    this.#t.onCommit((name, n) => this.#index(name, n));
    this.#lastSeenTable = w.table<number>(PREFIX.lastSeen);
    this.#tokens = tokens;
    this.#log = log;
    this.#clock = clock;
  }

  get table(): Table<NodeRecord> {
    return this.#t;
  }

  /** After load: index what was stored. */
  indexLoaded(): void {
    for (const [name, v] of this.#t.entries()) this.#index(name, v.value);
  }

  #index(name: string, n: NodeRecord | undefined): void {
    const before = this.#addressOf.get(name);
    if (before !== undefined && this.#byAddress.get(before) === name) this.#byAddress.delete(before);
    this.#addressOf.delete(name);
    if (n && !n.removedAtMs && n.address) {
      const a = canonicalIp(n.address);
      this.#addressOf.set(name, a);
      this.#byAddress.set(a, name);
    }
  }

  /** Inside a mutation: throws when another live node holds `address`. */
  #assertAddressFree(name: string, address: string): void {
    if (!address) return;
    const holder = this.#byAddress.get(canonicalIp(address));
    if (!holder || holder === name) return;
    const h = this.#t.latest(holder);
    if (!h || h.removedAtMs || canonicalIp(h.address) !== canonicalIp(address)) return;
    throw new AlreadyExistsError(`address ${address} is node ${holder}'s; every node needs an address of its own (pass --address), or \`muster node remove ${holder}\` if it is gone`);
  }

  get(name: string): NodeRecord | undefined {
    return this.#t.get(name);
  }

  /** Live (not removed) committed node. */
  live(name: string): NodeRecord | undefined {
    const n = this.#t.get(name);
    return n && !n.removedAtMs ? n : undefined;
  }

  all(): NodeRecord[] {
    return this.#t.values();
  }

  join(j: JoinInput): Promise<JoinResult> {
    return this.#w.run(async () => {
      const now = this.#clock();
      const existing = this.#t.latest(j.name);
      const live = existing && !existing.removedAtMs ? existing : undefined;
      if (live && live.keyId === j.keyId && live.joinTokenId === j.tokenId) {
        const tok = this.#tokens.checkSecret(j.tokenId, j.tokenSecret);
        if (tok.revoked) throw new TokenError('revoked', `bootstrap token ${j.tokenId} was revoked; create a new one with \`muster token create\``);
        // Answer only once what we answer from is on disk.
        await this.#w.committed();
        return { node: live, certPem: live.certPem, repeated: true };
      }
      const tok = this.#tokens.checkForJoin(j.tokenId, j.tokenSecret);
      if (tok.nodeName && tok.nodeName !== j.name) {
        throw new PermissionDeniedError('token-bound', `bootstrap token ${j.tokenId} is bound to node ${tok.nodeName}; it cannot join as ${j.name}`);
      }
      if (live) {
        if (tok.nodeName !== j.name) throw new AlreadyExistsError(this.#heldMessage(live, now));
        this.#log.warn(
          `node ${j.name} taken over by a join with token ${tok.id}, which an operator bound to that name; ` +
            `the previous identity (address ${live.address || 'unknown'}, last contact ${this.#lastContact(live.name, now)}) is refused from now on`,
        );
      }
      this.#assertAddressFree(j.name, j.address);
      const cert = j.sign();
      const node: NodeRecord = {
        name: j.name,
        machineId: j.machineId,
        hostname: j.name,
        address: j.address,
        labels: j.labels,
        agentVersion: j.agentVersion,
        certSerial: cert.serial,
        keyId: j.keyId,
        certPem: cert.certPem,
        joinTokenId: tok.id,
        joinedAtMs: live ? live.joinedAtMs : now,
        removedAtMs: 0,
      };
      // The use count and the node record commit together: a crash can't leave one without the other.
      void this.#w.txn([this.#tokens.table.put(tok.id, { ...tok, uses: tok.uses + 1 }), this.#t.put(j.name, node)]);
      this.#seen.set(j.name, now);
      this.#log.info(`node ${j.name} joined from ${j.address || 'unknown address'} with token ${tok.id}${live ? ' (takeover)' : existing ? ' (after removal)' : ''}`);
      return { node, certPem: cert.certPem, repeated: false };
    });
  }

  #heldMessage(n: NodeRecord, now: number): string {
    return (
      `node name ${n.name} is held by the node at ${n.address || 'an unknown address'} (last contact ${this.#lastContact(n.name, now)}); ` +
      `if that machine is gone, run \`muster node remove ${n.name}\` and join again; if this is another machine, give it another name with --node-name; ` +
      `to re-key the machine that holds the name, an operator creates a token bound to it: \`muster token create --node ${n.name}\``
    );
  }

  #lastContact(name: string, now: number): string {
    const t = this.lastSeen(name);
    return t ? `${ago(t, now)}, at ${new Date(t).toISOString()}` : 'never';
  }

  /**
   * The node making an agent call, by the name and serial of its verified certificate. Throws
   * PERMISSION_DENIED for unknown, removed and superseded identities. The first call with a
   * renewed certificate makes it the node's only one.
   */
  authorize(name: string, serial: string): NodeRecord {
    const n = this.#t.get(name);
    if (!n) throw new PermissionDeniedError('node-unknown', `node ${name} is not registered with this coordinator; join it with a bootstrap token`);
    if (n.removedAtMs) throw removedError(name, n.removedAtMs);
    if (serial === n.certSerial) return n;
    if (n.pending && serial === n.pending.serial) {
      void this.#promote(name, serial).catch((e) => this.#log.warn(`cannot make node ${name}'s renewed certificate its only one: ${e}`));
      return n;
    }
    throw new PermissionDeniedError(
      'cert-superseded',
      `the identity certificate presented for node ${name} is no longer that node's: it was replaced by a renewal or by an operator-authorised takeover; ` +
        'an agent always uses the newest identity in its state dir, so this one is a stale copy: remove that state dir, or join that machine under another --node-name',
    );
  }

  #promote(name: string, serial: string): Promise<void> {
    return this.#w.run(async () => {
      const n = this.#t.latest(name);
      if (!n || n.removedAtMs || n.pending?.serial !== serial) return;
      const { pending, ...rest } = n;
      void this.#w.txn([this.#t.put(name, { ...rest, certSerial: pending.serial, keyId: pending.keyId, certPem: pending.certPem })]);
      this.#log.info(`node ${name} uses its renewed identity certificate; the previous one is refused from now on`);
    });
  }

  /**
   * Inside a mutation: the caller's identity is still the node's (not removed, not superseded by
   * a takeover or renewal since its call was admitted). Calls are admitted on committed state; a
   * removal or takeover queued since must not be undone by a report that was already in flight.
   */
  assertCurrent(name: string, serial: string): void {
    const n = this.#t.latest(name);
    // The same answer as at admission: a call in flight when the removal landed tells the agent
    // the same thing, and what to do, as its next call would.
    if (n?.removedAtMs) throw removedError(name, n.removedAtMs);
    if (!n) throw new PermissionDeniedError('node-removed', `node ${name} was removed by an operator; its reports are no longer taken`);
    if (serial !== n.certSerial && serial !== n.pending?.serial) {
      throw new PermissionDeniedError('cert-superseded', `the identity certificate presented for node ${name} is no longer that node's; its reports are no longer taken`);
    }
  }

  /** A new certificate for the calling node's new key; the old one stays valid until the new one is used. */
  renew(name: string, serial: string, keyId: string, sign: () => { certPem: string; serial: string }): Promise<string> {
    return this.#w.run(async () => {
      const n = this.#t.latest(name);
      if (!n || n.removedAtMs || (serial !== n.certSerial && serial !== n.pending?.serial)) {
        throw new PermissionDeniedError('cert-superseded', `node ${name} cannot renew with this certificate: it is not the node's current one`);
      }
      if (keyId === n.keyId || keyId === n.pending?.keyId) {
        throw new InvalidArgumentError(`node ${name}: a renewal needs a new key; this CSR is for the key the node already holds`);
      }
      const cert = sign();
      // Renewing from the pending certificate promotes it: the node evidently holds it.
      const base = serial === n.pending?.serial ? { ...n, certSerial: n.pending.serial, keyId: n.pending.keyId, certPem: n.pending.certPem } : n;
      void this.#w.txn([this.#t.put(name, { ...base, pending: { serial: cert.serial, keyId, certPem: cert.certPem } })]);
      this.#log.info(`node ${name} renewed its identity certificate`);
      return cert.certPem;
    });
  }

  /** Ops that record a node's self-description from a report, if it changed (inside a mutation). */
  reportOps(name: string, extra: { address?: string; labels?: Record<string, string>; agentVersion?: string }): Op[] {
    const node = this.#t.latest(name);
    if (!node || node.removedAtMs) return [];
    const upd = { ...node };
    if (extra.address && extra.address !== node.address) {
      this.#assertAddressFree(name, extra.address);
      upd.address = extra.address;
    }
    if (extra.agentVersion && extra.agentVersion !== node.agentVersion) upd.agentVersion = extra.agentVersion;
    if (extra.labels && Object.keys(extra.labels).length && stableStringify(extra.labels) !== stableStringify(node.labels)) upd.labels = extra.labels;
    return stableStringify(upd) === stableStringify(node) ? [] : [this.#t.put(name, upd)];
  }

  /** The op that marks a node removed (inside a mutation). */
  removeOp(name: string): Op {
    const n = this.#t.latest(name);
    if (!n || n.removedAtMs) throw new NotFoundError(`node ${name} is not registered; see \`muster status\``);
    return this.#t.put(name, { ...n, removedAtMs: this.#clock() });
  }

  // ---- last contact

  touch(name: string): void {
    this.#seen.set(name, this.#clock());
    this.#dirty.add(name);
  }

  lastSeen(name: string): number {
    return this.#seen.get(name) ?? this.#lastSeenTable.get(name) ?? 0;
  }

  async flushLastSeen(): Promise<void> {
    if (this.#dirty.size === 0) return;
    const names = [...this.#dirty];
    this.#dirty.clear();
    await this.#w.run(async () => void this.#w.txn(names.map((n) => this.#lastSeenTable.put(n, this.#seen.get(n) ?? 0))));
  }
}

/** A removed node's calls are refused with when, and how to bring the machine back. */
function removedError(name: string, removedAtMs: number): PermissionDeniedError {
  return new PermissionDeniedError(
    'node-removed',
    `node ${name} was removed by an operator at ${new Date(removedAtMs).toISOString()}; to bring it back, delete the agent's state dir and join again with a new token`,
  );
}
