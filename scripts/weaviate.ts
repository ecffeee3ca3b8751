/**
 * The tests' Weaviate launcher from the command line.
 *
 *   npm run weaviate -- build       build the pinned weaviate-server if it is missing (CI runs this)
 *   npm run weaviate -- start [n]   run one node (or an n-node cluster) on free loopback ports until
 *                                   Ctrl-C, printing WEAVIATE_URL and WEAVIATE_GRPC_URL for each node
 */
import { ensureWeaviateBinary, formatDuration, WEAVIATE_VERSION } from '../test/support/weaviate-binary.ts';
import { startWeaviateCluster } from '../test/support/weaviate-cluster.ts';

const [command = 'help', size = '1'] = process.argv.slice(2);

if (command === 'build') {
  const started = performance.now();
  try {
    const binary = await ensureWeaviateBinary();
    process.stdout.write(
      `weaviate-server v${WEAVIATE_VERSION}: ${binary} (build step: ${formatDuration(performance.now() - started)})\n`,
    );
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
} else if (command === 'start' && /^[1-9]$/.test(size)) {
  const started = performance.now();
  const cluster = await startWeaviateCluster(Number(size));
  process.stdout.write(
    `${size} node(s) ready in ${formatDuration(performance.now() - started)}; Ctrl-C stops\n`,
  );
  for (const node of cluster.nodes) {
    process.stdout.write(
      `${node.name}: WEAVIATE_URL=${node.httpUrl} WEAVIATE_GRPC_URL=${node.grpcAddress} (log: ${node.logFile})\n`,
    );
  }
  const stop = async () => {
    await cluster.stop();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} else {
  process.stderr.write('usage: node scripts/weaviate.ts build | start [nodes, 1 to 9]\n');
  process.exit(2);
}
