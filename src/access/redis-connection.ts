import { createClient, type RedisClientType } from '@redis/client';
import type { Logger } from '../observability/logger.ts';

/**
 * A Redis client for the gateway's shared state. Commands fail at once while Redis is
 * unreachable (no offline queue), so callers fall back instead of waiting; `outageWarning` is
 * logged once per outage.
 */
export function connectRedis(url: string, logger: Logger, outageWarning: string): RedisClientType {
  const client: RedisClientType = createClient({ url, disableOfflineQueue: true });
  let warned = false;
  client.on('error', (error: unknown) => {
    if (warned) return;
    warned = true;
    logger.warn({ err: error }, outageWarning);
  });
  client.on('ready', () => {
    warned = false;
  });
  client.connect().catch(() => undefined);
  return client;
}
