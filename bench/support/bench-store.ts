/**
 * The store a benchmark runs on, chosen by `--store`: the embedded store (the default), Weaviate
 * (WEAVIATE_URL's), or PostgreSQL (DATABASE_URL's, or else PGlite with pgvector on a free loopback
 * port, as the tests run it). Gives the variables that point ragql at it, and what stops it.
 */
import { startTestPostgres } from '../../test/support/postgres.ts';

export const benchStores = ['embedded', 'weaviate', 'postgres'] as const;
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

export async function openBenchStore(kind: BenchStoreKind): Promise<BenchStore> {
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
