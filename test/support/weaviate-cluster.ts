/**
 * A Weaviate cluster on loopback: nodes that form one Raft cluster (RAFT_BOOTSTRAP_EXPECT is the
 * cluster's size, RAFT_JOIN names every node's Raft port) and find each other by gossip
 * (CLUSTER_JOIN lists every node's gossip port), the way Weaviate's own tools/dev scripts run three.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureWeaviateBinary } from './weaviate-binary.ts';
import {
  allocateWeaviatePorts,
  startWeaviateNode,
  type WeaviateClusterMember,
  type WeaviateNode,
} from './weaviate-node.ts';

export interface WeaviateCluster {
  /** Named weaviate-0, weaviate-1, … */
  nodes: WeaviateNode[];
  /** Stops every node and deletes their data dirs. */
  stop(): Promise<void>;
}

export interface WeaviateClusterOptions {
  /** @default ensureWeaviateBinary() */
  binary?: string;
  /** How long to wait for every node to be ready and to see the others. @default 90_000 */
  readyTimeoutMs?: number;
}

/** Starts the nodes together; resolves once one node lists all of them as HEALTHY. */
export async function startWeaviateCluster(
  size = 3,
  options: WeaviateClusterOptions = {},
): Promise<WeaviateCluster> {
  const binary = options.binary ?? (await ensureWeaviateBinary());
  const readyTimeoutMs = options.readyTimeoutMs ?? 90_000;
  const members: WeaviateClusterMember[] = [];
  for (let index = 0; index < size; index += 1) {
    members.push({ name: `weaviate-${index}`, ports: await allocateWeaviatePorts() });
  }
  // Together: no node is ready before the Raft cluster has formed, which needs them all.
  const starts = await Promise.allSettled(
    members.map((member) => startWeaviateNode({ ...member, cluster: members, binary, readyTimeoutMs })),
  );
  const nodes = starts.flatMap((start) => (start.status === 'fulfilled' ? [start.value] : []));
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.remove()));
  };
  const failure = starts.find((start) => start.status === 'rejected');
  if (failure) {
    await stop();
    throw failure.reason;
  }
  const [first] = nodes;
  if (first) await waitUntilHealthy(first, size, readyTimeoutMs);
  return { nodes, stop };
}

/** The names of the nodes that `node` lists as HEALTHY in `GET /v1/nodes`, sorted. */
export async function healthyNodeNames(node: Pick<WeaviateNode, 'httpUrl'>): Promise<string[]> {
  const response = await fetch(`${node.httpUrl}/v1/nodes`, { signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`GET ${node.httpUrl}/v1/nodes answered ${response.status}`);
  const body = (await response.json()) as { nodes?: { name: string; status: string }[] };
  return (body.nodes ?? [])
    .filter((listed) => listed.status === 'HEALTHY')
    .map((listed) => listed.name)
    .sort();
}

async function waitUntilHealthy(node: WeaviateNode, size: number, timeoutMs: number): Promise<void> {
  const started = performance.now();
  let healthy: string[] = [];
  while (performance.now() - started < timeoutMs) {
    healthy = await healthyNodeNames(node).catch(() => []);
    if (healthy.length === size) return;
    await sleep(200);
  }
  throw new Error(
    `Weaviate node "${node.name}" lists ${healthy.length} of ${size} nodes as HEALTHY (${healthy.join(', ')}) ` +
      `after ${timeoutMs} ms; see the logs in each node's data dir (${node.logFile}, …)`,
  );
}
