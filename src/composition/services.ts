import { Authenticator } from '../access/api-keys.ts';
import { RateLimits } from '../access/rate-limits.ts';
import type { Tier } from '../access/tiers.ts';
import { UsageLedger } from '../access/usage-ledger.ts';
import { RagqlError } from '../errors.ts';
import { AddressPolicy } from '../files/address-policy.ts';
import { DocumentFiles } from '../files/document-files.ts';
import { PageFetcher } from '../files/page-fetcher.ts';
import { ParsingThread } from '../files/parsing-thread.ts';
import { SiteCrawler } from '../files/site-crawl.ts';
import { type KnownPage, type KnownPages, UrlIngestion } from '../files/url-ingestion.ts';
import { CachedEmbedder, vectorCodec } from '../gateway/cached-embedder.ts';
import {
  questionsPerSources,
  type SimilarEntry,
  TieredSimilarAnswerCache,
} from '../gateway/similar-answer-cache.ts';
import { type CacheCodec, jsonCodec, TieredCache } from '../gateway/tiered-cache.ts';
import type { Logger } from '../observability/logger.ts';
import { meteredEmbedder } from '../observability/metered-models.ts';
import { Metrics } from '../observability/metrics.ts';
import type { PluginRegistry } from '../plugin-api/registry.ts';
import {
  type AnswerCache,
  type CachedAnswer,
  type ChatRouter,
  type Embedder,
  type EmbeddingSpace,
  type SimilarAnswerCache,
  type StoreEngine,
  spaceOfEmbedder,
} from '../ports.ts';
import { isExtractive } from '../providers/extractive.ts';
import { ChunkingThread } from '../rag/chunking-thread.ts';
import { DocumentService } from '../rag/documents.ts';
import { AnswerService, IngestService, SearchService, type ServerInfo } from '../rag/index.ts';
import { KeyedLocks } from '../rag/keyed-locks.ts';
import { RetrievalPipeline } from '../rag/retrieval.ts';
import { SpaceGate } from '../rag/space-gate.ts';
import { ActiveGenerationStore } from '../stores/active-generation-store.ts';
import { loadTokenizer } from '../text/token-count.ts';
import { version } from '../version.ts';
import { createChatGateway } from './chat-gateway.ts';
import { type CacheSettings, ConfigError, type RagqlConfig } from './config.ts';
import { emptyConfigFile, loadConfigFile } from './config-file.ts';
import { storeGenerationsFor } from './configured-store.ts';
import { createEmbedder } from './create-embedder.ts';
import { LiveSpace } from './live-space.ts';
import { createPluginRegistry } from './load-plugins.ts';
import { ReembeddingService } from './reembedding-service.ts';
import { recordModelCall, usageRecorder } from './usage-recording.ts';

/** The application services one ragql process runs, built by the composition root. */
export interface RagqlServices {
  store: StoreEngine;
  ingest: IngestService;
  /** Document reads and deletions; writes take turns with ingestion's. */
  documents: DocumentService;
  /** Files (uploads, the CLI's) read into documents, on the parsing thread. */
  files: DocumentFiles;
  /** Pages fetched by URL into documents. */
  urls: UrlIngestion;
  /** A site's pages, found from its sitemap or links, into documents. */
  crawler: SiteCrawler;
  /** Every request that embeds or touches the store runs in it, so a switch of space falls between requests. */
  gate: SpaceGate;
  /** Moving the store to another embedding model; null without an embedder (keyword-only). */
  reembedding: ReembeddingService | null;
  search: SearchService;
  answers: AnswerService;
  /** The retrievers and rerankers requests may choose. */
  plugins: PluginRegistry;
  /** Who may call, and as which tenant. */
  auth: Authenticator;
  /** What each tier allows, by name. */
  tiers: Readonly<Record<string, Tier>>;
  /** What each caller's tier allows. */
  rateLimits: RateLimits;
  /** What /metrics serves. */
  metrics: Metrics;
  /** Each tenant's tokens and cost by day. */
  usage: UsageLedger;
  info: ServerInfo;
  /** Closes the store and the caches' connections. */
  close(): Promise<void>;
}

/**
 * The validators (ETag, Last-Modified) of pages fetched by URL, so an unchanged page is not
 * downloaded again: small entries, kept a month, shared through Redis when it is configured.
 * Losing one costs a download, after which the content hash still finds the page UNCHANGED.
 */
const knownPagesCache: CacheSettings = { enabled: true, maxEntries: 10_000, ttlMs: 30 * 24 * 3600 * 1000 };

/**
 * Builds the adapters and the services from the configuration. Shared by the server and the CLI,
 * which both run the same pipeline. Throws when the store refuses the configured embedder.
 */
