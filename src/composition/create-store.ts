import type { Logger } from '../observability/logger.ts';
import type { StoreEngine } from '../ports.ts';
import { EmbeddedStore } from '../stores/embedded/embedded-store.ts';
import { WeaviateStore } from '../stores/weaviate/weaviate-store.ts';
import type { RagqlConfig } from './config.ts';

/** The configured store, not yet bound to an embedding space. */
export function createStore(config: Pick<RagqlConfig, 'store' | 'dataDir'>, logger: Logger): StoreEngine {
  if (config.store.kind === 'weaviate') return new WeaviateStore({ ...config.store, logger });
  return new EmbeddedStore({ dataDir: config.dataDir });
}
