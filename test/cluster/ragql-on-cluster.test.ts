/**
 * ragql on a three-node Weaviate cluster with replication factor 3: documents ingested through
 * ragql stay searchable and answerable, every one of them, when a node is SIGKILLed, and the node
 * serves them again after it restarts.
 *
 * Search here is keyword-only (no embedder): a SIGKILLed Weaviate 1.39.3 node can lose the
 * vectors its HNSW index received last (see weaviate-cluster.test.ts), which is Weaviate's to fix,
 * not something ragql's failover can show or hide.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  AnswerDocument,
  DocumentsDocument,
  IngestDocumentsDocument,
  SearchDocument,
} from '../generated/graphql.ts';
import { dataOf } from '../support/graphql-client.ts';
import { type RagqlInstance, startRagql, temporaryDataDir } from '../support/ragql-instance.ts';
import { describeWithWeaviateBinary, uniqueCollectionName } from '../support/weaviate.ts';
import { healthyNodeNames, startWeaviateCluster, type WeaviateCluster } from '../support/weaviate-cluster.ts';
import type { WeaviateNode } from '../support/weaviate-node.ts';

/** Twenty documents, each with a word of its own to find it by. */
const documents = Array.from({ length: 20 }, (_, index) => ({
  id: `doc-${String(index).padStart(2, '0')}`,
  title: `Report ${index}`,
  content: `Report ${index} is about the marker word quux${index}. It has a second sentence too.`,
}));

describeWithWeaviateBinary('ragql on a replicated three-node Weaviate cluster', (binary) => {
  const prefix = uniqueCollectionName('Cluster');
  const dataDirs: ReturnType<typeof temporaryDataDir>[] = [];
  const instances: RagqlInstance[] = [];
  let cluster: WeaviateCluster;

  /** A ragql server whose WEAVIATE_URL is `node`. */
  async function ragqlThrough(node: WeaviateNode): Promise<RagqlInstance> {
    const dataDir = temporaryDataDir();
    dataDirs.push(dataDir);
    const instance = await startRagql(dataDir.path, {
      RAGQL_STORE: 'weaviate',
      WEAVIATE_URL: node.httpUrl,
      WEAVIATE_GRPC_URL: node.grpcAddress,
      RAGQL_WEAVIATE_COLLECTION_PREFIX: prefix,
      RAGQL_WEAVIATE_REPLICATION_FACTOR: '3',
      RAGQL_WEAVIATE_CONSISTENCY: 'QUORUM',
    });
    instances.push(instance);
    return instance;
  }

  /** The documents each marker word finds through `ragql`, and the ids it lists. */
  async function everythingVisibleThrough(ragql: RagqlInstance) {
    const found: string[] = [];
    for (const [index] of documents.entries()) {
      const { search } = dataOf(await ragql.execute(SearchDocument, { query: `quux${index}`, limit: 3 }));
      found.push(...search.hits.map((hit) => hit.chunk.document.id));
    }
    const listed = dataOf(await ragql.execute(DocumentsDocument, { first: 100 })).documents.edges.map(
      (edge) => edge.node.id,
    );
    return { found, listed };
  }

  beforeAll(async () => {
    cluster = await startWeaviateCluster(3, { binary });
  });
  afterAll(async () => {
    for (const instance of instances) await instance.stop();
    await cluster?.stop();
    for (const dataDir of dataDirs) dataDir.remove();
  });

  it('keeps every document searchable and answerable with a node killed, and serves again after its restart', async () => {
    const [first, , third] = cluster.nodes;
    if (!first || !third) throw new Error('the cluster has fewer than three nodes');
    const ragql = await ragqlThrough(first);
    const ingested = dataOf(await ragql.execute(IngestDocumentsDocument, { documents }));
    expect(ingested.ingestDocuments.created).toBe(documents.length);
    const everyId = documents.map((document) => document.id);
    expect(await everythingVisibleThrough(ragql)).toEqual({ found: everyId, listed: everyId });

    await third.kill('SIGKILL');
    expect((await healthyNodeNames(first)).sort()).toEqual(['weaviate-0', 'weaviate-1']);
    expect(await everythingVisibleThrough(ragql)).toEqual({ found: everyId, listed: everyId });
    const { answer } = dataOf(await ragql.execute(AnswerDocument, { question: 'What is quux7 about?' }));
    expect(answer.citations.map((citation) => citation.document.id)).toContain('doc-07');

    await third.restart();
    await expect.poll(async () => (await healthyNodeNames(first)).length, { timeout: 30_000 }).toBe(3);
    // A ragql that reaches the cluster through the restarted node alone sees everything too.
    expect(await everythingVisibleThrough(await ragqlThrough(third))).toEqual({
      found: everyId,
      listed: everyId,
    });
  });
});
