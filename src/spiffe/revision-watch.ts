/**
 * Waiting for registration entries to change, for agents that hold a request open until they do
 * (`GET /spiffe/agent/entries?after=N&wait=30s`): the change reaches the agent as soon as this
 * replica sees it, instead of at the agent's next poll. One watcher per replica reads the entry
 * revision (one indexed row) every `intervalMs` — only while somebody waits — and wakes every
 * waiter whose revision was passed; a change made through this replica wakes them at once
 * ({@link RevisionWatcher.notify}). Changes made elsewhere (another replica, `signet entry` on
 * the CA host) are seen within one interval.
 */

interface Waiter {
  readonly after: bigint;
  readonly resolve: (revision: bigint) => void;
  readonly timer: NodeJS.Timeout;
}

/** See the module comment. */
export class RevisionWatcher {
  readonly #read: () => Promise<bigint>;
  readonly #intervalMs: number;
  readonly #waiters = new Set<Waiter>();
  #timer: NodeJS.Timeout | undefined;
  #reading = false;
  #closed = false;

  constructor(read: () => Promise<bigint>, intervalMs = 250) {
    this.#read = read;
    this.#intervalMs = intervalMs;
  }

  /** How many requests wait now. */
  get waiting(): number {
    return this.#waiters.size;
  }

  /**
   * Resolves with the revision once it is beyond `after`, or with the revision seen last when
   * `timeoutMs` passes first (or the watcher closes): the caller compares.
   */
  async waitBeyond(after: bigint, timeoutMs: number): Promise<bigint> {
    const now = await this.#read();
    if (now > after || this.#closed || timeoutMs <= 0) return now;
    return new Promise<bigint>((resolve) => {
      const waiter: Waiter = {
        after,
        resolve: (r) => {
          clearTimeout(waiter.timer);
          this.#waiters.delete(waiter);
          if (this.#waiters.size === 0) this.#stop();
          resolve(r);
        },
        timer: setTimeout(() => waiter.resolve(now), timeoutMs),
      };
      this.#waiters.add(waiter);
      this.#start();
    });
  }

  /** A change was made through this replica: look now. */
  notify(): void {
    if (this.#waiters.size > 0) void this.#tick();
  }

  /** Wakes every waiter (the server is stopping) and stops. */
  close(): void {
    this.#closed = true;
    void this.#read().then(
      (r) => [...this.#waiters].forEach((w) => w.resolve(r)),
      () => [...this.#waiters].forEach((w) => w.resolve(w.after)),
    );
    this.#stop();
  }

  #start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.#tick(), this.#intervalMs);
    this.#timer.unref();
  }

  #stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #tick(): Promise<void> {
    if (this.#reading) return;
    this.#reading = true;
    try {
      const r = await this.#read();
      for (const w of [...this.#waiters]) if (r > w.after) w.resolve(r);
    } catch {
      // The store is away for a moment: the waiters keep waiting, until their timeout at worst.
    } finally {
      this.#reading = false;
    }
  }
}
