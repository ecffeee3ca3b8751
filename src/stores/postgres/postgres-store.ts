import pg from 'pg';
import { RagqlError } from '../../errors.ts';
import {
  type EmbeddingSpace,
  type StoreEngine,
  type StoreReadiness,
  sameSpace,
  type TenantStore,
} from '../../ports.ts';
import { spaceMismatch } from '../embedding-space-guard.ts';
import { defaultHybridCandidates } from '../keyed-search.ts';
import { assertTenantName } from '../tenant-name.ts';
import { migrate } from './migrations.ts';
import { PostgresConnection, type PostgresConnectionOptions, type Queryable } from './postgres-connection.ts';
import { PostgresTenantStore } from './postgres-tenant-store.ts';
import { type PostgresTables, tablesIn } from './tables.ts';

/** The widest vectors pgvector's HNSW index takes. */
const hnswMaxDimensions = 2000;

export interface PostgresStoreOptions extends PostgresConnectionOptions {
  /** The schema the store's tables are in, created when missing. @default the connection's own, as its search path finds it */
  schema?: string;
  /**
   * Candidates each retriever contributes to a hybrid fusion, when the limit is smaller.
   * @default `defaultHybridCandidates`, as on the embedded store
   */
  hybridCandidates?: number;
}

/**
 * The PostgreSQL + pgvector store: every tenant's documents in one database, in tables that name
 * the tenant in every row (migrations.ts), vectors in a `vector(n)` column with an HNSW index,
 * and BM25 over ragql's own analysed terms (bm25.ts). ragql creates what it needs on first use;
 * a server that cannot be reached does not stop it: requests fail with UPSTREAM_UNAVAILABLE, the
 * schema and the embedding space are checked once PostgreSQL answers, and ragql serves from then on.
 */
export class PostgresStore implements StoreEngine {
  readonly kind = 'postgres';
  private readonly connection: PostgresConnection;
  private readonly hybridCandidates: number;
  /** The schema of the store's generation; undefined: the connection's own. */
  private readonly schema: string | undefined;
  private readonly tables: PostgresTables;
  /** undefined until bound: keyword-only is null. */
  private space: EmbeddingSpace | null | undefined;
  /** The schema migrated and the space bound, once; forgotten when it failed, to be tried again. */
  private preparation: Promise<EmbeddingSpace | null> | undefined;

  constructor(options: PostgresStoreOptions) {
    this.connection = new PostgresConnection(options);
    this.schema = options.schema;
    this.tables = tablesIn(options.schema);
    this.hybridCandidates = options.hybridCandidates ?? defaultHybridCandidates;
  }

  async bindEmbeddingSpace(space: EmbeddingSpace | null): Promise<void> {
    this.space = space;
    this.preparation = undefined;
    await this.ready();
  }

  forTenant(tenant: string): TenantStore {
    assertTenantName(tenant);
    return new PostgresTenantStore(tenant, {
      connection: this.connection,
      tables: this.tables,
      ready: () => this.ready(),
      hybridCandidates: this.hybridCandidates,
    });
  }

  async readiness(): Promise<StoreReadiness> {
    const reason = await this.connection.unavailability();
    if (reason !== null) return { ready: false, reason };
    try {
      await this.ready();
      return { ready: true };
    } catch (error) {
      return { ready: false, reason: (error as Error).message };
    }
  }

  close(): Promise<void> {
    return this.connection.close();
  }

  /** The bound space, after the schema is in place and the space recorded (once per process). */
  private ready(): Promise<EmbeddingSpace | null> {
    if (this.space === undefined) {
      return Promise.reject(new Error('The PostgreSQL store is used before bindEmbeddingSpace.'));
    }
    const space = this.space;
    this.preparation ??= this.prepare(space).catch((error: unknown) => {
      this.preparation = undefined;
      throw error;
    });
    return this.preparation;
  }

  private async prepare(space: EmbeddingSpace | null): Promise<EmbeddingSpace | null> {
    const { tables } = this;
    if (this.schema !== undefined) {
      await this.connection.query(
        'create the schema',
        `CREATE SCHEMA IF NOT EXISTS ${pg.escapeIdentifier(this.schema)}`,
      );
    }
    await migrate(this.connection, tables);
    await this.connection.transaction('record the embedding space', async (client) => {
      // Taken by every process binding a space, so two replicas never alter the column together.
      await client.query("SELECT pg_advisory_xact_lock(hashtext('ragql embedding space'))");
      const stored = await storedSpace(client, tables);
      if (stored !== undefined && sameSpace(stored, space)) return;
      const chunks = await client.query<{ count: string }>(`SELECT count(*) AS count FROM ${tables.chunks}`);
      const chunkCount = Number(chunks.rows[0]?.count ?? 0);
      if (stored !== undefined && chunkCount > 0) {
        throw spaceMismatch({
          holder: `The PostgreSQL database at ${this.connection.address}`,
          stored,
          configured: space,
          chunkCount,
          freshStart: 'point DATABASE_URL at a new database',
        });
      }
      await client.query(`ALTER TABLE ${tables.chunks} DROP COLUMN IF EXISTS embedding`);
      if (space) {
        // The width is ragql's own number, not input: a column type takes no parameter.
        await client.query(
          `ALTER TABLE ${tables.chunks} ADD COLUMN embedding vector(${dimensionsOf(space)})`,
        );
        // pgvector's HNSW indexes vectors of up to 2,000 dimensions; wider ones are scanned exactly.
        if (space.dimensions <= hnswMaxDimensions) {
          await client.query(
            `CREATE INDEX ragql_chunks_embedding ON ${tables.chunks} USING hnsw (embedding vector_cosine_ops)`,
          );
        }
      }
      await client.query(
        `INSERT INTO ${tables.meta} (key, value) VALUES ('embedding_space', $1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
        [JSON.stringify(space)],
      );
    });
    return space;
  }
}

/** The space the database's vectors were made in: null for keyword-only, undefined if never bound. */
async function storedSpace(
  client: Queryable,
  tables: PostgresTables,
): Promise<EmbeddingSpace | null | undefined> {
  const rows = await client.query<{ value: EmbeddingSpace | null }>(
    `SELECT value FROM ${tables.meta} WHERE key = 'embedding_space'`,
  );
  return rows.rows.length === 0 ? undefined : (rows.rows[0]?.value ?? null);
}

function dimensionsOf(space: EmbeddingSpace): number {
  if (!Number.isInteger(space.dimensions) || space.dimensions < 1 || space.dimensions > 16_000) {
    throw new RagqlError(
      'BAD_USER_INPUT',
      `pgvector stores 1 to 16,000 dimensions; got ${space.dimensions}.`,
    );
  }
  return space.dimensions;
}
