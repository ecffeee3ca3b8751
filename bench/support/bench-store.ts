/**
 * The store a benchmark runs on, chosen by `--store`: the embedded store (the default), Weaviate
 * (WEAVIATE_URL's), PostgreSQL (DATABASE_URL's, or else PGlite with pgvector on a free loopback
 * port, as the tests run it), or Pinecone (PINECONE_API_KEY and PINECONE_INDEX_HOST's, or else the
 * tests' stand-in, which scores exactly as Pinecone documents but says nothing of its speed). Gives
 * the variables that point ragql at it, and what stops it.
 */
import { startPineconeStandin } from '../../test/support/pinecone-standin.ts';
import { startTestPostgres } from '../../test/support/postgres.ts';

export const benchStores = ['embedded', 'weaviate', 'postgres', 'pinecone'] as const;
export type BenchStoreKind = (typeof benchStores)[number];

export interface BenchStore {
  /** RAGQL_STORE and what the store needs, to lay over the process's environment. */
  environment: Record<string, string>;
  /** Where the store is, for the report. */
  description: string;
  stop(): Promise<void>;
}

export function benchStoreKind(value: string | undefined): BenchStoreKind {
  const kind = value ?? 'embedded';
  if (!(benchStores as readonly string[]).includes(kind)) {
    throw new Error(`--store takes ${benchStores.join(', ')}; got ${kind}`);
  }
  return kind as BenchStoreKind;
}

export interface BenchStoreOptions {
  /** The vectors' width, for a store made for the run (a Pinecone index has one). @default 8, keyword-only */
  dimensions?: number;
}

export async function openBenchStore(
  kind: BenchStoreKind,
  options: BenchStoreOptions = {},
): Promise<BenchStore> {
  if (kind === 'embedded')
    return { environment: {}, description: 'the embedded store', stop: async () => {} };
  if (kind === 'weaviate') {
    if (!process.env.WEAVIATE_URL) throw new Error('--store weaviate needs WEAVIATE_URL');
    return {
      environment: { RAGQL_STORE: 'weaviate' },
      description: process.env.WEAVIATE_URL,
      stop: async () => {},
    };
  }
  if (kind === 'pinecone') return openPinecone(options.dimensions ?? 8);
  if (process.env.DATABASE_URL) {
    return { environment: { RAGQL_STORE: 'postgres' }, description: 'DATABASE_URL', stop: async () => {} };
  }
  const postgres = await startTestPostgres();
  return {
    environment: { RAGQL_STORE: 'postgres', DATABASE_URL: postgres.url },
    description: 'PGlite with pgvector (PostgreSQL 18 in WebAssembly, one session)',
    stop: () => postgres.stop(),
  };
}

async function openPinecone(dimensions: number): Promise<BenchStore> {
  if (process.env.PINECONE_API_KEY && process.env.PINECONE_INDEX_HOST) {
    return {
      environment: { RAGQL_STORE: 'pinecone' },
      description: process.env.PINECONE_INDEX_HOST,
      stop: async () => {},
    };
  }
  const standin = await startPineconeStandin({ dimension: dimensions });
  return {
    environment: {
      RAGQL_STORE: 'pinecone',
      PINECONE_API_KEY: standin.apiKey,
      PINECONE_INDEX_HOST: standin.host,
    },
    description: "the Pinecone stand-in of the tests (its scores are exact; its speed is not Pinecone's)",
    stop: () => standin.close(),
  };
}
