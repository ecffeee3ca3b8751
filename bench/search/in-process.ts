/** Searching the store directly, as a caller in the same process does, and the exact scan vector search is held to. */
import Database from 'better-sqlite3';
import * as sqliteVec from 'sqlite-vec';
import type { Filter, TenantStore } from '../../src/ports.ts';
import { type Timed, timed } from '../support/latency.ts';
import type { BenchQuery } from '../support/synthetic-corpus.ts';
import { type MeasuredRun, toMeasuredRun } from './runs.ts';
import { hitsPerSearch, hybridAlpha } from './search-modes.ts';

/** One store search; returns the hits' chunk ids. */
export async function searchStore(
  store: TenantStore,
  query: BenchQuery,
  alpha: number,
  filter: Filter,
): Promise<string[]> {
  const hits = await store.search({
    text: query.text,
    vector: alpha === 0 ? undefined : query.vector,
    alpha,
    fusion: 'relativeScore',
    limit: hitsPerSearch,
    filter,
  });
  return hits.map((hit) => hit.chunk.id);
}

export async function measureFilteredHybrid(
  store: TenantStore,
  warmup: readonly BenchQuery[],
  measured: readonly BenchQuery[],
): Promise<MeasuredRun> {
  const search = (query: BenchQuery) => searchStore(store, query, hybridAlpha, topicFilter(query));
  for (const query of warmup) await search(query);
  const runs: Timed<string[]>[] = [];
  for (const query of measured) runs.push(await timed(() => search(query)));
  return toMeasuredRun(runs);
}

function topicFilter(query: BenchQuery): Filter {
  return [{ field: 'metadata.topic', operator: 'eq', value: query.topic }];
}

/**
 * The true nearest chunks of each query, the truth vector search is measured against: sqlite-vec's
 * exact k-nearest scan over the same stored vectors, through a connection of its own.
 */
export function exactNearest(storePath: string, queries: readonly BenchQuery[]): string[][] {
  const database = new Database(storePath, { readonly: true });
  try {
    sqliteVec.load(database);
    const nearest = database.prepare(
      `SELECT c.id FROM chunk_vectors v JOIN chunks c ON c.rowid = v.rowid
       WHERE v.embedding MATCH ? AND k = ${hitsPerSearch} ORDER BY v.distance`,
    );
    return queries.map(
      (query) =>
        nearest
          .pluck()
          .all(
            Buffer.from(query.vector.buffer, query.vector.byteOffset, query.vector.byteLength),
          ) as string[],
    );
  } finally {
    database.close();
  }
}
