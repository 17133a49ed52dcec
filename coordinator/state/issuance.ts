// Issued cluster certificates: one durable record per certificate the coordinator signed from a
// cluster CA (coordinator/pki/issuer.ts) -- serial, node, kind, SANs, validity, who asked, when.
// The record commits before the certificate is handed out, so there is never a certificate in
// the field the coordinator has no record of. `muster certs check-expiration` reads it.
//
// Records are kept after they expire or are superseded: they are the audit trail (a few hundred
// bytes each; a 1,000-node cluster renewing yearly adds ~10,000 a year). Pruning is for the
// rotation work, which knows when a record stops mattering.
import type { StateWriter, Table } from './writer.ts';
import type { Nodes } from './nodes.ts';

/** Key prefix of this aggregate's table (records.ts lists the others). */
export const ISSUED_PREFIX = 'issued/';

export interface IssuanceRecord {
  serial: string;
  /** Node the certificate was issued to; "" for an operator's (the admin kubeconfig). */
  node: string;
  /** Catalogue kind (shared/pki/catalogue.ts). */
  kind: string;
  /** Which cluster CA signed it. */
  ca: string;
  /** Serial of that CA (records from before CA rotation existed lack it). */
  caSerial?: string;
  /** "DNS:name" and "IP:addr", as signed. */
  sans: string[];
  notBeforeMs: number;
  notAfterMs: number;
  /** Who asked: "node m1 (identity serial 4a...)" or "admin muster-admin (serial ...)". */
  requestedBy: string;
  atMs: number;
}

/**
 * A record's key: issue time, then serial. Keys that grow with time append to the store's B-tree
 * instead of landing at random pages (serials are random). Records written under the bare serial
 * (earlier versions) are read all the same.
 */
export function issuedKey(r: Pick<IssuanceRecord, 'atMs' | 'serial'>): string {
  return `${String(Math.max(0, Math.floor(r.atMs))).padStart(15, '0')}-${r.serial}`;
}

export class Issuance {
  readonly #w: StateWriter;
  readonly #t: Table<IssuanceRecord>;
  readonly #nodes: Nodes;

  constructor(w: StateWriter, nodes: Nodes) {
    this.#w = w;
    this.#t = w.table<IssuanceRecord>(ISSUED_PREFIX);
    this.#nodes = nodes;
  }

  /**
   * Records certificates in one transaction; resolves once committed. With `caller`, refuses
   * (inside the mutation, which sees a removal or renewal queued before it) unless that identity
   * is still the node's: a node removed while its request was being signed gets nothing. `check`
   * runs there too (the issuer's: the node's roles still allow what was signed).
   */
  record(records: readonly IssuanceRecord[], caller?: { name: string; serial: string }, check?: () => void): Promise<void> {
    return this.#w.run(async () => {
      if (caller) this.#nodes.assertCurrent(caller.name, caller.serial);
      check?.();
      if (records.length) void this.#w.txn(records.map((r) => this.#t.put(issuedKey(r), r)));
    });
  }

  /** Every record, committed. */
  all(): IssuanceRecord[] {
    return this.#t.values();
  }

  /**
   * The certificates that are still current: for each (node, kind) the newest issuance, and each
   * operator's certificate (several operators hold their own), unless expired at `nowMs`.
   * Soonest expiry first.
   */
  current(nowMs: number): IssuanceRecord[] {
    const newest = new Map<string, IssuanceRecord>();
    for (const r of this.#t.values()) {
      const key = r.node ? `${r.node}\u0000${r.kind}` : `\u0000${r.serial}`;
      const have = newest.get(key);
      if (!have || r.atMs > have.atMs || (r.atMs === have.atMs && r.notAfterMs > have.notAfterMs)) newest.set(key, r);
    }
    return [...newest.values()].filter((r) => r.notAfterMs > nowMs).sort((a, b) => a.notAfterMs - b.notAfterMs || a.node.localeCompare(b.node) || a.kind.localeCompare(b.kind));
  }
}
