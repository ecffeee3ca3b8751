/**
 * ragql with RAGQL_STORE=weaviate, end to end over GraphQL against the shared Weaviate (the cases
 * every store runs: test/support/store-end-to-end.ts); and a ragql started while its Weaviate is down, which must start,
 * say why it is not ready, refuse requests with UPSTREAM_UNAVAILABLE, and serve once Weaviate is up.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { IngestDocumentsDocument, SearchDocument } from '../generated/graphql.ts';
import { dataOf } from '../support/graphql-client.ts';
import { withStandinEmbeddings } from '../support/ragql-environment.ts';
import { endToEndDocuments, storeEndToEndCases } from '../support/store-end-to-end.ts';
import { useRagql } from '../support/use-ragql.ts';
import { useOpenAIStandin } from '../support/use-standin.ts';
import {
  describeWithWeaviate,
  describeWithWeaviateBinary,
  uniqueCollectionName,
} from '../support/weaviate.ts';
import { allocateWeaviatePorts, startWeaviateNode, type WeaviateNode } from '../support/weaviate-node.ts';

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
  // Chosen once, so that the restart finds the same collections.
  const prefix = uniqueCollectionName('E2e');
  const ragql = useRagql(() => ({
    ...weaviateEnvironment(endpoint.httpUrl, endpoint.grpcAddress, prefix),
    ...withStandinEmbeddings(standin, 64),
  }));

  storeEndToEndCases('weaviate', ragql, standin);
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

    const refused = await ragql.execute(IngestDocumentsDocument, { documents: endToEndDocuments });
    expect(refused.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');

    node = await startWeaviateNode({ binary, ports });
    await expect.poll(async () => (await fetch(readyz)).status, { timeout: 15_000 }).toBe(200);
    const ingested = dataOf(await ragql.execute(IngestDocumentsDocument, { documents: endToEndDocuments }));
    expect(ingested.ingestDocuments.created).toBe(endToEndDocuments.length);
    const { search } = dataOf(await ragql.execute(SearchDocument, { query: 'sourdough' }));
    expect(search.hits.map((hit) => hit.chunk.document.id)).toEqual(['bread']);
  });
});
