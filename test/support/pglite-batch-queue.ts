/**
 * The order in which pglite-socket hands its connections' protocol messages to the one PGlite
 * session, keeping each connection's extended-protocol batch (Parse, Bind, Describe, Execute up to
 * Sync) together, and its transactions. pglite-socket 0.2.x keeps transactions together only, so
 * two connections' batches interleave and one binds the other's unnamed statement: "prepared
 * statement does not exist" (26000), or another statement's rows (electric-sql/pglite#1046, open).
 * It replaces the server's queue, which it is given in each connection's handler: the same four
 * calls.
 */
import type { PGlite } from '@electric-sql/pglite';

interface QueuedMessage {
  handlerId: number;
  message: Uint8Array;
  onData: (data: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (error: unknown) => void;
}

/** Message types after which the session's unnamed statement and portal are no one's (Sync, Query, Terminate). */
const batchEnds = new Set(['S', 'Q', 'X'].map((type) => type.charCodeAt(0)));
/** Startup, SSL and cancel requests have no type byte: their first byte is their length's. */
const untypedMessageFirstByte = 0;

export class BatchQueue {
  private readonly db: PGlite;
  private readonly queue: QueuedMessage[] = [];
  private processing = false;
  /** The connection whose batch or transaction is open: only its messages run until it ends. */
  private owner: number | null = null;
  /** Connections gone: one whose message was running as it closed must not keep the session. */
  private readonly closed = new Set<number>();

  constructor(db: PGlite) {
    this.db = db;
  }

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      this.queue.push({ handlerId, message, onData, resolve, reject });
      void this.process();
    });
  }

  getQueueLength(): number {
    return this.queue.length;
  }

  clearQueueForHandler(handlerId: number): void {
    this.closed.add(handlerId);
    for (let index = this.queue.length - 1; index >= 0; index--) {
      const queued = this.queue[index];
      if (queued?.handlerId !== handlerId) continue;
      this.queue.splice(index, 1);
      queued.reject(new Error('Handler disconnected'));
    }
  }

  /** A connection gone mid-batch or mid-transaction: its transaction is rolled back, and the session freed. */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    if (this.owner !== handlerId) return;
    if (this.db.isInTransaction()) await this.db.exec('ROLLBACK');
    this.owner = null;
    await this.process();
  }

  private async process(): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      for (;;) {
        const index =
          this.owner === null ? 0 : this.queue.findIndex((queued) => queued.handlerId === this.owner);
        // The owner's next message has not arrived yet: the others wait for it.
        const next = index === -1 ? undefined : this.queue.splice(index, 1)[0];
        if (!next) return;
        let bytes = 0;
        try {
          await this.db.runExclusive(() =>
            this.db.execProtocolRawStream(next.message, {
              onRawData: (data) => {
                bytes += data.length;
                next.onData(data);
              },
            }),
          );
        } catch (error) {
          next.reject(error);
          continue;
        }
        const type = next.message[0] ?? untypedMessageFirstByte;
        const batchOpen = type !== untypedMessageFirstByte && !batchEnds.has(type);
        if (this.closed.has(next.handlerId)) {
          // Closed while this message ran: what it began is undone, and the session is free.
          if (this.db.isInTransaction()) await this.db.exec('ROLLBACK');
          this.owner = null;
        } else {
          this.owner = batchOpen || this.db.isInTransaction() ? next.handlerId : null;
        }
        next.resolve(bytes);
      }
    } finally {
      this.processing = false;
    }
  }
}
