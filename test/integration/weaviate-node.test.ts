/**
 * The Weaviate the tests share: the one the global setup started (or WEAVIATE_URL's) answers over
 * HTTP and gRPC, and runs the version ragql is tested against.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import weaviate, { type WeaviateClient } from 'weaviate-client';
import { connectWeaviateClient, describeWithWeaviate, uniqueCollectionName } from '../support/weaviate.ts';
import { WEAVIATE_VERSION } from '../support/weaviate-binary.ts';

describeWithWeaviate('the shared Weaviate', (endpoint) => {
  let client: WeaviateClient;

  beforeAll(async () => {
    client = await connectWeaviateClient(endpoint);
  });
  afterAll(async () => {
    await client?.close();
  });

  it('answers ready', async () => {
    const response = await fetch(`${endpoint.httpUrl}/v1/.well-known/ready`);
    expect(response.status).toBe(200);
  });

  it(`runs Weaviate ${WEAVIATE_VERSION}`, async () => {
    const response = await fetch(`${endpoint.httpUrl}/v1/meta`);
    expect(((await response.json()) as { version: string }).version).toBe(WEAVIATE_VERSION);
  });

  it('stores and finds a vector in a collection of its own, through weaviate-client over gRPC', async () => {
    const name = uniqueCollectionName('Smoke');
    const collection = await client.collections.create({
      name,
      vectorizers: weaviate.configure.vectors.selfProvided(),
      properties: [{ name: 'title', dataType: 'text' }],
    });
    try {
      await collection.data.insertMany([
        { properties: { title: 'north' }, vectors: [1, 0, 0] },
        { properties: { title: 'east' }, vectors: [0, 1, 0] },
      ]);
      const result = await collection.query.nearVector([0.1, 0.9, 0], { limit: 1 });
      expect(result.objects.map((object) => object.properties.title)).toEqual(['east']);
    } finally {
      await client.collections.delete(name);
    }
  });
});
