import { loadConfig } from '../../src/composition/config.ts';
import { createPluginRegistry } from '../../src/composition/load-plugins.ts';
import { assembleServices } from '../../src/composition/services.ts';
import { createLogger } from '../../src/observability/logger.ts';
import type { Embedder, StoreEngine } from '../../src/ports.ts';
import { createExtractiveModel } from '../../src/providers/extractive.ts';
import { singleModelRouter } from '../../src/rag/index.ts';
import { SpaceGate } from '../../src/rag/space-gate.ts';
import { type RunningServer, startServer } from '../../src/server.ts';
import { anonymousAccess } from '../../test/support/anonymous-access.ts';

/**
 * ragql on a free loopback port, with the services the server would build around the benchmark's
 * store and an embedder that returns the precomputed vector of each benchmark query: GraphQL then
 * searches exactly the vectors the in-process run searched, and the difference is GraphQL and
 * HTTP alone.
 */
export async function startBenchServer(store: StoreEngine, queryEmbedder: Embedder): Promise<RunningServer> {
  const config = loadConfig({ LOG_LEVEL: 'silent' });
  const logger = createLogger('silent');
  return startServer({
    host: '127.0.0.1',
    port: 0,
    http: config.http,
    services: assembleServices({
      store,
      embedder: queryEmbedder,
      router: singleModelRouter(createExtractiveModel()),
      plugins: await createPluginRegistry(config.plugins),
      ...anonymousAccess(logger),
      gate: new SpaceGate(),
      config,
      logger,
    }),
    logger,
  });
}
