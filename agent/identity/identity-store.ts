// The agent's state dir: its identity (CA, private key 0600, certificate, the name it joined as)
// and the last assignment it applied. What is here survives restarts, so a restarted agent
// neither re-joins nor needs its token again.
import { readFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../shared/fs/atomic-write.ts';
import { AGENT_STATE } from '../../shared/constants.ts';
import type { AssignmentOut } from '../../shared/wire/types.ts';

export interface AgentIdentity {
  nodeName: string;
  coordinator: string;
  caCertPem: string;
  keyPem: string;
  certPem: string;
}

export interface AppliedState {
  revision: number;
  appliedAtMs: number;
  assignment: AssignmentOut;
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
    try {
      const node = JSON.parse(await readFile(this.#p(AGENT_STATE.nodeFile), 'utf8')) as { nodeName: string; coordinator: string };
      return {
        ...node,
        caCertPem: await readFile(this.#p(AGENT_STATE.caCert), 'utf8'),
        keyPem: await readFile(this.#p(AGENT_STATE.identityKey), 'utf8'),
        certPem: await readFile(this.#p(AGENT_STATE.identityCert), 'utf8'),
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  /** Saves the identity; node.json last, so a crash midway leaves "not joined", never half an identity. */
  async save(id: AgentIdentity): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.#p(AGENT_STATE.caCert), id.caCertPem, { mode: 0o644 });
    await writeFileAtomic(this.#p(AGENT_STATE.identityKey), id.keyPem, { mode: 0o600 });
    await writeFileAtomic(this.#p(AGENT_STATE.identityCert), id.certPem, { mode: 0o644 });
    await writeFileAtomic(this.#p(AGENT_STATE.nodeFile), JSON.stringify({ nodeName: id.nodeName, coordinator: id.coordinator }, null, 2) + '\n', { mode: 0o644 });
  }

  async loadApplied(): Promise<AppliedState | null> {
    try {
      return JSON.parse(await readFile(this.#p(AGENT_STATE.appliedFile), 'utf8')) as AppliedState;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async saveApplied(a: AppliedState): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.#p(AGENT_STATE.appliedFile), JSON.stringify(a, null, 2) + '\n', { mode: 0o600 });
  }
}
