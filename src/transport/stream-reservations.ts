import { randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';

export interface StreamReservationsOptions {
  /**
   * How long a reservation may wait to be opened, from its last use (the PUT, or an operation
   * sent or ended on it): then it expires.
   */
  idleMs: number;
  /** Reservations waiting at once, over every key; beyond it the least recently used expires. */
  max: number;
  /**
   * Called with the token of each reservation that expired before it was opened: the stream held
   * for it must be released, or it stays in memory with whatever its operations produced.
   */
  onExpired(token: string): void;
}

/**
 * Who reserved which graphql-sse stream, in this process: a token is the key's from its PUT until
 * the stream it names closes. A reservation not yet opened holds one of its key's slots and
 * expires when idle; opening it frees the slot, and its stream lives as long as its connection.
 */
export class StreamReservations {
  /** Token → key id, for reservations not yet opened. */
  private readonly waiting: LRUCache<string, string>;
  /** Key id → how many of `waiting` are its. */
  private readonly waitingByKey = new Map<string, number>();
  /** Token → key id, for streams open now. */
  private readonly open = new Map<string, string>();

  constructor(options: StreamReservationsOptions) {
    this.waiting = new LRUCache<string, string>({
      max: options.max,
      ttl: options.idleMs,
      updateAgeOnGet: true,
      // Expired on time, not when next looked up: nobody looks up an abandoned token.
      ttlAutopurge: true,
      dispose: (keyId) => this.freeSlot(keyId),
      disposeAfter: (_keyId, token, reason) => {
        if (reason === 'expire' || reason === 'evict') options.onExpired(token);
      },
    });
  }

  /** A new token for the key, or null when the key already has `limit` reservations waiting. */
  reserve(keyId: string, limit: number): string | null {
    const held = this.waitingByKey.get(keyId) ?? 0;
    if (held >= limit) return null;
    const token = randomUUID();
    this.waitingByKey.set(keyId, held + 1);
    this.waiting.set(token, keyId);
    return token;
  }

  /** The key that reserved the token, while it waits or its stream is open; a use of it. */
  ownerOf(token: string): string | undefined {
    return this.waiting.get(token) ?? this.open.get(token);
  }

  /** Whether the token names a reservation not yet opened. */
  isWaiting(token: string): boolean {
    return this.waiting.has(token);
  }

  /** Its stream opened: the reservation no longer expires, and its key's slot is free. */
  opened(token: string): void {
    const keyId = this.waiting.get(token);
    if (keyId === undefined) return;
    this.waiting.delete(token);
    this.open.set(token, keyId);
  }

  /** Its stream closed, or was never made: the token names nothing from now on. */
  closed(token: string): void {
    this.waiting.delete(token);
    this.open.delete(token);
  }

  private freeSlot(keyId: string): void {
    const held = (this.waitingByKey.get(keyId) ?? 1) - 1;
    if (held > 0) this.waitingByKey.set(keyId, held);
    else this.waitingByKey.delete(keyId);
  }
}
