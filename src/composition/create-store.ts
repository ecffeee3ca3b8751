import type { Logger } from '../observability/logger.ts';
import type { StoreEngine, StoreGenerations } from '../ports.ts';
import { EmbeddedGenerations } from '../stores/embedded/embedded-generations.ts';
import { EmbeddedStore } from '../stores/embedded/embedded-store.ts';
import { PineconeStore } from '../stores/pinecone/pinecone-store.ts';
import { PostgresGenerations } from '../stores/postgres/postgres-generations.ts';
import { PostgresStore, type PostgresStoreOptions } from '../stores/postgres/postgres-store.ts';
import { WeaviateGenerations } from '../stores/weaviate/weaviate-generations.ts';
import { WeaviateStore } from '../stores/weaviate/weaviate-store.ts';
import type { RagqlConfig } from './config.ts';

/**
 * The generations of the configured store, for stores that keep more than one embedding space;
 * null for the others, which serve one space.
 */
export function storeGenerationsFor(
  config: Pick<RagqlConfig, 'store' | 'dataDir'>,
  logger: Logger,
): StoreGenerations | null {
  if (config.store.kind === 'weaviate') return new WeaviateGenerations({ ...config.store, logger });
  if (config.store.kind === 'postgres') return new PostgresGenerations(postgresOptions(config.store, logger));
  if (config.store.kind === 'pinecone') return null;
  return new EmbeddedGenerations(config.dataDir);
}

/** The configured store, not yet bound to an embedding space. */
export function createStore(config: Pick<RagqlConfig, 'store' | 'dataDir'>, logger: Logger): StoreEngine {
  if (config.store.kind === 'weaviate') return new WeaviateStore({ ...config.store, logger });
  if (config.store.kind === 'postgres') {
    return new PostgresStore(postgresOptions(config.store, logger));
  }
  if (config.store.kind === 'pinecone') return new PineconeStore({ ...config.store, logger });
  return new EmbeddedStore({ dataDir: config.dataDir });
}

function postgresOptions(store: { connectionString: string }, logger: Logger): PostgresStoreOptions {
  return {
    connectionString: store.connectionString,
    // The message only: pg-pool hangs the whole client, connection parameters and all, on it.
    onIdleError: (error) =>
      logger.warn({ reason: error.message }, 'A pooled PostgreSQL connection failed while idle.'),
  };
}
