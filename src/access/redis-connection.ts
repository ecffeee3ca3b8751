import { createClient, type RedisClientType } from '@redis/client';
import type { Logger } from '../observability/logger.ts';

/** A Redis client, and when its first connection attempt ended, whether or not it connected. */
export interface RedisConnection {
  client: RedisClientType;
  /**
   * Commands sent before it settles fail (there is no offline queue), so a process just started
   * would count its first requests on its own while Redis is on its way up; callers await it.
   */
  firstAttempt: Promise<void>;
}

/**
 * A Redis client for the gateway's shared state. Commands fail at once while Redis is
 * unreachable (no offline queue), so callers fall back instead of waiting; `outageWarning` is
 * logged once per outage.
 */
export function connectRedis(url: string, logger: Logger, outageWarning: string): RedisConnection {
  const client: RedisClientType = createClient({ url, disableOfflineQueue: true });
  const { promise: firstAttempt, resolve: attempted } = Promise.withResolvers<void>();
  let warned = false;
  client.on('error', (error: unknown) => {
    attempted();
    if (warned) return;
    warned = true;
    logger.warn({ err: error }, outageWarning);
  });
  client.on('ready', () => {
    attempted();
    warned = false;
  });
  client.connect().catch(() => undefined);
  return { client, firstAttempt };
}
