import { performance } from 'node:perf_hooks';
import { RagqlError } from '../errors.ts';
import { sha256Hex } from '../hash.ts';
import type { Logger } from '../observability/logger.ts';
import type { TraceStep } from '../plugins/retrieval.ts';
import type {
  ChatMessage,
  ChatModel,
  ChatStreamPart,
  GroundingSource,
  SearchHit,
  TokenUsage,
  VectorStore,
} from '../ports.ts';
import { estimateUsage } from '../text/token-count.ts';
import { parseCitations } from './citations.ts';
import { type ContextLimits, fitContext } from './context-budget.ts';
import type { SearchMode, SearchQuery, SearchService } from './search.ts';

export interface AnswerQuery extends Omit<SearchQuery, 'query'> {
  question: string;
  /** false: ask the model even when the same prompt was answered before. @default true */
  cache?: boolean | null;
  /** The caller's tokens: checked before retrieval, charged with the answer's usage. */
  budget?: AnswerBudget;
}

/** What an answer may spend (the gateway's daily token budget). */
export interface AnswerBudget {
  /** Throws (RATE_LIMITED) when nothing is left. */
  check(): Promise<void>;
  spend(tokens: number): Promise<void>;
}

/** What the answer cache keeps of a completed answer: the model's text. */
export interface CachedAnswer {
  text: string;
}

/** Where answers already given are kept (the gateway's tiered cache). */
export interface AnswerCache {
  get(key: string): Promise<CachedAnswer | undefined>;
  set(key: string, answer: CachedAnswer): Promise<void>;
}

export interface Citation {
  marker: number;
  hit: SearchHit;
}

export interface AnswerUsage extends TokenUsage {
  /** From the model's list price; null when ragql does not know it. */
  costUsd: number | null;
}

export interface AnswerLatency {
  /** From the request to the sources being ready (search, documents, context budget). */
  retrievalMs: number;
  /** From the request to the first token; null when no token came. */
  firstTokenMs: number | null;
  totalMs: number;
}

/** What retrieval found for a question: the sources of an answer, before the model writes. */
export interface RetrievedSources {
  /** Source [n] is sources[n - 1]: the hits that fit the context budget, in rank order. */
  sources: SearchHit[];
  /** Retrieved hits left out of the prompt because they did not fit the context budget. */
  omittedSources: SearchHit[];
  mode: SearchMode;
  /** What each retriever and reranker did. */
  trace: TraceStep[];
}

export interface CompletedAnswer extends RetrievedSources {
  text: string;
  citations: Citation[];
  /** Markers in the text that named no source; they are not in `citations`. */
  invalidCitations: number;
  generator: string;
  model: string;
  usage: AnswerUsage;
  latency: AnswerLatency;
  /** Served from the answer cache: the same tenant asked the same model with the same prompt before. */
  cached: boolean;
}

/** What an answer stream yields: sources once, tokens as they arrive, then completed or failed. */
export type AnswerEvent =
  | ({ type: 'sources' } & RetrievedSources)
  | { type: 'token'; index: number; text: string }
  | { type: 'completed'; answer: CompletedAnswer }
  | { type: 'failed'; error: RagqlError };

type AnswerOutcome = 'completed' | 'failed' | 'cancelled';

/** A question whose sources are retrieved, ready for the model. */
export interface PreparedAnswer extends RetrievedSources {
  question: string;
  /** The answer cache's key for this prompt; null when the answer must not come from the cache. */
  cacheKey: string | null;
  budget: AnswerBudget | null;
  grounding: GroundingSource[];
  messages: ChatMessage[];
  /** performance.now() when the request started. */
  startedAt: number;
  retrievalMs: number;
}

/** What ragql answers when retrieval finds nothing, without asking the model. */
export const nothingFoundText = 'I found nothing in the indexed documents about that question.';

/** Sources an answer is grounded in when the client does not say. */
export const defaultAnswerSources = 5;

