/**
 * The Weaviate a benchmark compares the embedded store with: the one WEAVIATE_URL names (with
 * WEAVIATE_GRPC_URL and WEAVIATE_API_KEY, read as the server reads them), or else a node of the
 * tests' launcher on free loopback ports. Either way the benchmark writes into collections of its
 * own, and `remove` takes away what it made: the node and its data, or those collections.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/composition/config.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { collectionNames } from '../../src/stores/weaviate/collections.ts';
import { WeaviateStore, type WeaviateStoreOptions } from '../../src/stores/weaviate/weaviate-store.ts';
import { formatDuration, WEAVIATE_VERSION } from '../../test/support/weaviate-binary.ts';
import { startWeaviateNode } from '../../test/support/weaviate-node.ts';

export interface BenchWeaviate {
  store: WeaviateStore;
  /** Which Weaviate, where, and the benchmark's collections in it. */
  description: string;
  /** What the server uses now; null for a Weaviate this process did not start. */
  footprint(): WeaviateFootprint | null;
  /** Closes the store and removes what the benchmark made; later calls wait for the first. */
  remove(): Promise<void>;
}

export interface WeaviateFootprint {
  residentBytes: number;
  peakResidentBytes: number;
  /** The node's data folder: its shards, vector index commit logs and log file. */
  dataBytes: number;
}

export async function openBenchWeaviate(): Promise<BenchWeaviate> {
  const collectionPrefix = `RagqlBench${randomBytes(4).toString('hex')}`;
  const names = collectionNames(collectionPrefix);
  const collections = `collections ${names.chunks} and ${names.documents}`;
  // Only warnings: the store logs writes that left unused chunks behind or could not be undone.
  const logger = createLogger('warn');

  const running = weaviateFromEnvironment(collectionPrefix);
  if (running) {
    const store = new WeaviateStore({ ...running, logger });
    return {
      store,
      description: `WEAVIATE_URL ${running.httpUrl} (gRPC ${running.grpcAddress}), ${collections}`,
      footprint: () => null,
      remove: once(async () => {
        await store.close();
        await deleteCollections(running, [names.chunks, names.documents]);
      }),
    };
  }

  const started = performance.now();
  const node = await startWeaviateNode();
  const store = new WeaviateStore({
    httpUrl: node.httpUrl,
    grpcAddress: node.grpcAddress,
    collectionPrefix,
    logger,
  });
  return {
    store,
    description:
      `weaviate-server v${WEAVIATE_VERSION} from the tests' launcher, ready in ` +
      `${formatDuration(performance.now() - started)}, at ${node.httpUrl} (gRPC ${node.grpcAddress}), ${collections}`,
    footprint: () => ({ ...residentMemory(node.process.pid), dataBytes: directoryBytes(node.dataDir) }),
    remove: once(async () => {
      await store.close();
      await node.remove();
    }),
  };
}

/** The store options the server would take from the environment, when WEAVIATE_URL is set. */
function weaviateFromEnvironment(collectionPrefix: string): WeaviateStoreOptions | undefined {
  if (!process.env.WEAVIATE_URL) return undefined;
  const { store } = loadConfig({
    ...process.env,
    RAGQL_STORE: 'weaviate',
    RAGQL_WEAVIATE_COLLECTION_PREFIX: collectionPrefix,
  });
  return store.kind === 'weaviate' ? store : undefined;
}

async function deleteCollections(weaviate: WeaviateStoreOptions, names: readonly string[]): Promise<void> {
  const headers: Record<string, string> = weaviate.apiKey
    ? { authorization: `Bearer ${weaviate.apiKey}` }
    : {};
  for (const name of names) {
    const response = await fetch(`${weaviate.httpUrl.replace(/\/+$/, '')}/v1/schema/${name}`, {
      method: 'DELETE',
      headers,
    });
    await response.body?.cancel();
    if (!response.ok)
      process.stderr.write(`could not delete Weaviate collection ${name} (HTTP ${response.status})\n`);
  }
}

function residentMemory(pid: number | undefined): Omit<WeaviateFootprint, 'dataBytes'> {
  let status = '';
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    // Not Linux, or the process is gone: the figures are unknown.
  }
  const bytes = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
  return { residentBytes: bytes('VmRSS'), peakResidentBytes: bytes('VmHWM') };
}

function directoryBytes(directory: string): number {
  return readdirSync(directory, { recursive: true, encoding: 'utf8' }).reduce((sum, path) => {
    const stats = statSync(join(directory, path), { throwIfNoEntry: false });
    return sum + (stats?.isFile() ? stats.size : 0);
  }, 0);
}

function once(run: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => {
    running ??= run();
    return running;
  };
}
