/**
 * ragql with RAGQL_STORE=pinecone, end to end over GraphQL, on the Pinecone stand-in through the
 * real SDK; and a ragql started while Pinecone cannot be reached, which must start, say why it is
 * not ready, refuse requests with UPSTREAM_UNAVAILABLE, and serve by itself once Pinecone answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IngestDocumentsDocument, SearchDocument } from '../generated/graphql.ts';
import { freePort } from '../support/free-port.ts';
import { dataOf } from '../support/graphql-client.ts';
import { type PineconeStandin, startPineconeStandin } from '../support/pinecone-standin.ts';
import { withStandinEmbeddings } from '../support/ragql-environment.ts';
import { endToEndDocuments, storeEndToEndCases } from '../support/store-end-to-end.ts';
import { useRagql } from '../support/use-ragql.ts';
import { useOpenAIStandin, usePineconeStandin } from '../support/use-standin.ts';

describe('the GraphQL API on Pinecone', () => {
  const standin = useOpenAIStandin({ dimensions: 64 });
  const pinecone = usePineconeStandin({ dimension: 64 });
  const ragql = useRagql(() => ({
    RAGQL_STORE: 'pinecone',
    PINECONE_API_KEY: pinecone.apiKey,
    PINECONE_INDEX_HOST: pinecone.host,
    ...withStandinEmbeddings(standin, 64),
  }));

  storeEndToEndCases('pinecone', ragql, standin);
});

describe('ragql while Pinecone cannot be reached', () => {
  let port: number;
  let pinecone: PineconeStandin | undefined;
  beforeAll(async () => {
    port = await freePort();
  });
  afterAll(async () => {
    await pinecone?.close();
  });
  const ragql = useRagql(() => ({
    RAGQL_STORE: 'pinecone',
    PINECONE_API_KEY: 'pinecone-standin-key',
    PINECONE_INDEX_HOST: `http://127.0.0.1:${port}`,
  }));

  it('starts, says why it is not ready, refuses requests as unavailable, and serves once Pinecone answers', async () => {
    const readyz = new URL('/readyz', ragql.server.graphqlUrl);
    const notReady = await fetch(readyz);
    expect(notReady.status).toBe(503);
    expect(await notReady.text()).toMatch(/Pinecone at http:\/\/127\.0\.0\.1:\d+ cannot be reached/);

    const refused = await ragql.execute(IngestDocumentsDocument, { documents: endToEndDocuments });
    expect(refused.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');

    pinecone = await startPineconeStandin({ port, dimension: 8 });
    await expect.poll(async () => (await fetch(readyz)).status, { timeout: 15_000 }).toBe(200);
    const ingested = dataOf(await ragql.execute(IngestDocumentsDocument, { documents: endToEndDocuments }));
    expect(ingested.ingestDocuments.created).toBe(endToEndDocuments.length);
    const { search } = dataOf(await ragql.execute(SearchDocument, { query: 'sourdough' }));
    expect(search.hits.map((hit) => hit.chunk.document.id)).toEqual(['bread']);
  });
});
