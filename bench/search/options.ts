/** The search benchmark's command line, read once and checked. */
import { parseArgs } from 'node:util';

export interface BenchOptions {
  chunks: number;
  dimensions: number;
  queries: number;
  /** Also measure hybrid search on Weaviate. */
  weaviate: boolean;
  /** Also measure every mode on PostgreSQL + pgvector (DATABASE_URL's, or PGlite). */
  postgres: boolean;
  /** Also measure every mode on Pinecone (PINECONE_INDEX_HOST's, or the tests' stand-in). */
  pinecone: boolean;
}

export function readOptions(): BenchOptions {
  const { values } = parseArgs({
    options: {
      chunks: { type: 'string', default: '100000' },
      dimensions: { type: 'string', default: '384' },
      queries: { type: 'string', default: '200' },
      weaviate: { type: 'boolean', default: false },
      postgres: { type: 'boolean', default: false },
      pinecone: { type: 'boolean', default: false },
    },
  });
  return {
    chunks: positiveInteger('--chunks', values.chunks),
    dimensions: positiveInteger('--dimensions', values.dimensions),
    queries: positiveInteger('--queries', values.queries),
    weaviate: values.weaviate,
    postgres: values.postgres,
    pinecone: values.pinecone,
  };
}

function positiveInteger(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a positive integer, got ${text}`);
  return value;
}
