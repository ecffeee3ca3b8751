import { createClient, type RedisClientType } from '@redis/client';
import type { Logger } from '../observability/logger.ts';

/**
 * The longest a first connection attempt holds requests back. A Redis that accepts the connection
 * but never answers (a stalled proxy, another service on the port) fires neither `ready` nor
 * `error`: requests go on after this, counting in process until Redis answers.
 */
const firstAttemptTimeoutMs = 2000;

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
  const giveUp = setTimeout(attempted, firstAttemptTimeoutMs);
  giveUp.unref();
  void firstAttempt.then(() => clearTimeout(giveUp));
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
  client.on('end', attempted);
  client.connect().catch(() => attempted());
  return { client, firstAttempt };
}

/**
 * Closes the client: gracefully when it is connected, at once when it is not (a graceful close
 * would wait for a connection that may never answer, and hold the process's shutdown).
 */
export async function closeRedis(connection: RedisConnection | null): Promise<void> {
  if (!connection) return;
  const { client } = connection;
  if (client.isReady) await client.close().catch(() => undefined);
  else client.destroy();
}