export async function createServices(config: RagqlConfig, logger: Logger): Promise<RagqlServices> {
  const file = config.configFile ? await loadConfigFile(config.configFile) : emptyConfigFile;
  if (config.auth.required && file.apiKeys.length === 0) {
    throw new ConfigError(
      'RAGQL_AUTH=on, but no API key is configured: create one with `ragql keys create` and add it to the apiKeys of the config file (RAGQL_CONFIG_FILE).',
    );
  }
  const generations = storeGenerationsFor(config, logger);
  // The serving store prompts re-embedding (made below) to follow another process's switch.
  let followSwitch = () => {};
  const store = new ActiveGenerationStore(config.store.kind, generations, () => followSwitch());
  const metrics = new Metrics(config.metrics);
  const caches: { close(): Promise<void> }[] = [];
  /** A cache of the configured kind, or null when it is switched off. */
  const cacheFor = <Value extends {}>(name: string, settings: CacheSettings, codec: CacheCodec<Value>) => {
    if (!settings.enabled) return null;
    const cache = new TieredCache<Value>({
      name,
      maxEntries: settings.maxEntries,
      ttlMs: settings.ttlMs,
      codec,
      redisUrl: config.redisUrl,
      sharedTimeoutMs: config.cacheRedisTimeoutMs,
      logger,
      onLookup: (result) => metrics.cacheLookups.inc({ cache: name, result }),
    });
    caches.push(cache);
    return cache;
  };
  const usage = new UsageLedger({ redisUrl: config.redisUrl, logger });
  const closeCaches = () => Promise.all([usage.close(), ...caches.map((cache) => cache.close())]);
  try {
    const embeddingCache =
      config.embedder.kind === 'none' ? null : cacheFor('embeddings', config.embeddingCache, vectorCodec);
    /** An embedder as the services use it: metered under the cache, which keys by model. */
    const embedderFor = async (choice: RagqlConfig['embedder']): Promise<Embedder | null> => {
      const vendorEmbedder = await createEmbedder(choice);
      const providerEmbedder = vendorEmbedder ? meteredEmbedder(vendorEmbedder, metrics) : null;
      return providerEmbedder && embeddingCache
        ? new CachedEmbedder(providerEmbedder, embeddingCache)
        : providerEmbedder;
    };
    const configuredEmbedder = await embedderFor(config.embedder);
    // With an embedder, the services use a live space, which re-embedding can switch.
    const live = configuredEmbedder ? new LiveSpace(store, configuredEmbedder) : null;
    const embedder = live?.embedder ?? null;
    await bindEmbeddingSpace(store, embedder ? spaceOfEmbedder(embedder) : null, logger);
    const chat = createChatGateway(config, file, metrics, logger, usageRecorder(metrics, usage));
    const services = assembleServices({
      store: live?.store ?? store,
      embedder,
      gate: live?.gate ?? new SpaceGate(),
      router: chat.router,
      usage,
      plugins: await createPluginRegistry(
        config.plugins,
        config.configFile ? { path: config.configFile, plugins: file.plugins } : undefined,
      ),
      auth: new Authenticator(config.auth.required, file.apiKeys),
      tiers: file.tiers,
      rateLimits: new RateLimits({ tiers: file.tiers, redisUrl: config.redisUrl, logger }),
      answerCache: cacheFor('answers', config.answerCache, jsonCodec<CachedAnswer>()),
      similarAnswerCache: embedder ? similarAnswerCacheFor(config, cacheFor) : null,
      knownPages: cacheFor('known-pages', knownPagesCache, jsonCodec<KnownPage>()),
      metrics,
      config,
      logger,
    });
    const reembedding = live
      ? new ReembeddingService({
          generations,
          live,
          servingGeneration: () => store.generation(),
          embedderFor: async (model, dimensions) => {
            if (config.embedder.kind === 'none') return null;
            return embedderFor({ ...config.embedder, model, dimensions });
          },
          embeddingBatchSize: config.embeddingBatchSize,
          switchCheckMs: config.switchCheckMs,
          logger,
        })
      : null;
    if (reembedding) followSwitch = () => reembedding.followSoon();
    return {
      ...services,
      reembedding,
      close: async () => {
        await reembedding?.close();
        await closeCaches();
        await services.close();
        await live?.close();
        await generations.close();
      },
    };
  } catch (error) {
    await closeCaches();
    await store.close();
    await generations.close();
    throw error;
  }
}

/** The similar-answer cache, its groups of questions kept as answers are; null when it is off. */
function similarAnswerCacheFor(
  config: Pick<RagqlConfig, 'answerCache' | 'similarAnswers'>,
  cacheFor: <Value extends {}>(
    name: string,
    settings: CacheSettings,
    codec: CacheCodec<Value>,
  ) => TieredCache<Value> | null,
): SimilarAnswerCache | null {
  if (!config.similarAnswers.enabled) return null;
  // As many questions in all as the answer cache keeps answers.
  const groupCount = Math.max(1, Math.floor(config.answerCache.maxEntries / questionsPerSources));
  const settings = { ...config.answerCache, maxEntries: groupCount };
  const groups = cacheFor('similar-answers', settings, jsonCodec<SimilarEntry[]>());
  return groups ? new TieredSimilarAnswerCache(groups, config.similarAnswers.threshold) : null;
}

