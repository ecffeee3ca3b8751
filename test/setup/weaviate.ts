/**
 * Global setup of the default project: one Weaviate that every test file shares. WEAVIATE_URL (and
 * WEAVIATE_GRPC_URL, default the same host on port 50051) names a running one; otherwise a node is
 * built if need be and started here, then stopped and deleted after the run.
 */
import type { TestProject } from 'vitest/node';
import { formatDuration } from '../support/weaviate-binary.ts';
import { isWeaviateReady, startWeaviateNode } from '../support/weaviate-node.ts';
import { findWeaviateBinary, messageOf, weaviateUnavailable } from './weaviate-availability.ts';

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const url = process.env.WEAVIATE_URL;
  if (url) {
    const httpUrl = url.replace(/\/+$/, '');
    const grpcAddress = process.env.WEAVIATE_GRPC_URL || `${new URL(httpUrl).hostname}:50051`;
    project.provide(
      'weaviate',
      (await isWeaviateReady(httpUrl))
        ? { endpoint: { httpUrl, grpcAddress }, skipReason: '' }
        : { endpoint: null, skipReason: weaviateUnavailable(`WEAVIATE_URL=${url} does not answer ready`) },
    );
    project.provide('weaviateBinary', {
      path: null,
      skipReason: 'WEAVIATE_URL is set, so the tests start no Weaviate of their own',
    });
    return undefined;
  }

  const binary = await findWeaviateBinary();
  project.provide('weaviateBinary', binary);
  if (binary.path === null) {
    project.provide('weaviate', { endpoint: null, skipReason: binary.skipReason });
    return undefined;
  }
  try {
    const started = performance.now();
    const node = await startWeaviateNode({ binary: binary.path });
    process.stderr.write(
      `[weaviate] ${node.httpUrl} (gRPC ${node.grpcAddress}) ready in ${formatDuration(performance.now() - started)}; log: ${node.logFile}\n`,
    );
    project.provide('weaviate', {
      endpoint: { httpUrl: node.httpUrl, grpcAddress: node.grpcAddress },
      skipReason: '',
    });
    return () => node.remove();
  } catch (error) {
    const reason = weaviateUnavailable(`weaviate-server did not start: ${messageOf(error)}`);
    project.provide('weaviate', { endpoint: null, skipReason: reason });
    return undefined;
  }
}
