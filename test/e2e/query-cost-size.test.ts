/**
 * The query cost counts what a search returns, not only its fields: hits, the chunks each hit
 * spans (a parent-document window), reranker candidates, variables included; so that a tier's
 * maximum bounds the size of the response.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/access/api-keys.ts';
import { defaultTiers } from '../../src/access/tiers.ts';
import { writeConfigFile } from '../support/config-file.ts';
import { useRagql } from '../support/use-ragql.ts';

const free = createApiKey();
const pro = createApiKey();
const hitFields = 'score chunk { id content document { id title } }';
/** The widest parent-document searches, fifteen times (at window 50: 6.8 MB per alias, before). */
const widestParentDocuments = `query Widest { ${Array.from(
  { length: 15 },
  (_, index) =>
    `p${index}: search(query: "tides", limit: 200, retriever: { name: "parent-document", options: { window: 20 } }) { hits { ${hitFields} } }`,
).join(' ')} }`;

interface Response {
  status: number;
  bytes: number;
  body: {
    data?: Record<string, { hits: { chunk: { content: string } }[] }> | null;
    errors?: { message: string; extensions: Record<string, unknown> }[];
  };
}

describe('query cost by the size of what a search returns', () => {
  const post = async (key: string, query: string, variables?: Record<string, unknown>): Promise<Response> => {
    const response = await fetch(ragql.server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables }),
    });
    const text = await response.text();
    return { status: response.status, bytes: text.length, body: JSON.parse(text) as Response['body'] };
  };
  const expectRefused = (response: Response, tier: 'free' | 'pro') => {
    expect(response.status).toBe(400);
    expect(response.body.data ?? null).toBeNull();
    expect(response.body.errors?.[0]?.extensions).toMatchObject({
      code: 'GRAPHQL_VALIDATION_FAILED',
      maxQueryCost: defaultTiers[tier].maxQueryCost,
    });
    expect(response.body.errors?.[0]?.message).toContain(`${tier} tier`);
  };
  const expectServed = (response: Response) => {
    expect(response.body.errors).toBeUndefined();
    expect(response.status).toBe(200);
  };

  const ragql = useRagql((dataDir) => ({
    RAGQL_AUTH: 'on',
    // Small chunks: documents of many chunks, so that windows have neighbours to widen to.
    RAGQL_CHUNK_SIZE: '20',
    RAGQL_CHUNK_OVERLAP: '0',
    RAGQL_CONFIG_FILE: writeConfigFile(dataDir, {
      apiKeys: [
        { tenant: 'shared', tier: 'free', hash: free.hash },
        { tenant: 'shared', tier: 'pro', hash: pro.hash },
      ],
    }),
  }));
  beforeAll(async () => {
    const sentences = Array.from(
      { length: 300 },
      (_, index) => `Sentence ${index} says that the tides follow the moon around the earth.`,
    );
    const ingest = await post(
      pro.key,
      'mutation Ingest($documents: [DocumentInput!]!) { ingestDocuments(documents: $documents) { created } }',
      {
        documents: Array.from({ length: 4 }, (_, index) => ({
          id: `long-${index}`,
          content: sentences.join(' '),
        })),
      },
    );
    expectServed(ingest);
  });

  it('refuses fifteen widest parent-document searches to the free tier and to the pro tier', async () => {
    expectRefused(await post(free.key, widestParentDocuments), 'free');
    expectRefused(await post(pro.key, widestParentDocuments), 'pro');
  });

  it('counts a window and a limit given in variables as written inline', async () => {
    const query = `query Wide($limit: Int, $retriever: RetrieverRef) { search(query: "tides", limit: $limit, retriever: $retriever) { hits { ${hitFields} } } }`;
    const narrow = { limit: 10, retriever: { name: 'parent-document', options: { window: 1 } } };
    expectServed(await post(free.key, query, narrow));
    expectRefused(
      await post(free.key, query, {
        limit: 200,
        retriever: { name: 'parent-document', options: { window: 20 } },
      }),
      'free',
    );
  });

  it('still serves an ordinary search to the free tier, and a larger one to a tier that allows more', async () => {
    const search = (limit: number) =>
      `query Ordinary { search(query: "tides", limit: ${limit}) { mode hits { score scores { keyword vector fused } ${hitFields} } } }`;
    const ordinary = await post(free.key, search(10));
    expectServed(ordinary);
    expect(ordinary.body.data?.search?.hits).toHaveLength(10);
    expectRefused(await post(free.key, search(200)), 'free');
    const large = await post(pro.key, search(200));
    expectServed(large);
    expect(large.body.data?.search?.hits).toHaveLength(200);
  });

  it('counts the candidates a reranker is given', async () => {
    const reranked = (candidates: number) =>
      `query Reranked { search(query: "tides", limit: 5, reranker: { name: "mmr", candidates: ${candidates} }) { hits { ${hitFields} } } }`;
    expectServed(await post(free.key, reranked(20)));
    expectRefused(await post(free.key, reranked(1000)), 'free');
  });

  it('counts a page size given in a variable as armor counts one written inline', async () => {
    const page = (first: string) =>
      `documents(first: ${first}) { edges { node { id title source metadata } } }`;
    expectRefused(await post(free.key, `query Page { ${page('100')} }`), 'free');
    const query = `query Page($first: Int) { ${page('$first')} }`;
    expectRefused(await post(free.key, query, { first: 100 }), 'free');
    expectServed(await post(free.key, query, { first: 2 }));
  });

  it('bounds a whole-document parent to the widest window around its match', async () => {
    const response = await post(
      pro.key,
      `query Whole { search(query: "tides", limit: 1, retriever: { name: "parent-document", options: { wholeDocument: true } }) { hits { chunk { id content } } } }`,
    );
    expectServed(response);
    const [hit] = (response.body.data?.search?.hits ?? []) as unknown as { chunk: { id: string } }[];
    // A span of chunks is named `<document>#<first index>..<last index>`.
    const [, first, last] = /#(\d+)\.\.(\d+)$/.exec(hit?.chunk.id ?? '') ?? [];
    const span = Number(last) - Number(first) + 1;
    expect(span).toBeLessThanOrEqual(41);
    expect(span).toBeGreaterThan(20);
  });
});
