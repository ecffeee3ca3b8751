/**
 * The seal a final pass holds over the record of generations (see WriteSeal), as a lease: written
 * for `leaseMs` and renewed every `renewEveryMs` while the pass runs, so that a process killed in
 * its final pass keeps the other processes' writes off for one lease at most, however long its
 * pass was allowed.
 *
 * The switch may be written only while the lease has held without a gap: a renewal that failed,
 * or landed too late, means another process may have taken the seal for lapsed and written what
 * the final pass did not copy. Times of this process are measured on the monotonic clock; the
 * `until` written is wall-clock time, for the other processes to read by theirs.
 */
import type { EmbeddingSpace, GenerationState, StoreGenerations } from '../ports.ts';

export interface LeaseTimes {
  leaseMs: number;
  renewEveryMs: number;
  /** Allowed for the difference between processes' clocks, and for a read or write to land. */
  slackMs: number;
}

export const defaultLeaseTimes: LeaseTimes = Object.freeze({
  leaseMs: 30_000,
  renewEveryMs: 5_000,
  slackMs: 5_000,
});

export class SealLease {
  private readonly generations: StoreGenerations;
  /** When the seal was taken, which names it: another seal, or none, is not this lease's. */
  private readonly at: number;
  private readonly times: LeaseTimes;
  /** The end of the lease as last written, on this process's monotonic clock. */
  private confirmedUntil: number;
  private hasLapsed = false;
  private stopped = false;
  /** The renewal under way, or the wait for the next. */
  private renewing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  /** Called once, when the lease lapses: the pass it covers is of no use any more. */
  onLapse: (() => void) | undefined;

  private constructor(generations: StoreGenerations, at: number, takenAt: number, times: LeaseTimes) {
    this.generations = generations;
    this.at = at;
    this.times = times;
    this.confirmedUntil = takenAt + times.leaseMs;
    this.scheduleRenewal();
  }

  /** Seals `state`'s build as taken at `at` (wall-clock), and renews the seal until stopped. */
  static async take(
    generations: StoreGenerations,
    state: GenerationState,
    building: { generation: number; space: EmbeddingSpace },
    at: number,
    times: LeaseTimes = defaultLeaseTimes,
  ): Promise<SealLease> {
    if (times.renewEveryMs + 2 * times.slackMs >= times.leaseMs) {
      throw new Error('A seal lease must outlast a renewal interval and twice its slack.');
    }
    const takenAt = performance.now();
    await generations.write({
      ...state,
      building: { ...building, sealed: { at, until: at + times.leaseMs } },
    });
    return new SealLease(generations, at, takenAt, times);
  }

  /** Whether the lease lapsed: another process may have taken the seal for gone. */
  get lapsed(): boolean {
    return this.hasLapsed;
  }

  /** Stops renewing, once a renewal under way has landed (or failed): nothing is written after. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.renewing;
  }

  /**
   * Renews the lease once more, now, and says whether it has held, in every process's eyes, since
   * it was taken: then the switch has a lease, less its slack, to land. Stops the lease.
   */
  async renewedForTheSwitch(): Promise<boolean> {
    await this.stop();
    await this.renew();
    return !this.hasLapsed;
  }

  private scheduleRenewal(): void {
    this.timer = setTimeout(() => {
      this.renewing = this.renew().then(() => {
        if (!this.stopped && !this.hasLapsed) this.scheduleRenewal();
      });
    }, this.times.renewEveryMs);
    this.timer.unref();
  }

  private async renew(): Promise<void> {
    if (this.hasLapsed) return;
    const started = performance.now();
    const wallStarted = Date.now();
    try {
      const current = await this.generations.read();
      const building = current.building;
      // Lifted, overwritten, or switched by another process: not this lease's any more. Nor is a
      // lease whose read came back so late that others may take it for lapsed: its write, landing
      // later still, could undo what they wrote meanwhile.
      if (building?.sealed?.at !== this.at || this.late()) return this.lapse();
      const until = wallStarted + this.times.leaseMs;
      await this.generations.write({ ...current, building: { ...building, sealed: { at: this.at, until } } });
      if (this.late()) return this.lapse();
      this.confirmedUntil = started + this.times.leaseMs;
    } catch {
      this.lapse();
    }
  }

  /** Whether the lease as last confirmed may have ended, in another process's eyes. */
  private late(): boolean {
    return performance.now() > this.confirmedUntil - this.times.slackMs;
  }

  private lapse(): void {
    if (this.hasLapsed) return;
    this.hasLapsed = true;
    this.onLapse?.();
  }
}
