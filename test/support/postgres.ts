/**
 * A real PostgreSQL with pgvector for the tests, reached over the wire protocol with `pg` as ragql
 * reaches any server. By default PGlite (PostgreSQL compiled to WebAssembly, with pgvector loaded
 * from its own package) served on a free loopback port by pglite-socket, one per test file; with
 * RAGQL_TEST_DATABASE_URL set, that server instead, each test file in a schema of its own. PGlite
 * runs in a process of its own (pglite-process.ts).
 */

import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { allTables, tablesIn } from '../../src/stores/postgres/tables.ts';
import { useRunning } from './use-running.ts';

export interface TestPostgres {
  /** What DATABASE_URL would be. */
  url: string;
  /** Removes everything ragql created, so the next store starts from an empty database. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export interface TestPostgresOptions {
  /** Where PGlite listens (a test that starts it late, on a port ragql was pointed at). @default any free port */
  port?: number;
}

/** One test PostgreSQL for the tests of the calling describe block (see `useRunning`). */
export function usePostgres(): TestPostgres {
  return useRunning(
    'the test PostgreSQL',
    () => startTestPostgres(),
    (postgres) => postgres.stop(),
  );
}

export async function startTestPostgres(options: TestPostgresOptions = {}): Promise<TestPostgres> {
  const external = process.env.RAGQL_TEST_DATABASE_URL;
  return external && options.port === undefined ? inSchemaOf(external) : startPglite(options.port ?? 0);
}

async function startPglite(port: number): Promise<TestPostgres> {
  const child = fork(fileURLToPath(new URL('./pglite-process.ts', import.meta.url)), [String(port)], {
    execPath: process.execPath,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const { url } = await new Promise<{ url: string }>((resolve, reject) => {
    child.once('message', (message) => resolve(message as { url: string }));
    child.once('error', reject);
    child.once('exit', (code) =>
      reject(new Error(`the PGlite process exited with ${code} before it listened`)),
    );
  });
  return {
    url,
    reset: () => dropRagqlTables(url),
    stop: async () => {
      child.send('stop');
      await exited;
    },
  };
}

async function inSchemaOf(baseUrl: string): Promise<TestPostgres> {
  const schema = `ragql_test_${randomBytes(6).toString('hex')}`;
  await withClient(baseUrl, (client) => client.query(`CREATE SCHEMA ${schema}`));
  const url = new URL(baseUrl);
  // pgvector's type stays reachable in public, where CREATE EXTENSION put it.
  url.searchParams.set('options', `-c search_path=${schema},public`);
  return {
    url: url.toString(),
    reset: () => dropRagqlTables(url.toString()),
    stop: async () => {
      await dropRagqlTables(url.toString());
      await withClient(baseUrl, (client) => client.query(`DROP SCHEMA ${schema} CASCADE`));
    },
  };
}

/** Drops generation 0's tables, the record of generations and the other generations' schemas. */
function dropRagqlTables(url: string): Promise<void> {
  return withClient(url, async (client) => {
    await client.query(
      `DROP TABLE IF EXISTS ${allTables(tablesIn(undefined)).join(', ')}, ragql_generations CASCADE`,
    );
    const schemas = await client.query<{ name: string }>(
      "SELECT nspname AS name FROM pg_namespace WHERE starts_with(nspname, current_schema() || '_generation_')",
    );
    for (const { name } of schemas.rows)
      await client.query(`DROP SCHEMA ${client.escapeIdentifier(name)} CASCADE`);
  });
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
