/**
 * Three Weaviate nodes on loopback form one cluster, and a collection replicated to all three
 * stays readable, every object of it, when one node is SIGKILLed: the node that leads the Raft
 * cluster, the hardest one to lose. The killed node restarts on its data and serves again.
 *
 * What a SIGKILL costs (Weaviate 1.39.3, as 1.38.11): the killed node keeps its objects, but not
 * the vectors its HNSW index received since its commit log's last flush (the log is buffered in
 * memory, and a batch flushes it before, not after, its vectors are indexed). Restarted, that node
 * answers vector searches from an index missing those vectors, and replication does not repair an
 * index. So the restarted node is asked for objects and for vectors written after its restart, not
 * for the vectors it lost.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import weaviate, { type ConsistencyLevel, type WeaviateClient } from 'weaviate-client';
import {
  connectWeaviateClient,
  describeWithWeaviateBinary,
  uniqueCollectionName,
} from '../support/weaviate.ts';
import { healthyNodeNames, startWeaviateCluster, type WeaviateCluster } from '../support/weaviate-cluster.ts';
import type { WeaviateNode } from '../support/weaviate-node.ts';

const allNodes = ['weaviate-0', 'weaviate-1', 'weaviate-2'];

const objects = [
  { title: 'north', vector: [1, 0, 0, 0] },
  { title: 'east', vector: [0, 1, 0, 0] },
  { title: 'south', vector: [0, 0, 1, 0] },
  { title: 'west', vector: [0, 0, 0, 1] },
  { title: 'up', vector: [0.6, 0.8, 0, 0] },
];
const titles = objects.map((object) => object.title);

describeWithWeaviateBinary('a three-node Weaviate cluster on loopback', (binary) => {
  const collectionName = uniqueCollectionName('Replicated');
  let cluster: WeaviateCluster;
  let killed: WeaviateNode;
  const clients: WeaviateClient[] = [];

  /** The collection through `node` at a consistency level (a client per call, closed at the end). */
  const collectionThrough = async (node: WeaviateNode, consistency: ConsistencyLevel) => {
    const client = await connectWeaviateClient(node);
    clients.push(client);
    return client.collections.get(collectionName).withConsistency(consistency);
  };

  /** Every object's title, sorted. */
  const titlesThrough = async (node: WeaviateNode, consistency: ConsistencyLevel) => {
    const collection = await collectionThrough(node, consistency);
    const result = await collection.query.fetchObjects({ limit: 100 });
    return result.objects.map((object) => String(object.properties.title)).sort();
  };

  /** The title of the object nearest to each vector. */
  const nearestTitlesThrough = async (
    node: WeaviateNode,
    consistency: ConsistencyLevel,
    vectors: number[][],
  ) => {
    const collection = await collectionThrough(node, consistency);
    const nearest: string[] = [];
    for (const vector of vectors) {
      const result = await collection.query.nearVector(vector, { limit: 1 });
      nearest.push(String(result.objects[0]?.properties.title));
    }
    return nearest;
  };

  beforeAll(async () => {
    cluster = await startWeaviateCluster(3, { binary });
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await cluster?.stop();
  });

  it('lists all three nodes as healthy on every node', async () => {
    for (const node of cluster.nodes) {
      expect(await healthyNodeNames(node)).toEqual(allNodes);
    }
  });

  it('stores a collection with a replication factor of 3, written to all three nodes', async () => {
    const [first] = cluster.nodes;
    if (!first) throw new Error('the cluster has no nodes');
    const client = await connectWeaviateClient(first);
    clients.push(client);
    await client.collections.create({
      name: collectionName,
      vectorizers: weaviate.configure.vectors.selfProvided(),
      replication: weaviate.configure.replication({ factor: 3 }),
      properties: [{ name: 'title', dataType: 'text' }],
    });
    const collection = await collectionThrough(first, 'ALL');
    const inserted = await collection.data.insertMany(
      objects.map((object) => ({ properties: { title: object.title }, vectors: object.vector })),
    );
    expect(inserted.errors).toEqual({});
    expect((await client.collections.export(collectionName)).replication.factor).toBe(3);
  });

  it('returns every object through each survivor, by listing and by vector, after the Raft leader is SIGKILLed', async () => {
    killed = await raftLeader(cluster);
    await killed.kill('SIGKILL');
    const survivors = cluster.nodes.filter((node) => node !== killed);
    for (const survivor of survivors) {
      await expect.poll(() => healthyNodeNames(survivor), { timeout: 15_000 }).toHaveLength(2);
      for (const consistency of ['ONE', 'QUORUM'] as const) {
        expect(await titlesThrough(survivor, consistency)).toEqual([...titles].sort());
        const vectors = objects.map((object) => object.vector);
        expect(await nearestTitlesThrough(survivor, consistency, vectors)).toEqual(titles);
      }
    }
  });

  it('serves again once the killed node restarts on its data', async () => {
    await killed.restart();
    await expect.poll(() => healthyNodeNames(killed), { timeout: 30_000 }).toEqual(allNodes);
    for (const consistency of ['ONE', 'QUORUM'] as const) {
      expect(await titlesThrough(killed, consistency)).toEqual([...titles].sort());
    }
    // Written to all three replicas (so the restarted node takes writes), then found by vector.
    const collection = await collectionThrough(killed, 'ALL');
    await collection.data.insert({ properties: { title: 'down' }, vectors: [-0.6, -0.8, 0, 0] });
    expect(await nearestTitlesThrough(killed, 'ONE', [[-0.6, -0.8, 0, 0]])).toEqual(['down']);
    expect(await titlesThrough(killed, 'QUORUM')).toEqual([...titles, 'down'].sort());
  });
});

/** The node that leads the Raft cluster, from `GET /v1/cluster/statistics`. */
async function raftLeader(cluster: WeaviateCluster): Promise<WeaviateNode> {
  const [first] = cluster.nodes;
  const response = await fetch(`${first?.httpUrl}/v1/cluster/statistics`);
  const body = (await response.json()) as { statistics: { leaderId: string }[] };
  const leaderId = body.statistics[0]?.leaderId;
  const leader = cluster.nodes.find((node) => node.name === leaderId);
  if (!leader) throw new Error(`no node leads the Raft cluster (leaderId: ${leaderId})`);
  return leader;
}
