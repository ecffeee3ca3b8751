/**
 * The same searches on the same corpus in PostgreSQL + pgvector: written through PostgresStore,
 * then every mode timed in process and through a ragql of its own, as on the embedded store.
 */
import pg from 'pg';
import { PostgresStore } from '../../src/stores/postgres/postgres-store.ts';
import { openBenchStore } from '../support/bench-store.ts';
import { startBenchServer } from './bench-server.ts';
import { type Workload, writeCorpus } from './corpus.ts';
import { measureBothPaths } from './over-http.ts';
import type { PairedRun } from './runs.ts';
import { searchModes } from './search-modes.ts';

export interface PostgresRun {
  description: string;
  ingestChunksPerSecond: number;
  graphqlUrl: string;
  /** One run per search mode, in `searchModes` order. */
  paired: PairedRun[];
}

export async function measureOnPostgres(workload: Workload): Promise<PostgresRun> {
  const target = await openBenchStore('postgres');
  const connectionString = target.environment.DATABASE_URL ?? String(process.env.DATABASE_URL);
  const store = new PostgresStore({ connectionString });
  try {
    console.log(`\nPostgreSQL: ${target.description}`);
    console.log(
      'ingestion into PostgreSQL: upsertDocuments through PostgresStore, the same documents and vectors',
    );
    const { documents, ingestChunksPerSecond } = await writeCorpus(store, workload);
    await analyze(connectionString);
    const server = await startBenchServer(store, workload.queryEmbedder);
    try {
      const paired: PairedRun[] = [];
      for (const mode of searchModes) {
        process.stderr.write(`  ... measuring ${mode.name} search on PostgreSQL\n`);
        paired.push(
          await measureBothPaths(documents, server.graphqlUrl, mode, workload.warmup, workload.measured),
        );
      }
      return {
        description: target.description,
        ingestChunksPerSecond,
        graphqlUrl: server.graphqlUrl,
        paired,
      };
    } finally {
      await server.close();
    }
  } finally {
    await store.close();
    await target.stop();
  }
}

/**
 * Gathers the planner's statistics, as a server's autovacuum does soon after a bulk load. PGlite
 * runs no autovacuum: without statistics its planner takes the tenant condition for selective and
 * sorts every chunk by distance instead of walking the HNSW index.
 */
async function analyze(connectionString: string): Promise<void> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    await client.query('ANALYZE');
  } finally {
    await client.end();
  }
}
