// Store in process memory, for tests; nothing survives close. Same semantics as the sqlite
// store, down to the timing -- group commit per event-loop turn, watch events before txn()
// resolves -- because both commit through GroupCommit; only the storage differs.
import type { Entry, Guard, Op, Store, TxnResult, WatchEvent } from './store.ts';
import { GroupCommit, type PendingTxn } from './group-commit.ts';
import { StoreClosedError } from './errors.ts';

const NAME = '(memory)';

export class MemoryStore implements Store {
  readonly #entries = new Map<string, Entry>();
  readonly #commits = new GroupCommit(NAME, (batch) => this.#commitBatch(batch));
  #revision = 0;

  async get(key: string): Promise<Entry | undefined> {
    this.#checkOpen();
    const e = this.#entries.get(key);
    return e ? { ...e } : undefined;
  }

  async list(prefix: string): Promise<Entry[]> {
    this.#checkOpen();
    const out: Entry[] = [];
    for (const e of this.#entries.values()) if (e.key.startsWith(prefix)) out.push({ ...e });
    // Keys are ASCII in practice; there UTF-16 order (JS) and UTF-8 byte order (sqlite) agree.
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  txn(ops: Op[], guards: Guard[] = []): Promise<TxnResult> {
    return this.#commits.submit(ops, guards);
  }

  onCommit(cb: (ms: number, transactions: number) => void): () => void {
    return this.#commits.onCommit(cb);
  }

  watch(cb: (event: WatchEvent) => void): () => void {
    return this.#commits.watch(cb);
  }

  async revision(): Promise<number> {
    this.#checkOpen();
    return this.#revision;
  }

  async close(): Promise<void> {
    await this.#commits.close();
  }

  #commitBatch(batch: readonly PendingTxn[]): TxnResult[] {
    return batch.map((t) => {
      const guardOk = t.guards.every((g) => (this.#entries.get(g.key)?.modRevision ?? 0) === g.modRevision);
      if (!guardOk) return { ok: false, revision: this.#revision };
      const rev = ++this.#revision;
      for (const op of t.ops) {
        if (op.type === 'delete') {
          this.#entries.delete(op.key);
          continue;
        }
        const createRevision = this.#entries.get(op.key)?.createRevision ?? rev;
        this.#entries.set(op.key, { key: op.key, value: op.value, createRevision, modRevision: rev });
      }
      return { ok: true, revision: rev };
    });
  }

  #checkOpen(): void {
    if (this.#commits.closed) throw new StoreClosedError(NAME);
  }
}
