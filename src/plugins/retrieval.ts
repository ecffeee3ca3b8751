import { performance } from 'node:perf_hooks';
import { deadline, untilAborted } from '../abort.ts';
import { RagqlError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { ChatModel, Embedder, Filter, TenantStore } from '../ports.ts';
import type {
  Candidate,
  PluginChat,
  PluginContext,
  PluginDefinition,
  PluginEmbedder,
  PluginKind,
  RetrievalQuery,
  RetrievalResult,
  StoreSearchQuery,
  TraceDetails,
} from './api.ts';
import type { PluginRegistry } from './registry.ts';

/** A plugin chosen by a request, with its options (checked against the plugin's schema). */
export interface PluginRef {
  name: string;
  options?: unknown;
}

export interface RerankerRef extends PluginRef {
  /** Hits to keep. @default the request's limit */
  topN?: number | null;
  /** Candidates the retriever fetches for the reranker. @default `candidateFactor` x topN */
  candidates?: number | null;
}

/** One plugin's part in a retrieval, reported to clients. */
export interface TraceStep {
  plugin: string;
  kind: PluginKind;
  tookMs: number;
  candidatesIn: number;
  candidatesOut: number;
  details: TraceDetails | null;
}

export interface RetrievalRequest {
  tenant: TenantStore;
  filter: Filter;
  query: RetrievalQuery;
  retriever?: PluginRef | null;
  reranker?: RerankerRef | null;
  signal?: AbortSignal | undefined;
}

export interface RetrievalOutcome {
  candidates: Candidate[];
  trace: TraceStep[];
}

export interface RetrievalPipelineOptions {
  registry: PluginRegistry;
  embedder: Embedder | null;
  /** Null when the generator is not an LLM. */
  chatModel: ChatModel | null;
  logger: Logger;
  /** The longest one plugin step may run. @default 30000 */
  pluginTimeoutMs?: number;
  /** Candidates fetched per hit kept when a reranker runs. @default 2 */
  candidateFactor?: number;
}

/** A plugin chosen by a request, with its options checked. */
interface Resolved<Kind extends PluginKind> {
  plugin: Extract<PluginDefinition, { kind: Kind }>;
  options: Record<string, unknown>;
}

export const defaultRetriever = 'hybrid';
/** The most candidates one store search returns to a plugin. */
export const maxCandidates = 1000;

/**
 * Runs a request's retriever, then its reranker, each as an isolated step: a plugin that throws,
 * returns something that is not a result, or outlives its time fails the request with
 * PLUGIN_FAILED naming it; the request's own abort passes through; the server goes on.
 */
export class RetrievalPipeline {
  private readonly timeoutMs: number;
  private readonly candidateFactor: number;

  constructor(private readonly options: RetrievalPipelineOptions) {
    this.timeoutMs = options.pluginTimeoutMs ?? 30_000;
    this.candidateFactor = options.candidateFactor ?? 2;
  }

  async run(request: RetrievalRequest): Promise<RetrievalOutcome> {
    // Both plugins and their options are resolved before anything runs, so bad input fails first.
    const retriever = this.resolve('retriever', request.retriever ?? { name: defaultRetriever });
    const reranker = request.reranker ? this.resolve('reranker', request.reranker) : null;
    const trace: TraceStep[] = [];
    const topN = request.reranker?.topN ?? request.query.limit;
    const fetch = request.reranker
      ? Math.min(maxCandidates, request.reranker.candidates ?? this.candidateFactor * topN)
      : request.query.limit;
    const retrieved = await this.retrieveWith(request, trace, retriever, { ...request.query, limit: fetch });
    if (!reranker) return { candidates: retrieved.candidates.slice(0, request.query.limit), trace };
    const reranked = await this.step(
      request,
      trace,
      reranker.plugin,
      retrieved.candidates.length,
      (context) =>
        reranker.plugin
          .create(context, reranker.options)
          .rerank({ text: request.query.text, topN }, retrieved.candidates),
    );
    return { candidates: reranked.candidates.slice(0, topN), trace };
  }

  /** A registered plugin of that kind and the request's options for it, checked. */
  private resolve<Kind extends PluginKind>(kind: Kind, ref: PluginRef): Resolved<Kind> {
    const plugin = this.options.registry.get(kind, ref.name);
    return { plugin, options: this.options.registry.parseOptions(plugin, ref.options) };
  }

  private retrieveWith(
    request: RetrievalRequest,
    trace: TraceStep[],
    { plugin, options }: Resolved<'retriever'>,
    query: RetrievalQuery,
  ): Promise<RetrievalResult> {
    return this.step(request, trace, plugin, 0, (context) => plugin.create(context, options).retrieve(query));
  }

  /** One plugin call: its own context and deadline, its failures named, its trace step recorded. */
  private async step(
    request: RetrievalRequest,
    trace: TraceStep[],
    plugin: PluginDefinition,
    candidatesIn: number,
    call: (context: PluginContext) => Promise<RetrievalResult>,
  ): Promise<RetrievalResult> {
    const stepDeadline = deadline(request.signal, this.timeoutMs);
    const { signal } = stepDeadline;
    const context = this.contextFor(request, trace, plugin, signal);
    const started = performance.now();
    let result: RetrievalResult;
    try {
      result = await untilAborted(
        Promise.resolve().then(() => call(context)),
        signal,
      );
    } catch (error) {
      if (request.signal?.aborted) throw request.signal.reason;
      throw this.failure(plugin, error, stepDeadline.timedOut());
    } finally {
      stepDeadline.release();
    }
    if (!isResult(result)) {
      throw this.failure(plugin, new Error('it returned no { candidates: [...] } result'), false);
    }
    trace.push({
      plugin: plugin.name,
      kind: plugin.kind,
      tookMs: performance.now() - started,
      candidatesIn,
      candidatesOut: result.candidates.length,
      details: result.details ?? null,
    });
    return result;
  }

  private failure(plugin: PluginDefinition, error: unknown, timedOut: boolean): RagqlError {
    // ragql's own errors (a store that is down, bad options for a nested plugin) keep their code.
    if (error instanceof RagqlError && !timedOut) return error;
    const failure = new RagqlError(
      'PLUGIN_FAILED',
      timedOut
        ? `The ${plugin.kind} plugin "${plugin.name}" did not finish within ${this.timeoutMs} ms.`
        : `The ${plugin.kind} plugin "${plugin.name}" failed; the server log has the details.`,
      { plugin: plugin.name },
    );
    failure.cause = error;
    return failure;
  }

  private contextFor(
    request: RetrievalRequest,
    trace: TraceStep[],
    plugin: PluginDefinition,
    signal: AbortSignal,
  ): PluginContext {
    const { embedder, chatModel, logger } = this.options;
    const pluginEmbedder = embedder ? embedderFor(embedder, signal) : null;
    return {
      search: (query) => this.search(request, pluginEmbedder, query),
      chunksOf: (documentId) => request.tenant.getChunks(documentId),
      embeddingsOf: async (candidates) => {
        const documentIds = [...new Set(candidates.map((candidate) => candidate.chunk.documentId))];
        const byDocument = new Map(
          await Promise.all(
            documentIds.map(async (id) => [id, await request.tenant.getChunkEmbeddings(id)] as const),
          ),
        );
        return candidates.map(
          (candidate) => byDocument.get(candidate.chunk.documentId)?.get(candidate.chunk.contentHash) ?? null,
        );
      },
      embedder: pluginEmbedder,
      chat: chatModel ? chatFor(chatModel, signal) : null,
      retrieve: (ref, query) =>
        this.retrieveWith({ ...request, signal }, trace, this.resolve('retriever', ref), query),
      logger: logger.child({ plugin: plugin.name }),
      signal,
    };
  }

  private async search(
    request: RetrievalRequest,
    embedder: PluginEmbedder | null,
    query: StoreSearchQuery,
  ): Promise<Candidate[]> {
    const alpha = embedder ? (query.alpha ?? request.query.alpha) : 0;
    const vector =
      alpha === 0 ? undefined : (query.vector ?? (await embedder?.embed([query.text], 'query'))?.[0]);
    return request.tenant.search({
      text: query.text,
      vector,
      alpha,
      fusion: query.fusion ?? request.query.fusion,
      limit: Math.max(1, Math.min(maxCandidates, Math.floor(query.limit))),
      filter: request.filter,
    });
  }
}

function embedderFor(embedder: Embedder, signal: AbortSignal): PluginEmbedder {
  return {
    dimensions: embedder.dimensions,
    async embed(texts, purpose) {
      const embeddings: Float32Array[] = [];
      for (let start = 0; start < texts.length; start += embedder.maxEmbeddingsPerCall) {
        const batch = texts.slice(start, start + embedder.maxEmbeddingsPerCall);
        embeddings.push(...(await embedder.embed(batch, { purpose, signal })).embeddings);
      }
      return embeddings;
    },
  };
}

function chatFor(model: ChatModel, signal: AbortSignal): PluginChat {
  return {
    modelId: model.modelId,
    async complete(messages, options) {
      let text = '';
      for await (const part of model.stream({
        messages,
        maxOutputTokens: options?.maxOutputTokens,
        signal,
      })) {
        if (part.type === 'text-delta') text += part.text;
        // Another model starts over: what came before is void.
        if (part.type === 'fallback') text = '';
      }
      return text;
    },
  };
}

function isResult(value: unknown): value is RetrievalResult {
  const candidates = (value as { candidates?: unknown } | null)?.candidates;
  return (
    Array.isArray(candidates) &&
    candidates.every(
      (candidate: Partial<Candidate> | null) =>
        typeof candidate?.chunk?.id === 'string' && Number.isFinite(candidate.score),
    )
  );
}
