import type { Logger } from '../observability/logger.ts';
import type { StoreGenerations } from '../ports.ts';
import { EmbeddedGenerations } from '../stores/embedded/embedded-generations.ts';
import { PineconeGenerations } from '../stores/pinecone/pinecone-generations.ts';
import { PostgresGenerations } from '../stores/postgres/postgres-generations.ts';
import type { PostgresStoreOptions } from '../stores/postgres/postgres-store.ts';
import { WeaviateGenerations } from '../stores/weaviate/weaviate-generations.ts';
import type { RagqlConfig } from './config.ts';

/** The generations of the configured store: the embedding spaces it keeps, one of them serving. */
export function storeGenerationsFor(
  config: Pick<RagqlConfig, 'store' | 'dataDir'>,
  logger: Logger,
): StoreGenerations {
  if (config.store.kind === 'weaviate') return new WeaviateGenerations({ ...config.store, logger });
  if (config.store.kind === 'postgres') return new PostgresGenerations(postgresOptions(config.store, logger));
  if (config.store.kind === 'pinecone') return new PineconeGenerations({ ...config.store, logger });
  return new EmbeddedGenerations(config.dataDir);
}

function postgresOptions(store: { connectionString: string }, logger: Logger): PostgresStoreOptions {
  return {
    connectionString: store.connectionString,
    // The message only: pg-pool hangs the whole client, connection parameters and all, on it.
    onIdleError: (error) =>
      logger.warn({ reason: error.message }, 'A pooled PostgreSQL connection failed while idle.'),
  };
}
