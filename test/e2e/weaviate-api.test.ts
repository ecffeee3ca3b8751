/**
 * ragql with RAGQL_STORE=weaviate, end to end over GraphQL: ingest, search, answer and tenants
 * against the shared Weaviate; and a ragql started while its Weaviate is down, which must start,
 * say why it is not ready, refuse requests with UPSTREAM_UNAVAILABLE, and serve once Weaviate is up.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  AnswerDocument,
  DocumentsDocument,
  IngestDocumentsDocument,
  SearchDocument,
  ServerInfoDocument,
} from '../generated/graphql.ts';
import { dataOf } from '../support/graphql-client.ts';
import { withStandinEmbeddings } from '../support/ragql-environment.ts';
import { useRagql } from '../support/use-ragql.ts';
import { useOpenAIStandin } from '../support/use-standin.ts';
import {
  describeWithWeaviate,
  describeWithWeaviateBinary,
  uniqueCollectionName,
} from '../support/weaviate.ts';
import { allocateWeaviatePorts, startWeaviateNode, type WeaviateNode } from '../support/weaviate-node.ts';

const documents = [
  {
    id: 'solar',
    title: 'Solar power',
    content:
      'Photovoltaic panels convert sunlight into electricity. Inverters turn direct current into alternating current.',
    metadata: { topic: 'energy', year: 2021 },
  },
  {
    id: 'bread',
    title: 'Baking bread',
    content: 'Sourdough bread rises because wild yeast ferments the flour.',
    metadata: { topic: 'cooking', year: 2023 },
  },
];

function weaviateEnvironment(httpUrl: string, grpcAddress: string, prefix: string): Record<string, string> {
  return {
    RAGQL_STORE: 'weaviate',
    WEAVIATE_URL: httpUrl,
    WEAVIATE_GRPC_URL: grpcAddress,
    RAGQL_WEAVIATE_COLLECTION_PREFIX: prefix,
  };
}

describeWithWeaviate('the GraphQL API on Weaviate', (endpoint) => {
  const standin = useOpenAIStandin({ dimensions: 64 });

  const ragql = useRagql(() => ({
    ...weaviateEnvironment(endpoint.httpUrl, endpoint.grpcAddress, uniqueCollectionName('E2e')),
    ...withStandinEmbeddings(standin, 64),
  }));

  it('ingests, searches hybrid and answers with citations, and re-ingests unchanged content for free', async () => {
    expect(dataOf(await ragql.execute(ServerInfoDocument)).serverInfo.store).toBe('weaviate');
    const first = dataOf(await ragql.execute(IngestDocumentsDocument, { documents }));
    expect(first.ingestDocuments.created).toBe(2);
    const embeddingCalls = standin.requests.length;
    const again = dataOf(await ragql.execute(IngestDocumentsDocument, { documents }));
    expect(again.ingestDocuments.unchanged).toBe(2);
    expect(standin.requests.length).toBe(embeddingCalls);

    const { search } = dataOf(
      await ragql.execute(SearchDocument, { query: 'sunlight electricity', alpha: 0.5 }),
    );
    expect(search.mode).toBe('HYBRID');
    expect(search.hits[0]?.chunk.document.id).toBe('solar');
    expect(search.hits[0]?.scores.keyword).toBeGreaterThan(0);

    const filtered = dataOf(
      await ragql.execute(SearchDocument, {
        query: 'bread sunlight',
        filter: [{ field: 'metadata.topic', eq: 'cooking' }],
      }),
    );
    expect(filtered.search.hits.map((hit) => hit.chunk.document.id)).toEqual(['bread']);

    const { answer } = dataOf(await ragql.execute(AnswerDocument, { question: 'What do inverters do?' }));
    expect(answer.text).toContain('Inverters turn direct current');
    expect(answer.citations[0]?.document.id).toBe('solar');

    const page = dataOf(await ragql.execute(DocumentsDocument, { first: 10 }));
    expect(page.documents.edges.map((edge) => edge.node.id)).toEqual(['bread', 'solar']);
  });
});

describeWithWeaviateBinary('ragql while its Weaviate is down', (binary) => {
  let node: WeaviateNode | undefined;
  let ports: Awaited<ReturnType<typeof allocateWeaviatePorts>>;

  beforeAll(async () => {
    // Ports reserved for a node that is not running yet.
    ports = await allocateWeaviatePorts();
  });
  afterAll(async () => {
    await node?.remove();
  });
  const ragql = useRagql(() =>
    weaviateEnvironment(
      `http://127.0.0.1:${ports.http}`,
      `127.0.0.1:${ports.grpc}`,
      uniqueCollectionName('Down'),
    ),
  );

  it('starts, says why it is not ready, refuses requests as unavailable, and serves once Weaviate is up', async () => {
    const readyz = new URL('/readyz', ragql.server.graphqlUrl);
    const notReady = await fetch(readyz);
    expect(notReady.status).toBe(503);
    expect(await notReady.text()).toMatch(/weaviate/i);

    const refused = await ragql.execute(IngestDocumentsDocument, { documents });
    expect(refused.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');

    node = await startWeaviateNode({ binary, ports });
    await expect.poll(async () => (await fetch(readyz)).status, { timeout: 15_000 }).toBe(200);
    const ingested = dataOf(await ragql.execute(IngestDocumentsDocument, { documents }));
    expect(ingested.ingestDocuments.created).toBe(2);
    const { search } = dataOf(await ragql.execute(SearchDocument, { query: 'sourdough' }));
    expect(search.hits.map((hit) => hit.chunk.document.id)).toEqual(['bread']);
  });
});
