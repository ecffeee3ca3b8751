import { RagqlError } from '../../errors.ts';
import { isUnreachable, type PostgresConnection, type Queryable } from './postgres-connection.ts';
import type { PostgresTables } from './tables.ts';

/**
 * ragql's tables in PostgreSQL, created on first start by versioned migrations recorded in
 * `ragql_migrations`. Every table holds all tenants, with a `tenant` column in each key, and every
 * statement the store issues names the tenant. Ids, titles and sources compare in the "C"
 * collation (code point order), as SQLite and Weaviate compare them, so that paging by id walks
 * the same order on every store.
 *
 * The vector column is not here: it is added when the store is bound to an embedding space, as
 * `vector(<dimensions>)` with an HNSW index (postgres-store.ts).
 */
const migrations: readonly { version: number; name: string; sql: (tables: PostgresTables) => string }[] = [
  {
    version: 1,
    name: 'documents, chunks and keyword terms',
    sql: (t) => `
      CREATE EXTENSION IF NOT EXISTS vector;

      CREATE TABLE ${t.meta} (
        key text PRIMARY KEY,
        value jsonb
      );

      CREATE TABLE ${t.documents} (
        tenant text COLLATE "C" NOT NULL,
        id text COLLATE "C" NOT NULL,
        title text COLLATE "C",
        source text COLLATE "C",
        metadata jsonb NOT NULL,
        content_hash text NOT NULL,
        revision_hash text NOT NULL,
        chunk_count integer NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (tenant, id)
      );

      CREATE TABLE ${t.chunks} (
        key bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        tenant text COLLATE "C" NOT NULL,
        id text COLLATE "C" NOT NULL,
        document_id text COLLATE "C" NOT NULL,
        chunk_index integer NOT NULL,
        content text NOT NULL,
        start_offset integer NOT NULL,
        end_offset integer NOT NULL,
        content_hash text NOT NULL,
        -- The chunk's length for BM25: its analysed terms, the document title's included.
        term_count integer NOT NULL,
        UNIQUE (tenant, id),
        FOREIGN KEY (tenant, document_id) REFERENCES ${t.documents} (tenant, id) ON DELETE CASCADE
      );
      CREATE INDEX ragql_chunks_by_document ON ${t.chunks} (tenant, document_id, chunk_index);

      -- BM25's postings: how often each analysed term occurs in each chunk, with the chunk's
      -- length and document beside it, so a keyword search scores (and filters) from the postings
      -- alone, reading the index only, and looks up chunks for the best hits only.
      CREATE TABLE ${t.chunkTerms} (
        tenant text COLLATE "C" NOT NULL,
        term text COLLATE "C" NOT NULL,
        chunk_key bigint NOT NULL REFERENCES ${t.chunks} (key) ON DELETE CASCADE,
        frequency integer NOT NULL,
        chunk_length integer NOT NULL,
        document_id text COLLATE "C" NOT NULL,
        PRIMARY KEY (tenant, term, chunk_key) INCLUDE (frequency, chunk_length, document_id)
      );
      CREATE INDEX ragql_chunk_terms_by_chunk ON ${t.chunkTerms} (chunk_key);

      -- BM25's collection statistics per tenant, kept in the transaction of every write.
      CREATE TABLE ${t.tenantStats} (
        tenant text COLLATE "C" PRIMARY KEY,
        chunk_count bigint NOT NULL,
        term_count bigint NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: "chunks' pages and section paths",
    // Each chunk's location in its file as stores/chunk-location.ts encodes it: read with the
    // chunk, never searched or filtered on, so no index. Chunks stored before read as nowhere.
    sql: (t) => `ALTER TABLE ${t.chunks} ADD COLUMN location text`,
  },
];

/** The newest schema this ragql knows. */
export const schemaVersion = Math.max(...migrations.map((migration) => migration.version));

/**
 * Brings the database to `schemaVersion`, each migration in its own transaction with its record.
 * An advisory lock makes replicas that start together take turns: the second finds the work done.
 * A database that a newer ragql migrated further is refused rather than written with an older
 * idea of its tables. `through` stops at an older version, as an older ragql left the database
 * (for the tests of an upgrade).
 */
export async function migrate(
  connection: PostgresConnection,
  tables: PostgresTables,
  through = schemaVersion,
): Promise<void> {
  for (const migration of migrations.filter(({ version }) => version <= through)) {
    await connection.transaction(`apply migration ${migration.version}`, async (client) => {
      await lockMigrations(client);
      // In the migration's transaction, so that a refused first migration leaves nothing behind.
      await client.query(`
        CREATE TABLE IF NOT EXISTS ${tables.migrations} (
          version integer PRIMARY KEY,
          name text NOT NULL,
          applied_at timestamptz NOT NULL DEFAULT now()
        )`);
      const applied = await client.query<{ version: number }>(
        `SELECT max(version) AS version FROM ${tables.migrations}`,
      );
      const current = applied.rows[0]?.version ?? 0;
      if (current > schemaVersion) {
        throw new RagqlError(
          'UPSTREAM_FAILED',
          `The database was migrated by a newer ragql (schema version ${current}; this one knows ${schemaVersion}). Upgrade ragql.`,
        );
      }
      if (current >= migration.version) return;
      try {
        await client.query(migration.sql(tables));
      } catch (error) {
        if (isUnreachable(error)) throw error;
        // PostgreSQL's reason is what the operator must act on ("permission denied to create
        // extension", "extension vector is not available"), and it holds no data.
        throw new RagqlError(
          'UPSTREAM_FAILED',
          `PostgreSQL refused ragql's schema migration ${migration.version} (${migration.name}): ${(error as Error).message}`,
        );
      }
      await client.query(`INSERT INTO ${tables.migrations} (version, name) VALUES ($1, $2)`, [
        migration.version,
        migration.name,
      ]);
    });
  }
}

/** Held until the transaction ends; the key is ragql's own (the bytes of "ragqlmig"). */
function lockMigrations(client: Queryable): Promise<unknown> {
  return client.query('SELECT pg_advisory_xact_lock(8241982529912793447)');
}
