// Pending WatchAssignment calls, by node. A plan change wakes exactly the nodes whose
// assignment changed; nothing iterates over the whole fleet per request.
export class WatchHub {
  readonly #waiters = new Map<string, Set<() => void>>();

  /** Resolves true when `node` is notified, false after holdMs or on abort. */
  wait(node: string, holdMs: number, signal?: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      let set = this.#waiters.get(node);
      if (!set) this.#waiters.set(node, (set = new Set()));
      const done = (v: boolean) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        set!.delete(wake);
        if (set!.size === 0 && this.#waiters.get(node) === set) this.#waiters.delete(node);
        resolve(v);
      };
      const wake = () => done(true);
      const onAbort = () => done(false);
      const timer = setTimeout(() => done(false), holdMs);
      set.add(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  notify(nodes: Iterable<string>): void {
    for (const n of nodes) for (const w of [...(this.#waiters.get(n) ?? [])]) w();
  }

  /** Wakes every pending call (shutdown). */
  notifyAll(): void {
    for (const n of [...this.#waiters.keys()]) this.notify([n]);
  }

  /** Calls held for one node now. */
  pendingFor(node: string): number {
    return this.#waiters.get(node)?.size ?? 0;
  }

  get pending(): number {
    let c = 0;
    for (const s of this.#waiters.values()) c += s.size;
    return c;
  }
}
