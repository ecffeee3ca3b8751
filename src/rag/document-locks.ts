import type { KeyedLocks } from './keyed-locks.ts';

/**
 * Runs `write` while holding the locks of a tenant's documents, so ingestions and deletions of one
 * document run one at a time (see IngestService for what goes wrong otherwise). An abort before
 * the locks are held rejects without writing; a write that has begun completes.
 */
export async function whileWritingDocuments<T>(
  locks: KeyedLocks,
  tenant: string,
  ids: readonly string[],
  signal: AbortSignal | undefined,
  write: () => Promise<T>,
): Promise<T> {
  // JSON keeps every (tenant, id) pair distinct, whatever characters either holds.
  const release = await locks.acquire(
    ids.map((id) => JSON.stringify([tenant, id])),
    signal,
  );
  try {
    return await write();
  } finally {
    release();
  }
}