export interface AnswerServiceOptions {
  search: SearchService;
  store: VectorStore;
  model: ChatModel;
  logger: Logger;
  /** Tokens the answer may take; also kept free in the context window. @default 1024 */
  maxOutputTokens?: number;
  /** The most tokens the sources may take in one prompt. @default 6000 */
  maxSourceTokens?: number;
  /** Answers already given, by tenant, model and prompt; absent: none are reused. */
  cache?: AnswerCache | null;
}

/** Answers: search, fit the hits into the context budget as numbered sources, stream the model's answer, parse citations. */
export class AnswerService {
  private readonly search: SearchService;
  private readonly store: VectorStore;
  private readonly model: ChatModel;
  private readonly logger: Logger;
  private readonly limits: ContextLimits;
  private readonly cache: AnswerCache | null;

  constructor(options: AnswerServiceOptions) {
    this.cache = options.cache ?? null;
    this.search = options.search;
    this.store = options.store;
    this.model = options.model;
    this.logger = options.logger;
    this.limits = {
      contextWindow: options.model.contextWindow,
      maxOutputTokens: options.maxOutputTokens ?? 1024,
      maxSourceTokens: options.maxSourceTokens ?? 6000,
    };
  }

  get generator(): string {
    return this.model.modelId === this.model.provider ? this.model.provider : this.model.modelId;
  }

  /** Retrieves and budgets the sources; bad input and retrieval failures throw here, before any event. */
  async prepare(query: AnswerQuery): Promise<PreparedAnswer> {
    const startedAt = performance.now();
    await query.budget?.check();
    const { question, budget, ...searchOptions } = query;
    const result = await this.search.search({
      ...searchOptions,
      query: question,
      limit: query.limit ?? defaultAnswerSources,
    });
    const documents = await this.store
      .forTenant(query.tenant)
      .getDocuments(result.hits.map((hit) => hit.chunk.documentId));
    const context = fitContext(
      question,
      result.hits.map((hit, position) => ({
        hit,
        title: documents[position]?.title ?? null,
        source: documents[position]?.source ?? null,
      })),
      this.limits,
    );
    return {
      question,
      sources: context.included,
      omittedSources: context.omitted,
      mode: result.mode,
      trace: result.trace,
      grounding: context.grounding,
      messages: context.messages,
      budget: budget ?? null,
      cacheKey:
        this.cache && query.cache !== false && context.included.length > 0
          ? answerCacheKey(query.tenant, this.model, context.messages)
          : null,
      startedAt,
      retrievalMs: performance.now() - startedAt,
    };
  }

  /**
   * The model's answer as events: sources, each token the moment the model sends it, then completed,
   * or failed when the model fails. When `signal` aborts, the stream ends without another event.
   */
  async *generate(prepared: PreparedAnswer, signal?: AbortSignal): AsyncIterable<AnswerEvent> {
    const { sources, omittedSources, mode, trace } = prepared;
    yield { type: 'sources', sources, omittedSources, mode, trace };

    let text = '';
    let tokens = 0;
    let firstTokenAt: number | null = null;
    let reportedUsage: TokenUsage | null = null;
    // What the answer ended as if the loop stops early: the consumer left and the stream was closed.
    let outcome: AnswerOutcome = 'cancelled';
    let failure: RagqlError | null = null;
    let accounted: ReturnType<AnswerService['account']>;
    const hit = prepared.cacheKey ? await this.cache?.get(prepared.cacheKey) : undefined;
    try {
      for await (const part of hit ? cachedParts(hit) : this.modelParts(prepared, signal)) {
        if (part.type === 'finish') {
          reportedUsage = part.usage;
          continue;
        }
        firstTokenAt ??= performance.now();
        text += part.text;
        yield { type: 'token', index: tokens++, text: part.text };
      }
      outcome = 'completed';
    } catch (error) {
      if (signal?.aborted) return;
      outcome = 'failed';
      if (!(error instanceof RagqlError)) throw error;
      this.logger.warn({ err: error.cause ?? error }, error.message);
      failure = error;
    } finally {
      accounted = this.account(prepared, outcome, text, reportedUsage, firstTokenAt);
      await prepared.budget?.spend(accounted.usage.totalTokens);
    }
    if (failure) {
      yield { type: 'failed', error: failure };
      return;
    }
    const { usage, latency } = accounted;
    if (prepared.cacheKey && !hit) await this.cache?.set(prepared.cacheKey, { text });
    const parsed = parseCitations(text, sources.length);
    yield {
      type: 'completed',
      answer: {
        text,
        citations: parsed.markers.map((marker) => ({ marker, hit: sources[marker - 1] as SearchHit })),
        invalidCitations: parsed.invalid,
        sources,
        omittedSources,
        mode,
        trace,
        generator: this.generator,
        model: this.model.modelId,
        usage,
        latency,
        cached: hit !== undefined,
      },
    };
  }

