import type Database from 'better-sqlite3';

/**
 * The embedded store's tables. `chunks_fts` holds the analysed terms of each chunk (not its text,
 * which lives in `chunks`), so it is contentless; `contentless_delete` lets a chunk's row be
 * removed by rowid. The vector table is created once the embedding dimensions are known.
 */
export const schemaVersion = 2;

const tables = `
  CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) STRICT;

  CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,
    title TEXT,
    source TEXT,
    metadata TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    revision_hash TEXT NOT NULL,
    chunk_count INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    chunk_index INTEGER NOT NULL,
    content TEXT NOT NULL,
    start_offset INTEGER NOT NULL,
    end_offset INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    location TEXT
  ) STRICT;

  CREATE INDEX IF NOT EXISTS chunks_by_document ON chunks(document_id, chunk_index);

  CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    title, body, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0'
  );
`;

/**
 * Creates the tables of a new file, or brings an older file's up to this version. One immediate
 * transaction, so that two processes opening one file (the CLI beside a server) migrate it once.
 */
export function migrate(database: Database.Database): void {
  database
    .transaction(() => {
      database.exec(tables);
      const stored = database.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get() as
        | string
        | undefined;
      if (stored !== undefined && Number(stored) > schemaVersion) {
        throw new Error(
          `The store was written by a newer ragql (schema version ${stored}; this one knows ${schemaVersion}). Upgrade ragql.`,
        );
      }
      // Version 2: each chunk's pages and section path (see stores/chunk-location.ts).
      if (stored === '1') database.exec('ALTER TABLE chunks ADD COLUMN location TEXT');
      database
        .prepare(
          "INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .run(String(schemaVersion));
    })
    .immediate();
}

export function createVectorTable(database: Database.Database, dimensions: number): void {
  database.exec(
    `CREATE VIRTUAL TABLE IF NOT EXISTS chunk_vectors USING vec0(embedding float[${dimensions}] distance_metric=cosine)`,
  );
}
