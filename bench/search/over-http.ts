/**
 * Searching through ragql's GraphQL API over HTTP on loopback, paired query by query with the
 * same search in process, and the bare HTTP round trip under any such API.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TenantStore } from '../../src/ports.ts';
import { type LatencySummary, summarizeLatencies, type Timed, timed } from '../support/latency.ts';
import { postJson } from '../support/post-json.ts';
import type { BenchQuery } from '../support/synthetic-corpus.ts';
import { searchStore } from './in-process.ts';
import { type PairedRun, toMeasuredRun } from './runs.ts';
import { hitsPerSearch, hybridAlpha, type SearchModeUnderTest } from './search-modes.ts';

/**
 * Runs every query in process and over GraphQL, one right after the other, alternating which
 * goes first so neither path gains from running second on warm caches.
 */
export async function measureBothPaths(
  store: TenantStore,
  url: string,
  mode: SearchModeUnderTest,
  warmup: readonly BenchQuery[],
  measured: readonly BenchQuery[],
): Promise<PairedRun> {
  const searchInProcess = (query: BenchQuery) => searchStore(store, query, mode.alpha, []);
  const searchOverGraphql = (query: BenchQuery) => searchOverHttp(url, query.text, mode);
  for (const query of warmup) {
    await searchInProcess(query);
    await searchOverGraphql(query);
  }
  const local: Timed<string[]>[] = [];
  const remote: Timed<string[]>[] = [];
  for (const [position, query] of measured.entries()) {
    if (position % 2 === 0) {
      local.push(await timed(() => searchInProcess(query)));
      remote.push(await timed(() => searchOverGraphql(query)));
    } else {
      remote.push(await timed(() => searchOverGraphql(query)));
      local.push(await timed(() => searchInProcess(query)));
    }
  }
  return {
    mode,
    inProcess: toMeasuredRun(local),
    overHttp: toMeasuredRun(remote),
    addedByGraphql: summarizeLatencies(
      remote.map((run, position) => run.milliseconds - (local[position]?.milliseconds ?? Number.NaN)),
    ),
  };
}

/**
 * The floor under any HTTP API on this machine: a bare node:http server answering a fixed body the
 * size of a search response, called with the same client and request body as the GraphQL
 * runs. What the GraphQL runs take beyond it is ragql's own.
 */
export async function measureBareHttpRoundTrip(
  warmupCount: number,
  count: number,
  /** Runs, untimed, before each round trip. */
  beforeEach?: (round: number) => Promise<unknown>,
): Promise<LatencySummary> {
  const responseBody = JSON.stringify({
    data: {
      search: {
        mode: 'HYBRID',
        hits: Array.from({ length: hitsPerSearch }, (_, index) => ({
          score: 0.5,
          chunk: { id: `doc#${index}` },
        })),
      },
    },
  });
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.setHeader('content-type', 'application/json');
      response.end(responseBody);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  const roundTrip = () =>
    postJson(url, { query: searchOperation, variables: { query: 'bare round trip', alpha: hybridAlpha } });
  try {
    for (let round = 0; round < warmupCount; round++) await roundTrip();
    const runs: Timed<unknown>[] = [];
    for (let round = 0; round < count; round++) {
      await beforeEach?.(round);
      runs.push(await timed(roundTrip));
    }
    return summarizeLatencies(runs.map((run) => run.milliseconds));
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

const searchOperation = `query BenchSearch($query: String!, $alpha: Float!) {
  search(query: $query, limit: ${hitsPerSearch}, alpha: $alpha) { mode hits { score chunk { id } } }
}`;

interface SearchResponse {
  data?: { search: { mode: string; hits: { score: number; chunk: { id: string } }[] } } | null;
  errors?: { message: string }[];
}

/** One search as a frontend sends it; returns the hits' chunk ids. */
async function searchOverHttp(url: string, text: string, mode: SearchModeUnderTest): Promise<string[]> {
  const response = await postJson(url, {
    query: searchOperation,
    variables: { query: text, alpha: mode.alpha },
  });
  const body = response.body as SearchResponse;
  if (response.status !== 200 || body.errors?.length || !body.data) {
    throw new Error(`GraphQL search failed (${response.status}): ${JSON.stringify(body.errors)}`);
  }
  if (body.data.search.mode !== mode.graphqlMode) {
    throw new Error(`GraphQL ran ${body.data.search.mode} where ${mode.graphqlMode} was asked`);
  }
  return body.data.search.hits.map((hit) => hit.chunk.id);
}
