// The agent's state dir: its identity (the pinned server CA, its certificate and private key in
// one 0600 file, the name it joined as) and the last assignment it applied. What is here
// survives restarts, so a restarted agent neither re-joins nor needs its token again.
//
// Crash safety: the certificate and its key are one file, so a renewal replaces both in one
// atomic rename; node.json is written last, so a crash midway leaves "not joined", never half
// an identity. A join's key is saved before the join is sent, so a join retried after a crash
// asks for the same key and the coordinator recognises it (no second use of the token).
import { readFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../shared/fs/atomic-write.ts';
import { AGENT_STATE } from '../../shared/constants.ts';
import type { AssignmentOut } from '../../shared/wire/types.ts';
import type { ReadyWaitsOwed } from '../loop/ready-waits.ts';

export interface AgentIdentity {
  nodeName: string;
  coordinator: string;
  /** The server CA: what this agent trusts the coordinator by. */
  caCertPem: string;
  keyPem: string;
  certPem: string;
}

export interface AppliedState {
  revision: number;
  appliedAtMs: number;
  assignment: AssignmentOut;
  /** Readiness waits not yet seen through (agent/loop/ready-waits.ts): a restarted agent waits for them before it reports. */
  owed?: ReadyWaitsOwed;
}

const CERT_RE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/;
const KEY_RE = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]+?-----END [A-Z ]*PRIVATE KEY-----\n?/;

/** The name and coordinator a node joined as (node.json), or null before its first join. */
export async function readJoinedAs(dir: string): Promise<{ nodeName: string; coordinator: string } | null> {
  const text = await readOptional(join(dir, AGENT_STATE.nodeFile));
  if (text === null) return null;
  const { nodeName, coordinator } = JSON.parse(text) as { nodeName?: unknown; coordinator?: unknown };
  return typeof nodeName === 'string' && typeof coordinator === 'string' ? { nodeName, coordinator } : null;
}

export class IdentityStore {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
  }

  #p(name: string): string {
    return join(this.dir, name);
  }

  async load(): Promise<AgentIdentity | null> {
    const node = await readOptional(this.#p(AGENT_STATE.nodeFile));
    if (node === null) return null;
    const { nodeName, coordinator } = JSON.parse(node) as { nodeName: string; coordinator: string };
    const pem = await readOptional(this.#p(AGENT_STATE.identity));
    const cert = pem ? CERT_RE.exec(pem)?.[0] : undefined;
    const key = pem ? KEY_RE.exec(pem)?.[0] : undefined;
    if (!cert || !key) throw new Error(`${this.#p(AGENT_STATE.identity)} does not hold a certificate and a private key; delete ${this.dir} and join again`);
    return { nodeName, coordinator, caCertPem: await readFile(this.#p(AGENT_STATE.caCert), 'utf8'), keyPem: key, certPem: cert };
  }

  /** Saves a new identity (after a join). */
  async save(id: AgentIdentity): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.#p(AGENT_STATE.caCert), id.caCertPem, { mode: 0o644 });
    await this.replaceCertificate(id.certPem, id.keyPem);
    await writeFileAtomic(this.#p(AGENT_STATE.nodeFile), JSON.stringify({ nodeName: id.nodeName, coordinator: id.coordinator }, null, 2) + '\n', { mode: 0o644 });
    await rm(this.#p(AGENT_STATE.joinKey), { force: true });
  }

  /** A renewal: certificate and key replaced together. */
  async replaceCertificate(certPem: string, keyPem: string): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const text = `${certPem.trimEnd()}\n${keyPem.trimEnd()}\n`;
    await writeFileAtomic(this.#p(AGENT_STATE.identity), text, { mode: 0o600 });
  }

  /** The key of a join in progress, made and saved by `make` when there is none. */
  async joinKey(make: () => Promise<string>): Promise<string> {
    const have = await readOptional(this.#p(AGENT_STATE.joinKey));
    if (have && KEY_RE.test(have)) return have;
    const key = await make();
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.#p(AGENT_STATE.joinKey), key, { mode: 0o600 });
    return key;
  }

  async loadApplied(): Promise<AppliedState | null> {
    const t = await readOptional(this.#p(AGENT_STATE.appliedFile));
    return t === null ? null : (JSON.parse(t) as AppliedState);
  }

  async saveApplied(a: AppliedState): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.#p(AGENT_STATE.appliedFile), JSON.stringify(a, null, 2) + '\n', { mode: 0o600 });
  }
}

async function readOptional(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
