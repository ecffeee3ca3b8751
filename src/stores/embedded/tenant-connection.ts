import Database from 'better-sqlite3';
import * as sqliteVec from 'sqlite-vec';

/**
 * A connection to a tenant's file, set up the same way on the event loop (which reads) and on the
 * write thread (which writes).
 */
export function openTenantConnection(path: string): Database.Database {
  const database = new Database(path);
  // WAL lets the event loop's reads go on while the write thread writes, each reading the last
  // commit; NORMAL sync survives a process crash (not a power cut).
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  // Vector search reads every stored vector; memory-mapped reads halve its time at 100k chunks.
  database.pragma('mmap_size = 1073741824');
  sqliteVec.load(database);
  return database;
}