export interface ServiceParts {
  store: StoreEngine;
  /** See RagqlServices.gate. */
  gate: SpaceGate;
  embedder: Embedder | null;
  /** Chooses the model of each answer and plugin call. */
  router: ChatRouter;
  usage: UsageLedger;
  plugins: PluginRegistry;
  auth: Authenticator;
  tiers: Readonly<Record<string, Tier>>;
  rateLimits: RateLimits;
  metrics: Metrics;
  /** Null: every answer asks the model. */
  answerCache: AnswerCache | null;
  /** Null: no answer is reused for another question. */
  similarAnswerCache: SimilarAnswerCache | null;
  /** The validators of pages fetched by URL; null: every page is downloaded again. */
  knownPages: KnownPages | null;
  config: Pick<
    RagqlConfig,
    'answers' | 'chunking' | 'embeddingBatchSize' | 'limits' | 'files' | 'generator' | 'plugins'
  >;
  logger: Logger;
}

/**
 * The services around adapters that are already built and bound: every part is given, so that a
 * benchmark bringing its own store runs with parts it chose, not with a second set of defaults.
 */
export function assembleServices({
  store,
  embedder,
  router,
  plugins,
  auth,
  config,
  logger,
  tiers,
  rateLimits,
  metrics,
  answerCache,
  similarAnswerCache,
  knownPages,
  usage,
  gate,
}: ServiceParts): RagqlServices {
  const recordUsage = usageRecorder(metrics, usage);
  const retrieval = new RetrievalPipeline({
    registry: plugins,
    embedder,
    models: {
      // The caller's tier's model, as for its answers; a tier that routes to the extractive model
      // gives plugins none, and they do what they can without one.
      choose: (tier, question) => {
        const { model } = router.chooseByRules({ question, tier });
        return isExtractive(model) ? null : model;
      },
      onCall: ({ caller, model, usage: used }) =>
        recordModelCall(recordUsage, caller.tenant, caller.tier, model, used),
    },
    logger,
    pluginTimeoutMs: config.plugins.timeoutMs,
    candidateFactor: config.plugins.candidateFactor,
  });
  loadTokenizer();
  const chunks = new ChunkingThread();
  const files = new DocumentFiles({
    parser: new ParsingThread(config.files.parsing),
    maxFileBytes: config.files.maxFileBytes,
    maxFilesPerUpload: config.limits.maxDocumentsPerRequest,
  });
  const fetcher = new PageFetcher(new AddressPolicy(config.files.urls.allowedPrivateRanges), {
    timeoutMs: config.files.urls.timeoutMs,
    maxBytes: config.files.maxFileBytes,
  });
  const search = new SearchService(store, embedder, retrieval);
  const answers = new AnswerService({
    search,
    store,
    router,
    logger,
    cache: answerCache,
    similarAnswers: similarAnswerCache && embedder ? { cache: similarAnswerCache, embedder } : null,
    onAnswered: async (answer) => {
      if (!answer.cached) {
        await recordUsage(answer.tenant, answer.tier, answer.model, answer.usage, { answer: true });
      }
    },
    ...config.answers,
  });
  const documentLocks = new KeyedLocks((waiting) => metrics.documentWritesWaiting.set(waiting));
  return {
    store,
    search,
    answers,
    plugins,
    auth,
    tiers,
    rateLimits,
    metrics,
    usage,
    gate,
    // Re-embedding needs generations, which services assembled around a given store do not have.
    reembedding: null,
    close: async () => {
      await rateLimits.close();
      await chunks.close();
      await files.close();
      await fetcher.close();
      await store.close();
    },
    ingest: new IngestService({
      store,
      embedder,
      chunking: config.chunking,
      chunks,
      embeddingBatchSize: config.embeddingBatchSize,
      limits: config.limits,
      documentLocks,
    }),
    documents: new DocumentService(store, documentLocks),
    files,
    urls: new UrlIngestion({ fetcher, files, known: knownPages }),
    crawler: new SiteCrawler({ fetcher, files }),
    info: {
      version,
      store: store.kind,
      // Read when asked: a re-embedding switches the model while the server runs.
      get embedder() {
        return embedder ? `${embedder.provider}/${embedder.modelId}` : null;
      },
      generator: answers.generator,
    },
  };
}

/**
 * Binds the store to the embedder's space. A store that cannot be reached now (Weaviate down)
 * keeps the binding and checks it once it answers: ragql starts, /readyz says why it is not
 * ready, and it serves as soon as the store is back. A mismatch still stops the start.
 */
async function bindEmbeddingSpace(
  store: StoreEngine,
  space: EmbeddingSpace | null,
  logger: Logger,
): Promise<void> {
  try {
    await store.bindEmbeddingSpace(space);
  } catch (error) {
    if (!(error instanceof RagqlError && error.code === 'UPSTREAM_UNAVAILABLE')) throw error;
    logger.warn(
      { err: error },
      `The ${store.kind} store cannot be reached yet; ragql starts and serves once it answers.`,
    );
  }
}
