/**
 * Keeps a switch of embedding space from falling inside a request: every request that embeds or
 * writes runs `during` the gate (many at once), and the switch runs `exclusive`ly, once
 * those in flight have finished and while new ones wait. A search thus never embeds its query with
 * one model and searches the other's vectors, and no write lands in a space being retired.
 */
export class SpaceGate {
  private inFlight = 0;
  /** Settles when the exclusive work now running ends. */
  private closed: Promise<void> | null = null;
  private readonly onDrained: (() => void)[] = [];

  async during<T>(work: () => Promise<T>): Promise<T> {
    await this.enter();
    try {
      return await work();
    } finally {
      this.leave();
    }
  }

  /** `work` alone: after the requests in flight, before those waiting. One exclusive at a time. */
  async exclusive<T>(work: () => Promise<T>): Promise<T> {
    while (this.closed) await this.closed;
    let open = () => {};
    this.closed = new Promise<void>((resolve) => {
      open = resolve;
    });
    try {
      if (this.inFlight > 0) await new Promise<void>((resolve) => this.onDrained.push(resolve));
      return await work();
    } finally {
      this.closed = null;
      open();
    }
  }

  private async enter(): Promise<void> {
    while (this.closed) await this.closed;
    this.inFlight++;
  }

  private leave(): void {
    this.inFlight--;
    if (this.inFlight === 0) for (const drained of this.onDrained.splice(0)) drained();
  }
}
