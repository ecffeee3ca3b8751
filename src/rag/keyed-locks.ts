/**
 * Mutual exclusion by key, within one process: a holder of a key's lock runs alone among callers
 * that asked for the same key; callers of other keys never wait for it. Waiters get the lock in
 * the order they asked, and one whose signal aborts leaves the queue at once.
 */
export class KeyedLocks {
  /** A key is held while it is in the map; its array holds the waiters, first in line first. */
  private readonly queues = new Map<string, Waiter[]>();
  private waiting = 0;
  private readonly onWaitingChange: (waiting: number) => void;

  /** @param onWaitingChange told how many callers wait for a lock, each time that number changes. */
  constructor(onWaitingChange: (waiting: number) => void = () => {}) {
    this.onWaitingChange = onWaitingChange;
  }

  /**
   * Takes the lock of every key and returns what lets them all go. Keys are taken one at a time in
   * sorted order, so two callers whose keys overlap cannot each hold one the other waits for.
   * When the signal aborts first, the keys taken so far are let go and the promise rejects with
   * its reason.
   */
  async acquire(keys: Iterable<string>, signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    const held: string[] = [];
    const release = () => {
      for (const key of held.splice(0)) this.releaseOne(key);
    };
    try {
      for (const key of [...new Set(keys)].sort()) {
        await this.acquireOne(key, signal);
        held.push(key);
      }
    } catch (error) {
      release();
      throw error;
    }
    return release;
  }

  private acquireOne(key: string, signal: AbortSignal | undefined): Promise<void> | undefined {
    const waiters = this.queues.get(key);
    if (!waiters) {
      this.queues.set(key, []);
      return undefined;
    }
    signal?.throwIfAborted();
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        waiters.splice(waiters.indexOf(waiter), 1);
        this.countWaiting(-1);
        reject(signal?.reason);
      };
      const waiter: Waiter = () => {
        signal?.removeEventListener('abort', onAbort);
        this.countWaiting(-1);
        resolve();
      };
      waiters.push(waiter);
      this.countWaiting(1);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Hands the key to the next waiter, who then holds it; with none, the key is free. */
  private releaseOne(key: string): void {
    const next = this.queues.get(key)?.shift();
    if (next) next();
    else this.queues.delete(key);
  }

  private countWaiting(change: number): void {
    this.waiting += change;
    this.onWaitingChange(this.waiting);
  }
}

type Waiter = () => void;
