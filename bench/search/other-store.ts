/**
 * The same searches on the same corpus in another store: PostgreSQL + pgvector, or Pinecone.
 * Written through the store's engine, then every mode timed in process and through a ragql of
 * its own, as on the embedded store.
 */
import pg from 'pg';
import type { StoreEngine } from '../../src/ports.ts';
import { PineconeStore } from '../../src/stores/pinecone/pinecone-store.ts';
import { PostgresStore } from '../../src/stores/postgres/postgres-store.ts';
import { type BenchStore, openBenchStore } from '../support/bench-store.ts';
import { startBenchServer } from './bench-server.ts';
import { type Workload, writeCorpus } from './corpus.ts';
import { measureBothPaths } from './over-http.ts';
import type { PairedRun } from './runs.ts';
import { searchModes } from './search-modes.ts';

export type OtherStoreKind = 'postgres' | 'pinecone';

export interface StoreRun {
  kind: OtherStoreKind;
  /** The store as the report names it: "PostgreSQL", "Pinecone". */
  label: string;
  description: string;
  ingestChunksPerSecond: number;
  graphqlUrl: string;
  /** One run per search mode, in `searchModes` order. */
  paired: PairedRun[];
}

const labels: Record<OtherStoreKind, string> = { postgres: 'PostgreSQL', pinecone: 'Pinecone' };

export async function measureOnStore(kind: OtherStoreKind, workload: Workload): Promise<StoreRun> {
  const target = await openBenchStore(kind, { dimensions: workload.queryEmbedder.dimensions });
  const store = engineOn(kind, target);
  const label = labels[kind];
  try {
    console.log(`\n${label}: ${target.description}`);
    console.log(`ingestion into ${label}: upsertDocuments, the same documents and vectors`);
    const { documents, ingestChunksPerSecond } = await writeCorpus(store, workload);
    if (kind === 'postgres') await analyze(target);
    const server = await startBenchServer(store, workload.queryEmbedder);
    try {
      const paired: PairedRun[] = [];
      for (const mode of searchModes) {
        process.stderr.write(`  ... measuring ${mode.name} search on ${label}\n`);
        paired.push(
          await measureBothPaths(documents, server.graphqlUrl, mode, workload.warmup, workload.measured),
        );
      }
      return {
        kind,
        label,
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

function engineOn(kind: OtherStoreKind, target: BenchStore): StoreEngine {
  const environment = { ...process.env, ...target.environment };
  if (kind === 'postgres') return new PostgresStore({ connectionString: String(environment.DATABASE_URL) });
  return new PineconeStore({
    apiKey: String(environment.PINECONE_API_KEY),
    indexHost: String(environment.PINECONE_INDEX_HOST),
  });
}

/**
 * Gathers the planner's statistics, as a server's autovacuum does soon after a bulk load. PGlite
 * runs no autovacuum: without statistics its planner takes the tenant condition for selective and
 * sorts every chunk by distance instead of walking the HNSW index.
 */
async function analyze(target: BenchStore): Promise<void> {
  const client = new pg.Client({
    connectionString: target.environment.DATABASE_URL ?? String(process.env.DATABASE_URL),
  });
  await client.connect();
  try {
    await client.query('ANALYZE');
  } finally {
    await client.end();
  }
}
