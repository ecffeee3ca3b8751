/**
 * The seal a final pass holds over the record of generations (see WriteSeal), as a lease: written
 * for `leaseMs` and renewed every `renewEveryMs` while the pass runs, so that a process killed in
 * its final pass keeps the other processes' writes off for one lease at most, however long its
 * pass was allowed.
 *
 * The switch may be written only while the lease has held without a gap: a renewal that failed,
 * or landed too late, means another process may have taken the seal for lapsed and written what
 * the final pass did not copy.
 */
import type { EmbeddingSpace, GenerationState, StoreGenerations } from '../ports.ts';

export interface LeaseTimes {
  leaseMs: number;
  renewEveryMs: number;
  /** Allowed for the difference between processes' clocks, and for a write to land. */
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
  readonly at: number;
  private readonly times: LeaseTimes;
  /** The end of the lease as last written, by this process's clock. */
  private confirmedUntil: number;
  private lapsed = false;
  private renewing: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;

  private constructor(generations: StoreGenerations, at: number, times: LeaseTimes) {
    this.generations = generations;
    this.at = at;
    this.times = times;
    this.confirmedUntil = at + times.leaseMs;
    this.timer = setInterval(() => this.renewSoon(), times.renewEveryMs);
    this.timer.unref();
  }

  /** Seals `state`'s build, taken at `at`, and renews the seal until stopped. */
  static async take(
    generations: StoreGenerations,
    state: GenerationState,
    building: { generation: number; space: EmbeddingSpace },
    at: number,
    times: LeaseTimes = defaultLeaseTimes,
  ): Promise<SealLease> {
    await generations.write({
      ...state,
      building: { ...building, sealed: { at, until: at + times.leaseMs } },
    });
    return new SealLease(generations, at, times);
  }

  /** Stops renewing, once a renewal under way has landed (or failed). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.renewing;
  }

  /**
   * Whether the seal has held, in every process's eyes, since it was taken, and holds long enough
   * yet for the switch to land: half a lease at least.
   */
  heldForTheSwitch(): boolean {
    return !this.lapsed && this.confirmedUntil - Date.now() >= this.times.leaseMs / 2;
  }

  private renewSoon(): void {
    this.renewing = this.renewing.then(() => this.renew());
  }

  private async renew(): Promise<void> {
    if (this.lapsed) return;
    const started = Date.now();
    try {
      const current = await this.generations.read();
      const building = current.building;
      // Lifted, overwritten, or switched by another process: not this lease's any more.
      if (!building || building.sealed?.at !== this.at) {
        this.lapsed = true;
        return;
      }
      const until = started + this.times.leaseMs;
      await this.generations.write({ ...current, building: { ...building, sealed: { at: this.at, until } } });
      if (Date.now() > this.confirmedUntil - this.times.slackMs) this.lapsed = true;
      else this.confirmedUntil = until;
    } catch {
      this.lapsed = true;
    }
  }
}
