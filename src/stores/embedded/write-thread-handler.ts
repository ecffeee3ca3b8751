import type Database from 'better-sqlite3';
import type { DocumentToStore } from '../../ports.ts';
import { deleteDocument, type KeyChanges, writeDocuments } from './document-writes.ts';
import { openTenantConnection } from './tenant-connection.ts';
import { advanceGeneration } from './write-generation.ts';

/**
 * The write thread's side of write-thread.ts: a connection of its own to each tenant file it has
 * written, and on it each write as one transaction in two steps. `prepare` does all the work and
 * leaves the transaction open; `commit` makes it visible, when the event loop says it is ready to
 * see it. A failure in either step rolls the whole write back.
 */

/** One write to a file; `dimensions` is its vector width, or null when it keeps no vectors. */
export type FileWrite =
  | { kind: 'upsert'; documents: readonly DocumentToStore[]; dimensions: number | null }
  | { kind: 'delete'; id: string; dimensions: number | null };

export type WriteRequest =
  | { step: 'prepare'; path: string; write: FileWrite }
  | { step: 'commit'; path: string }
  | { step: 'close'; path: string };

/** A write done but not yet committed: what it changed, and the generation it will commit. */
export interface PreparedWrite extends KeyChanges {
  /** Whether a deleted document was stored. */
  deleted: boolean;
  generation: number;
}

const connections = new Map<string, Database.Database>();

export function handleRequest(request: WriteRequest): PreparedWrite | null {
  switch (request.step) {
    case 'prepare':
      return prepare(request.path, request.write);
    case 'commit':
      commit(request.path);
      return null;
    case 'close':
      connections.get(request.path)?.close();
      connections.delete(request.path);
      return null;
  }
}

function connection(path: string): Database.Database {
  let database = connections.get(path);
  if (!database) {
    database = openTenantConnection(path);
    connections.set(path, database);
  }
  return database;
}

function prepare(path: string, write: FileWrite): PreparedWrite {
  const database = connection(path);
  // IMMEDIATE: take the file's write lock now, so that the generation read below stays true.
  database.exec('BEGIN IMMEDIATE');
  try {
    const generation = advanceGeneration(database);
    if (write.kind === 'delete') {
      return { ...deleteDocument(database, write.id, write.dimensions !== null), generation };
    }
    return { ...writeDocuments(database, write.documents, write.dimensions), deleted: false, generation };
  } catch (error) {
    database.exec('ROLLBACK');
    throw error;
  }
}

function commit(path: string): void {
  const database = connection(path);
  try {
    database.exec('COMMIT');
  } catch (error) {
    if (database.inTransaction) database.exec('ROLLBACK');
    throw error;
  }
}
