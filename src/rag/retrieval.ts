import { performance } from 'node:perf_hooks';
import { deadline, untilAborted } from '../abort.ts';
import { budgetedCompletion } from '../budgeted-completion.ts';
import { badInput, RagqlError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import {
  type Candidate,
  type PluginChat,
  type PluginContext,
  type PluginDefinition,
  type PluginEmbedder,
  type PluginKind,
  PluginOptionError,
  type RetrievalQuery,
  type RetrievalResult,
  type StoreSearchQuery,
  type TraceDetails,
} from '../plugin-api/api.ts';
import type { PluginRegistry } from '../plugin-api/registry.ts';
import {
  type ChatModel,
  type Embedder,
  type Filter,
  searchMode,
  type TenantStore,
  type TokenBudget,
  type TokenUsage,
} from '../ports.ts';
import { embedInBatches } from './embed-in-batches.ts';

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

/** Who a retrieval runs for: plugins' model calls are routed, budgeted and recorded as theirs. */
export interface RetrievalCaller {
  tenant: string;
  tier: string;
  /** Null: the caller's model calls are not budgeted (the CLI, benchmarks). */
  budget: TokenBudget | null;
}

export interface RetrievalRequest {
  tenant: TenantStore;
  caller: RetrievalCaller;
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

/** One chat call a plugin made, once it ended. */
export interface PluginModelCall {
  caller: RetrievalCaller;
  /** The model that answered (a fallback, when the chosen one failed). */
  model: ChatModel;
  usage: TokenUsage;
}

/** How plugins reach chat models: through the gateway, as the caller's answers do. */
export interface PluginModels {
  /** The model for a plugin of a `tier` caller retrieving for `question`; null when it is no LLM. */
  choose(tier: string, question: string): ChatModel | null;
  /** Told of every call once it ends, whatever its outcome (metrics, usage ledger). */
  onCall(call: PluginModelCall): Promise<void>;
}

export interface RetrievalPipelineOptions {
  registry: PluginRegistry;
  embedder: Embedder | null;
  /** Null: plugins get no chat model. */
  models: PluginModels | null;
  logger: Logger;
  /** The longest one plugin step may run. @default `defaultPluginTimeoutMs` */
  pluginTimeoutMs?: number;
  /** Candidates fetched per hit kept when a reranker runs. @default `defaultCandidateFactor` */
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
/** How deep retrievers may nest (a retriever running another is one level deeper). */
export const maxPluginDepth = 3;
/** The most chat calls the plugins of one retrieval may make together. */
export const maxPluginModelCalls = 8;
/** The answer length a plugin's chat call is reserved for when it names none. */
export const defaultPluginOutputTokens = 1024;
/** The longest one plugin step may run when the server's configuration does not say. */
export const defaultPluginTimeoutMs = 30_000;
/** Candidates fetched per hit kept when a reranker runs and neither request nor configuration says. */
export const defaultCandidateFactor = 2;

/**
 * One run of the pipeline: its request, trace, and the model calls its plugins made. A refusal
 * (too deep, too many calls, budget spent) fails the whole run even when a plugin catches it.
 */
interface Run {
  request: RetrievalRequest;
  trace: TraceStep[];
  /** Shared by nested steps, which run with their own request signal. */
  spent: { modelCalls: number; refusal: RagqlError | null };
}

/**
 * Runs a request's retriever, then its reranker, each as an isolated step: a plugin that throws,
 * returns something that is not a result, or outlives its time fails the request with
 * PLUGIN_FAILED naming it; the request's own abort passes through; the server goes on.
 */
export class RetrievalPipeline {
  private readonly timeoutMs: number;
  private readonly candidateFactor: number;
  private readonly options: RetrievalPipelineOptions;

  constructor(options: RetrievalPipelineOptions) {
    this.options = options;
    this.timeoutMs = options.pluginTimeoutMs ?? defaultPluginTimeoutMs;
    this.candidateFactor = options.candidateFactor ?? defaultCandidateFactor;
  }

  async run(request: RetrievalRequest): Promise<RetrievalOutcome> {
    // Both plugins and their options are resolved before anything runs, so bad input fails first.
    const retriever = this.resolve('retriever', request.retriever ?? { name: defaultRetriever });
    const reranker = request.reranker ? this.resolve('reranker', request.reranker) : null;
    const run: Run = { request, trace: [], spent: { modelCalls: 0, refusal: null } };
    const topN = request.reranker?.topN ?? request.query.limit;
    const fetch = request.reranker
      ? Math.min(maxCandidates, request.reranker.candidates ?? this.candidateFactor * topN)
      : request.query.limit;
    const retrieved = await this.retrieveWith(run, 1, retriever, { ...request.query, limit: fetch });
    if (!reranker) {
      return { candidates: retrieved.candidates.slice(0, request.query.limit), trace: run.trace };
    }
    const reranked = await this.step(run, 1, reranker.plugin, retrieved.candidates.length, (context) =>
      reranker.plugin
        .create(context, reranker.options)
        .rerank({ text: request.query.text, topN }, retrieved.candidates),
    );
    return { candidates: reranked.candidates.slice(0, topN), trace: run.trace };
  }

  /** A registered plugin of that kind and the request's options for it, checked. */
  private resolve<Kind extends PluginKind>(kind: Kind, ref: PluginRef): Resolved<Kind> {
    const plugin = this.options.registry.get(kind, ref.name);
    return { plugin, options: this.options.registry.parseOptions(plugin, ref.options) };
  }

  private retrieveWith(
    run: Run,
    depth: number,
    { plugin, options }: Resolved<'retriever'>,
    query: RetrievalQuery,
  ): Promise<RetrievalResult> {
    return this.step(run, depth, plugin, 0, (context) => plugin.create(context, options).retrieve(query));
  }

  /** One plugin call: its own context and deadline, its failures named, its trace step recorded. */
  private async step(
    run: Run,
    depth: number,
    plugin: PluginDefinition,
    candidatesIn: number,
    call: (context: PluginContext) => Promise<RetrievalResult>,
  ): Promise<RetrievalResult> {
    const { request, trace } = run;
    const stepDeadline = deadline(request.signal, this.timeoutMs);
    const { signal } = stepDeadline;
    const context = this.contextFor(run, depth, plugin, signal);
    const started = performance.now();
    let result: RetrievalResult;
    try {
      result = await untilAborted(
        Promise.resolve().then(() => call(context)),
        signal,
      );
    } catch (error) {
      if (request.signal?.aborted) throw request.signal.reason;
      if (run.spent.refusal) {
        // The request is refused: model calls its plugins still have in flight would be paid for nothing.
        stepDeadline.abort(run.spent.refusal);
        throw run.spent.refusal;
      }
      throw this.failure(plugin, error, stepDeadline.timedOut());
    } finally {
      stepDeadline.release();
    }
    // A plugin that caught a refusal (multi-query falls back when its model call fails) still fails.
    if (run.spent.refusal) throw run.spent.refusal;
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
    if (error instanceof PluginOptionError && !timedOut) {
      return badInput(
        `The ${plugin.kind} plugin "${plugin.name}", option "${error.option}": ${error.message}`,
        {
          plugin: plugin.name,
          option: error.option,
        },
      );
    }
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

  private contextFor(run: Run, depth: number, plugin: PluginDefinition, signal: AbortSignal): PluginContext {
    const { request } = run;
    const { embedder, logger } = this.options;
    const pluginEmbedder = embedder ? embedderFor(embedder, request.caller.tenant, signal) : null;
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
      chat: this.chatFor(run, signal),
      retrieve: async (ref, query) => {
        if (depth >= maxPluginDepth) {
          throw refuse(
            run,
            badInput(
              `Retrievers nest at most ${maxPluginDepth} deep; "${plugin.name}" may not run "${ref.name}" at level ${depth + 1}.`,
              { maxPluginDepth },
            ),
          );
        }
        const nested = { ...run, request: { ...request, signal } };
        return this.retrieveWith(nested, depth + 1, this.resolve('retriever', ref), query);
      },
      logger: logger.child({ plugin: plugin.name }),
      signal,
    };
  }

  /**
   * The caller's model as its tier routes it, each call counted against the run's limit, its most
   * tokens reserved from the caller's budget before it starts and settled when it ends.
   */
  private chatFor(run: Run, signal: AbortSignal): PluginChat | null {
    const { models } = this.options;
    const { caller } = run.request;
    const model = models?.choose(caller.tier, run.request.query.text) ?? null;
    if (!models || !model) return null;
    return {
      modelId: model.modelId,
      complete: async (messages, options) => {
        if (run.spent.modelCalls >= maxPluginModelCalls) {
          throw refuse(
            run,
            new RagqlError(
              'RATE_LIMITED',
              `The plugins of one request may ask a model at most ${maxPluginModelCalls} times.`,
              { limit: 'pluginModelCalls', maxPluginModelCalls },
            ),
          );
        }
        run.spent.modelCalls++;
        try {
          return await budgetedCompletion({
            model,
            messages,
            maxOutputTokens: options?.maxOutputTokens ?? defaultPluginOutputTokens,
            signal,
            budget: caller.budget,
            onFinished: ({ model: answering, usage }) => models.onCall({ caller, model: answering, usage }),
          });
        } catch (error) {
          throw isBudgetRefusal(error) ? refuse(run, error) : error;
        }
      },
    };
  }

  private async search(
    request: RetrievalRequest,
    embedder: PluginEmbedder | null,
    query: StoreSearchQuery,
  ): Promise<Candidate[]> {
    const asked = query.alpha ?? request.query.alpha;
    const alpha = searchMode(asked, embedder !== null) === 'KEYWORD' ? 0 : asked;
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

function embedderFor(embedder: Embedder, tenant: string, signal: AbortSignal): PluginEmbedder {
  return {
    dimensions: embedder.dimensions,
    async embed(texts, purpose) {
      const batchSize = embedder.maxEmbeddingsPerCall;
      return (await embedInBatches(embedder, texts, { purpose, tenant, signal, batchSize })).embeddings;
    },
  };
}

/** The caller's budget refusing a call's tokens (what its reservation throws). */
function isBudgetRefusal(error: unknown): error is RagqlError {
  return error instanceof RagqlError && error.code === 'RATE_LIMITED';
}

/** Records the run's refusal (the first one stands) and returns it, to throw. */
function refuse(run: Run, refusal: RagqlError): RagqlError {
  run.spent.refusal ??= refusal;
  return run.spent.refusal;
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
