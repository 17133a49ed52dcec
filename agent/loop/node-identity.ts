// The node's muster identity over the agent's life: the first join (or, after it expired while
// the node was offline, a join with a token an operator bound to the name), the mutual-TLS
// channel built on it, renewal at its point in 70-90% of the lifetime through the current
// identity (never a token), and expiry. The loop (agent.ts) decides when; this does it.
import { hostname } from 'node:os';
import { readFile } from 'node:fs/promises';
import type { CompiledAgentOptions } from '../config/options.ts';
import type { AgentIdentity, IdentityStore } from '../identity/identity-store.ts';
import { join, renewIdentity } from '../client/join.ts';
import { agentClient } from '../client/channels.ts';
import type { AgentClient } from '../../shared/wire/proto.ts';
import { ConfigError } from '../../shared/errors/index.ts';
import type { Logger } from '../../shared/log/logger.ts';
import { underRoot } from '../../shared/fs/node-root.ts';
import { RENEW_WINDOW } from '../../shared/constants.ts';
import { caPin, certInfo, createKey, renewalTime } from '../../shared/pki/x509.ts';
import type { AgentPhase } from './phase.ts';

export interface NodeIdentityDeps {
  options: CompiledAgentOptions;
  log: Logger;
  version: string;
  clock: () => number;
  renewRandom?: () => number;
  store: IdentityStore;
  /** The loop's retry (backoff while the coordinator is unreachable). */
  retry: <T>(what: string, signal: AbortSignal, attempt: () => Promise<T>, resume: AgentPhase) => Promise<T>;
  setPhase: (p: AgentPhase) => void;
}

export class NodeIdentity {
  readonly #d: NodeIdentityDeps;
  #identity: AgentIdentity | null = null;
  #client: AgentClient | null = null;
  #renewAt = Infinity;
  #expiresAt = Infinity;

  constructor(d: NodeIdentityDeps) {
    this.#d = d;
  }

  /** The channel on the identity in use. */
  get client(): AgentClient {
    if (!this.#client) throw new Error('NodeIdentity: use() has not been called');
    return this.#client;
  }

  /** When the identity is renewed next (ms since the epoch). */
  get renewAt(): number {
    return this.#renewAt;
  }

  /** The saved identity, or a new one from a join. */
  async ensure(signal: AbortSignal): Promise<AgentIdentity> {
    const { options: o, log, store } = this.#d;
    const existing = await store.load();
    let nodeName = o.nodeName;
    if (existing) {
      const expires = certInfo(existing.certPem).notAfter;
      if (expires.getTime() > this.#d.clock()) {
        if (existing.coordinator !== o.coordinator) log.info(`joined ${existing.coordinator} before; now using ${o.coordinator} with the same identity`);
        log.info(`using identity of node ${existing.nodeName} from ${o.stateDir}`);
        return existing;
      }
      // Offline past its renewal window: only an operator can let it back (a token bound to its name).
      nodeName = existing.nodeName;
      if (!o.token) throw identityExpired(existing.nodeName, expires, o.stateDir);
      log.warn(`the identity of node ${nodeName} expired at ${expires.toISOString()}; joining again with the token given (it must be bound to ${nodeName}: \`muster token create --node ${nodeName}\`)`);
    }
    if (!o.token) {
      throw new ConfigError(`node has not joined yet (no identity in ${o.stateDir}) and no --token was given; pass --token and --ca-hash from \`muster token create\``);
    }
    this.#d.setPhase('joining');
    // Saved before the join is sent: a join retried after a crash asks for the same key, and the
    // coordinator answers it with the same certificate instead of a second use of the token.
    const keyPem = await store.joinKey(createKey);
    const machineId = await readMachineId(o.root);
    const identity = await this.#d.retry(
      'join',
      signal,
      () =>
        join(
          {
            coordinator: o.coordinator,
            token: o.token!,
            caHash: o.caHash ?? (existing ? caPin(existing.caCertPem) : null),
            insecureSkipCaVerification: o.insecureSkipCaVerification,
            nodeName,
            keyPem,
            machineId,
            address: o.address,
            labels: o.labels,
            agentVersion: this.#d.version,
          },
          log,
          signal,
        ),
      'joining',
    );
    await store.save(identity);
    log.info(`joined ${o.coordinator} as node ${identity.nodeName}; identity saved in ${o.stateDir}`);
    return identity;
  }

  /** Uses `identity` from now on: a new channel, and its renewal point. */
  use(identity: AgentIdentity): AgentClient {
    this.#client?.close();
    this.#identity = identity;
    this.#client = agentClient(this.#d.options.coordinator, identity);
    const c = certInfo(identity.certPem);
    this.#renewAt = renewalTime(c.notBefore, c.notAfter, RENEW_WINDOW, this.#d.renewRandom);
    this.#expiresAt = c.notAfter.getTime();
    return this.#client;
  }

  /** Renews the identity over the current one, saves it, then uses it. */
  async renew(signal: AbortSignal, resume: AgentPhase): Promise<AgentClient> {
    const id = this.#identity!;
    const fresh = await this.#d.retry('renew identity', signal, () => renewIdentity(this.#d.options.coordinator, this.client, id.nodeName, signal), resume);
    // Saved before first use: the coordinator keeps the old certificate valid until then.
    await this.#d.store.replaceCertificate(fresh.certPem, fresh.keyPem);
    const client = this.use({ ...id, ...fresh });
    this.#d.log.info(`renewed the identity certificate of node ${id.nodeName}; valid until ${certInfo(fresh.certPem).notAfter.toISOString()}, next renewal ${new Date(this.#renewAt).toISOString()}`);
    return client;
  }

  /**
   * The error to stop with when the identity ran out while the agent ran (the coordinator was
   * unreachable through the whole renewal window); null while it is valid.
   */
  expired(): ConfigError | null {
    if (!this.#identity || this.#d.clock() < this.#expiresAt) return null;
    return identityExpired(this.#identity.nodeName, new Date(this.#expiresAt), this.#d.options.stateDir);
  }

  close(): void {
    this.#client?.close();
  }
}

function identityExpired(node: string, at: Date, stateDir: string): ConfigError {
  return new ConfigError(
    `the identity of node ${node} in ${stateDir} expired at ${at.toISOString()} (the agent was offline past its renewal window); ` +
      `an operator lets it back with a one-time token bound to the node: \`muster token create --node ${node}\`, then restart the agent with --token TOKEN`,
  );
}

async function readMachineId(root: string): Promise<string> {
  for (const p of ['/etc/machine-id', '/var/lib/dbus/machine-id']) {
    try {
      const v = (await readFile(underRoot(root, p), 'utf8')).trim();
      if (v) return v;
    } catch {
      /* try the next */
    }
  }
  // Simulated nodes (tests, the demo) have no machine-id under their root.
  return root === '/' ? hostname() : '';
}
