import KeyvRedis from '@keyv/redis';
import Keyv from 'keyv';
import { LRUCache } from 'lru-cache';
import type { Logger } from '../observability/logger.ts';

/** How a cached value travels to and from the shared layer, which stores strings. */
export interface CacheCodec<Value> {
  encode(value: Value): string;
  decode(text: string): Value;
}

/** Values that are plain JSON. */
export function jsonCodec<Value>(): CacheCodec<Value> {
  return { encode: (value) => JSON.stringify(value), decode: (text) => JSON.parse(text) as Value };
}

export interface TieredCacheOptions<Value> {
  /** Names the cache in logs and keys, e.g. `embeddings`. */
  name: string;
  /** Entries the in-process layer keeps. */
  maxEntries: number;
  ttlMs: number;
  codec: CacheCodec<Value>;
  /** The shared layer's Redis, e.g. `redis://127.0.0.1:6379`; absent: in-process only. */
  redisUrl?: string | undefined;
  /** The longest a shared-layer call may take before the cache carries on without it. */
  sharedTimeoutMs: number;
  logger: Logger;
  /** Told the outcome of every lookup (for metrics). */
  onLookup?: (result: CacheLookupResult) => void;
}

/** Which layer answered a lookup, if any. */
export type CacheLookupResult = 'memory_hit' | 'shared_hit' | 'miss';

/**
 * An in-process LRU in front of an optional Redis shared by every ragql process. The shared layer
 * can only make things faster: each call to it is bounded by `sharedTimeoutMs` (@keyv/redis's
 * `get()` never settles while Redis is down), a failure counts as a miss, and an outage is logged
 * once when it starts and once when it ends.
 */
export class TieredCache<Value extends {}> {
  private readonly memory: LRUCache<string, Value>;
  private readonly shared: Keyv<string> | null;
  private sharedDown = false;
  private readonly options: TieredCacheOptions<Value>;

  constructor(options: TieredCacheOptions<Value>) {
    this.options = options;
    this.memory = new LRUCache({ max: options.maxEntries, ttl: options.ttlMs });
    this.shared = options.redisUrl ? sharedStore(options, (error) => this.sharedFailed(error)) : null;
  }

  async get(key: string): Promise<Value | undefined> {
    const local = this.memory.get(key);
    if (local !== undefined) {
      this.options.onLookup?.('memory_hit');
      return local;
    }
    const text = this.shared ? await this.bounded((shared) => shared.get(key)) : undefined;
    if (typeof text !== 'string') {
      this.options.onLookup?.('miss');
      return undefined;
    }
    const value = this.options.codec.decode(text);
    this.memory.set(key, value);
    this.options.onLookup?.('shared_hit');
    return value;
  }

  async set(key: string, value: Value): Promise<void> {
    this.memory.set(key, value);
    if (this.shared) {
      const text = this.options.codec.encode(value);
      await this.bounded((shared) => shared.set(key, text, this.options.ttlMs));
    }
  }

  async close(): Promise<void> {
    await this.shared?.disconnect().catch(() => undefined);
  }

  /** A shared-layer call, or undefined when it fails or outlasts the timeout. */
  private async bounded<T>(call: (shared: Keyv<string>) => Promise<T>): Promise<T | undefined> {
    const shared = this.shared;
    if (!shared) return undefined;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer from Redis within ${this.options.sharedTimeoutMs} ms`)),
        this.options.sharedTimeoutMs,
      );
    });
    const pending = call(shared);
    pending.catch(() => undefined);
    try {
      const result = await Promise.race([pending, timeout]);
      this.sharedRecovered();
      return result;
    } catch (error) {
      this.sharedFailed(error);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  private sharedFailed(error: unknown): void {
    if (this.sharedDown) return;
    this.sharedDown = true;
    this.options.logger.warn(
      { err: error, cache: this.options.name },
      `The ${this.options.name} cache cannot reach Redis; it carries on in process only until Redis is back`,
    );
  }

  private sharedRecovered(): void {
    if (!this.sharedDown) return;
    this.sharedDown = false;
    this.options.logger.info(
      { cache: this.options.name },
      `The ${this.options.name} cache reaches Redis again`,
    );
  }
}

function sharedStore<Value>(
  options: TieredCacheOptions<Value>,
  onError: (error: unknown) => void,
): Keyv<string> {
  const store = new KeyvRedis(options.redisUrl, {
    throwOnConnectError: false,
    throwOnErrors: true,
    connectionTimeout: options.sharedTimeoutMs,
  });
  const keyv = new Keyv<string>({ store, namespace: `ragql:${options.name}` });
  // Without a listener, a connection error event would end the process.
  keyv.on('error', onError);
  store.on('error', onError);
  return keyv;
}
