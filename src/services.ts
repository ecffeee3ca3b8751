import type { RagqlConfig } from './config.ts';
import type { Logger } from './observability/logger.ts';
import type { ChatModel, Embedder, VectorStore } from './ports.ts';
import { createChatModel } from './providers/create-chat-model.ts';
import { createEmbedder } from './providers/create-embedder.ts';
import { AnswerService, IngestService, type RagqlServices, SearchService } from './rag/index.ts';
import { EmbeddedStore } from './stores/embedded/embedded-store.ts';
import { version } from './version.ts';

/**
 * Builds the adapters and the services from the configuration. Shared by the server and the CLI,
 * which both run the same pipeline. Throws when the store refuses the configured embedder.
 */
export async function createServices(config: RagqlConfig, logger: Logger): Promise<RagqlServices> {
  const store = new EmbeddedStore({ dataDir: config.dataDir });
  try {
    const embedder = await createEmbedder(config.embedder);
    await store.bindEmbeddingSpace(
      embedder
        ? { provider: embedder.provider, modelId: embedder.modelId, dimensions: embedder.dimensions }
        : null,
    );
    return assembleServices({
      store,
      embedder,
      chatModel: createChatModel(config.generator),
      config,
      logger,
    });
  } catch (error) {
    await store.close();
    throw error;
  }
}

export interface ServiceParts {
  store: VectorStore;
  embedder: Embedder | null;
  chatModel: ChatModel;
  config: Pick<RagqlConfig, 'answers' | 'chunking' | 'embeddingBatchSize' | 'limits'>;
  logger: Logger;
}

/** The services around adapters that are already built and bound (the benchmarks bring their own). */
export function assembleServices({
  store,
  embedder,
  chatModel,
  config,
  logger,
}: ServiceParts): RagqlServices {
  const search = new SearchService(store, embedder);
  const answers = new AnswerService({ search, store, model: chatModel, logger, ...config.answers });
  return {
    store,
    search,
    answers,
    ingest: new IngestService({
      store,
      embedder,
      chunking: config.chunking,
      embeddingBatchSize: config.embeddingBatchSize,
      limits: config.limits,
    }),
    info: {
      version,
      store: store.kind,
      embedder: embedder ? `${embedder.provider}/${embedder.modelId}` : null,
      generator: answers.generator,
    },
  };
}
