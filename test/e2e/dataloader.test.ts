/**
 * The documents of search hits are read through a per-request DataLoader: one batched store read
 * for a page of hits, however many of them there are. The store is the real embedded store,
 * wrapped to count its reads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/composition/config.ts';
import { createPluginRegistry } from '../../src/composition/load-plugins.ts';
import { assembleServices } from '../../src/composition/services.ts';
import { createLogger } from '../../src/observability/logger.ts';
import type { StoreEngine, TenantStore } from '../../src/ports.ts';
import { createExtractiveModel } from '../../src/providers/extractive.ts';
import { singleModelRouter } from '../../src/rag/index.ts';
import { SpaceGate } from '../../src/rag/space-gate.ts';
import { type RunningServer, startServer } from '../../src/server.ts';
import { EmbeddedStore } from '../../src/stores/embedded/embedded-store.ts';
import { IngestDocumentsDocument, SearchDocument } from '../generated/graphql.ts';
import { anonymousAccess } from '../support/anonymous-access.ts';
import { dataOf, graphqlClient } from '../support/graphql-client.ts';
import { temporaryDataDir } from '../support/ragql-instance.ts';

/** The store, with every `getDocuments` call of every tenant recorded (the ids it asked for). */
function countingReads(store: StoreEngine): { store: StoreEngine; reads: string[][] } {
  const reads: string[][] = [];
  const counting: StoreEngine = {
    kind: store.kind,
    bindEmbeddingSpace: (space) => store.bindEmbeddingSpace(space),
    readiness: () => store.readiness(),
    close: () => store.close(),
    forTenant: (tenant) => {
      const inner = store.forTenant(tenant);
      return new Proxy(inner, {
        get(target, property: keyof TenantStore) {
          if (property !== 'getDocuments') return target[property].bind(target);
          return (ids: readonly string[]) => {
            reads.push([...ids]);
            return target.getDocuments(ids);
          };
        },
      });
    },
  };
  return { store: counting, reads };
}

describe('the documents of search hits', () => {
  const dataDir = temporaryDataDir();
  const { store, reads } = countingReads(new EmbeddedStore({ dataDir: dataDir.path }));
  let server: RunningServer;

  beforeAll(async () => {
    await store.bindEmbeddingSpace(null);
    const config = loadConfig({ RAGQL_DATA_DIR: dataDir.path, LOG_LEVEL: 'silent' });
    const logger = createLogger('silent');
    const services = assembleServices({
      store,
      embedder: null,
      router: singleModelRouter(createExtractiveModel()),
      plugins: await createPluginRegistry(config.plugins),
      ...anonymousAccess(logger),
      gate: new SpaceGate(),
      config,
      logger,
    });
    server = await startServer({ host: '127.0.0.1', port: 0, services, logger, http: config.http });
    const documents = Array.from({ length: 60 }, (_, index) => ({
      id: `harbour-${index}`,
      title: `Harbour ${index}`,
      content: `Boats number ${index} rest in the harbour at night.`,
    }));
    dataOf(await graphqlClient(server.graphqlUrl)(IngestDocumentsDocument, { documents }));
  });
  afterAll(async () => {
    await server?.close();
    await store.close();
    dataDir.remove();
  });

  it('are read in one batched store call for 50 hits', async () => {
    reads.length = 0;
    const { search } = dataOf(
      await graphqlClient(server.graphqlUrl)(SearchDocument, { query: 'harbour boats', limit: 50 }),
    );
    expect(search.hits).toHaveLength(50);
    expect(search.hits.every((hit) => hit.chunk.document.title?.startsWith('Harbour'))).toBe(true);
    expect(reads).toHaveLength(1);
    expect(new Set(reads[0])).toEqual(new Set(search.hits.map((hit) => hit.chunk.document.id)));
  });
});