  /** Retrieval then generation, as one stream. */
  async *stream(query: AnswerQuery): AsyncIterable<AnswerEvent> {
    yield* this.generate(await this.prepare(query), query.signal);
  }

  /** The whole answer at once; a model failure throws. */
  async answer(query: AnswerQuery): Promise<CompletedAnswer> {
    for await (const event of this.stream(query)) {
      if (event.type === 'completed') return event.answer;
      if (event.type === 'failed') throw event.error;
    }
    throw new Error('The answer stream ended without a completed event.');
  }

  private async *modelParts(prepared: PreparedAnswer, signal: AbortSignal | undefined) {
    if (prepared.sources.length === 0) {
      // Nothing to ground an answer in: say so without paying for a model call.
      yield { type: 'text-delta' as const, text: nothingFoundText };
      return;
    }
    yield* this.model.stream({
      messages: prepared.messages,
      grounding: { question: prepared.question, sources: prepared.grounding },
      maxOutputTokens: this.limits.maxOutputTokens,
      signal,
    });
  }

  /**
   * Usage and latency of one answer, logged for operators whatever its outcome. When the model
   * reported no usage (a cancelled or failed stream), the tokens are counted here: only the text
   * that arrived before the end counts.
   */
  private account(
    prepared: PreparedAnswer,
    outcome: AnswerOutcome,
    text: string,
    reported: TokenUsage | null,
    firstTokenAt: number | null,
  ): { usage: AnswerUsage; latency: AnswerLatency } {
    const asked = prepared.sources.length > 0;
    const tokens = reported ?? estimateUsage(asked ? prepared.messages : [], asked ? text : '');
    const pricing = this.model.pricing;
    const usage: AnswerUsage = {
      ...tokens,
      costUsd: pricing
        ? (tokens.promptTokens * pricing.inputUsdPerMillion +
            tokens.completionTokens * pricing.outputUsdPerMillion) /
          1e6
        : null,
    };
    const latency: AnswerLatency = {
      retrievalMs: prepared.retrievalMs,
      firstTokenMs: firstTokenAt === null ? null : firstTokenAt - prepared.startedAt,
      totalMs: performance.now() - prepared.startedAt,
    };
    this.logger.info(
      { outcome, model: this.model.modelId, usage, usageReported: reported !== null, latency },
      'answer finished',
    );
    return { usage, latency };
  }
}

/** A cached answer as the model would have streamed it, at no cost: no tokens were paid for. */
async function* cachedParts(answer: CachedAnswer): AsyncIterable<ChatStreamPart> {
  yield { type: 'text-delta', text: answer.text };
  yield { type: 'finish', usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0 } };
}

/** Tenant-scoped, so one tenant's answer is never served to another, even for the same prompt. */
function answerCacheKey(tenant: string, model: ChatModel, messages: readonly ChatMessage[]): string {
  return sha256Hex(JSON.stringify([tenant, model.provider, model.modelId, messages]));
}
