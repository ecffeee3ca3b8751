import pg from 'pg';
import type { GenerationState, StoreGenerations } from '../../ports.ts';
import { firstGenerationState, parseGenerationState } from '../generation-record.ts';
import { PostgresConnection } from './postgres-connection.ts';
import { PostgresStore, type PostgresStoreOptions } from './postgres-store.ts';
import { allTables, tablesIn } from './tables.ts';

/** The record of the generations: one row, replaced in one statement. */
const recordTable = 'ragql_generations';

/** PostgreSQL's longest identifier, in bytes: a longer one is cut short without a word. */
const identifierMaxBytes = 63;

/**
 * The PostgreSQL store's generations: generation 0 is the tables in the connection's own schema
 * (where every store before generations kept them), generation n the same tables in the schema
 * `<that schema>_generation_<n>`, which its store's connections search first; two ragql
 * deployments in two schemas of one database keep apart. The record of which serves is a row of
 * `ragql_generations`, beside generation 0's tables.
 */
export class PostgresGenerations implements StoreGenerations {
  private readonly options: PostgresStoreOptions;
  private readonly connection: PostgresConnection;
  private baseSchema: Promise<string> | undefined;

  constructor(options: PostgresStoreOptions) {
    this.options = options;
    this.connection = new PostgresConnection({ ...options, maxConnections: 2 });
  }

  async read(): Promise<GenerationState> {
    const record = await this.recordTable();
    if (!(await this.exists(record))) return firstGenerationState;
    const rows = await this.connection.query<{ state: unknown }>(
      'read the generations',
      `SELECT state FROM ${record} WHERE id = 1`,
    );
    return rows[0] ? parseGenerationState(rows[0].state) : firstGenerationState;
  }

  async write(state: GenerationState): Promise<void> {
    const recorded = JSON.stringify(parseGenerationState(state));
    const record = await this.recordTable();
    await this.connection.transaction('record the generations', async (client) => {
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${record} (id integer PRIMARY KEY CHECK (id = 1), state jsonb NOT NULL)`,
      );
      await client.query(
        `INSERT INTO ${record} (id, state) VALUES (1, $1)
         ON CONFLICT (id) DO UPDATE SET state = excluded.state`,
        [recorded],
      );
    });
  }

  async open(generation: number): Promise<PostgresStore> {
    if (generation === 0) return new PostgresStore(this.options);
    return new PostgresStore({ ...this.options, schema: await this.schemaOf(generation) });
  }

  async tenants(generation: number): Promise<string[]> {
    const { documents } = await this.tablesOf(generation);
    if (!(await this.exists(documents))) return [];
    const rows = await this.connection.query<{ tenant: string }>(
      'list the tenants of a generation',
      `SELECT DISTINCT tenant FROM ${documents} ORDER BY tenant`,
    );
    return rows.map((row) => row.tenant);
  }

  async drop(generation: number): Promise<void> {
    if ((await this.read()).active === generation) {
      throw new Error(`Generation ${generation} serves: it cannot be dropped.`);
    }
    await this.connection.query(
      'drop a generation',
      generation === 0
        ? `DROP TABLE IF EXISTS ${allTables(await this.tablesOf(0)).join(', ')} CASCADE`
        : `DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(await this.schemaOf(generation))} CASCADE`,
    );
  }

  close(): Promise<void> {
    return this.connection.close();
  }

  /** A generation's tables, named with their schema, so that no other schema's on the search path is meant. */
  private async tablesOf(generation: number) {
    return tablesIn(await this.schemaOf(generation));
  }

  private async recordTable(): Promise<string> {
    return `${pg.escapeIdentifier(await this.schemaOf(0))}.${recordTable}`;
  }

  /** The schema of a generation: generation 0's is the connection's own, n's named after it. */
  private async schemaOf(generation: number): Promise<string> {
    this.baseSchema ??= this.connection
      .query<{ name: string | null }>('find the schema', 'SELECT current_schema() AS name')
      .then(([row]) => {
        if (!row?.name)
          throw new Error('PostgreSQL has no current schema: the search path names none that exists.');
        return row.name;
      });
    const baseSchema = this.baseSchema;
    baseSchema.catch(() => {
      if (this.baseSchema === baseSchema) this.baseSchema = undefined;
    });
    if (generation === 0) return baseSchema;
    const schema = `${await baseSchema}_generation_${generation}`;
    if (Buffer.byteLength(schema) > identifierMaxBytes) {
      throw new Error(
        `The schema of generation ${generation}, ${schema}, is longer than PostgreSQL's ${identifierMaxBytes} bytes.`,
      );
    }
    return schema;
  }

  private async exists(table: string): Promise<boolean> {
    const rows = await this.connection.query<{ present: boolean }>(
      'look for a table',
      'SELECT to_regclass($1) IS NOT NULL AS present',
      [table],
    );
    return rows[0]?.present === true;
  }
}
