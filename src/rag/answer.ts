import { performance } from 'node:perf_hooks';
import { RagqlError } from '../errors.ts';
import { sha256Hex } from '../hash.ts';
import type { Logger } from '../observability/logger.ts';
import type {
  AnswerCache,
  CachedAnswer,
  ChatMessage,
  ChatModel,
  ChatRouter,
  ChatStreamPart,
  Embedder,
  SearchHit,
  SimilarAnswerCache,
  SimilarQuestion,
  StoreEngine,
  TokenUsage,
} from '../ports.ts';
import { countMessageTokens } from '../text/token-count.ts';
import type {
  AnswerEvent,
  AnswerLatency,
  AnswerOutcome,
  AnswerQuery,
  AnswerRecord,
  AnswerUsage,
  CacheMatch,
  CompletedAnswer,
  FallbackRecord,
  PreparedAnswer,
} from './answer-types.ts';
import { type AnswerAttempt, answerUsage } from './answer-usage.ts';
import { parseCitations } from './citations.ts';
import { type ContextLimits, fitContext } from './context-budget.ts';
import { embedInBatches } from './embed-in-batches.ts';
import { defaultTier, type SearchService } from './search.ts';

/** One model for every question, with no fallbacks: an AnswerService without a gateway. */
export function singleModelRouter(model: ChatModel): ChatRouter {
  const choice = { model, reason: 'the only model' };
  return { defaultModel: model, choose: async () => choice, chooseByRules: () => choice };
}
/** What ragql answers when retrieval finds nothing, without asking the model. */
export const nothingFoundText = 'I found nothing in the indexed documents about that question.';

/** Sources an answer is grounded in when the client does not say. */
export const defaultAnswerSources = 5;

/** The token budgets of one answer when the server's configuration does not set them. */
export const defaultAnswerLimits: Omit<ContextLimits, 'contextWindow'> = Object.freeze({
  maxOutputTokens: 1024,
  maxSourceTokens: 6000,
});

export interface AnswerServiceOptions {
  search: SearchService;
  store: StoreEngine;
  router: ChatRouter;
  logger: Logger;
  /** Tokens the answer may take; also kept free in the context window. @default `defaultAnswerLimits` */
  maxOutputTokens?: number;
  /** The most tokens the sources may take in one prompt. @default `defaultAnswerLimits` */
  maxSourceTokens?: number;
  /** Answers already given, by tenant, model and prompt; absent: none are reused. */
  cache?: AnswerCache | null;
  /**
   * Answers to similar questions on the same sources, and the embedder that places questions in
   * the store's space; absent: only answers to the very same prompt are reused.
   */
  similarAnswers?: { cache: SimilarAnswerCache; embedder: Embedder } | null;
  /** Told of every answer once it ends, whatever the outcome; awaited before the last event. */
  onAnswered?: (record: AnswerRecord) => void | Promise<void>;
}

/** Answers: search, fit the hits into the context budget as numbered sources, stream the model's answer, parse citations. */
export class AnswerService {
  private readonly search: SearchService;
  private readonly store: StoreEngine;
  private readonly router: ChatRouter;
  private readonly logger: Logger;
  private readonly limits: Omit<ContextLimits, 'contextWindow'>;
  private readonly cache: AnswerCache | null;
  private readonly similarAnswers: AnswerServiceOptions['similarAnswers'];
  private readonly onAnswered: AnswerServiceOptions['onAnswered'];

  constructor(options: AnswerServiceOptions) {
    this.cache = options.cache ?? null;
    this.similarAnswers = options.similarAnswers ?? null;
    this.search = options.search;
    this.store = options.store;
    this.router = options.router;
    this.logger = options.logger;
    this.onAnswered = options.onAnswered;
    this.limits = {
      maxOutputTokens: options.maxOutputTokens ?? defaultAnswerLimits.maxOutputTokens,
      maxSourceTokens: options.maxSourceTokens ?? defaultAnswerLimits.maxSourceTokens,
    };
  }

  /** What answers when nothing chooses otherwise. */
  get generator(): string {
    return this.router.defaultModel.modelId;
  }

  /** Retrieves and budgets the sources; bad input and retrieval failures throw here, before any event. */
  async prepare(query: AnswerQuery): Promise<PreparedAnswer> {
    const startedAt = performance.now();
    await query.budget?.check();
    const { question, budget, tier = defaultTier, model, ...searchOptions } = query;
    // Routing (which may ask a classifier model) runs beside retrieval, not before it; a search
    // that fails stops it.
    const routing = new AbortController();
    const choosing = this.router.choose({
      question,
      tier,
      requested: model,
      tenant: query.tenant,
      budget: budget ?? null,
      signal: query.signal ? AbortSignal.any([query.signal, routing.signal]) : routing.signal,
    });
    // Its refusal (a model the tier may not use) is awaited below, after the search.
    choosing.catch(() => undefined);
    let result: Awaited<ReturnType<SearchService['search']>>;
    try {
      result = await this.search.search({
        ...searchOptions,
        caller: { tier, budget: budget ?? null },
        query: question,
        limit: query.limit ?? defaultAnswerSources,
      });
    } catch (error) {
      routing.abort(error);
      await choosing.catch(() => undefined);
      throw error;
    }
    const choice = await choosing;
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
      { ...this.limits, contextWindow: choice.model.contextWindow },
    );
    const reusable = query.cache !== false && context.included.length > 0;
    // The most the model may spend: the whole prompt and the longest answer. Without sources it is not asked.
    const reservation = await budget?.reserve(
      context.included.length > 0 ? countMessageTokens(context.messages) + this.limits.maxOutputTokens : 0,
    );
    return {
      question,
      sources: context.included,
      omittedSources: context.omitted,
      mode: result.mode,
      trace: result.trace,
      grounding: context.grounding,
      messages: context.messages,
      reservation: reservation ?? null,
      tier,
      tenant: query.tenant,
      choice,
      cacheKey: this.cache && reusable ? answerCacheKey(query.tenant, choice.model, context.messages) : null,
      similarQuestion:
        this.similarAnswers && reusable
          ? {
              tenant: query.tenant,
              model: `${choice.model.provider}/${choice.model.modelId}`,
              sourcesKey: sourcesKey(context.included),
              question,
            }
          : null,
      startedAt,
      retrievalMs: performance.now() - startedAt,
    };
  }

  /**
   * The model's answer as events: sources, each token the moment the model sends it, then completed,
   * or failed when the model fails. When a fallback model takes over after tokens were sent, a
   * restarted event voids them. When `signal` aborts, the stream ends without another event.
   */
  async *generate(prepared: PreparedAnswer, signal?: AbortSignal): AsyncIterable<AnswerEvent> {
    const { sources, omittedSources, mode, trace } = prepared;
    yield { type: 'sources', sources, omittedSources, mode, trace };

    const run: AnswerRun = { model: prepared.choice.model, text: '', abandoned: [], fallbacks: [] };
    let tokens = 0;
    let firstTokenAt: number | null = null;
    let reportedUsage: TokenUsage | null = null;
    // What the answer ended as if the loop stops early: the consumer left and the stream was closed.
    let outcome: AnswerOutcome = 'cancelled';
    let failure: RagqlError | null = null;
    let accounted: ReturnType<AnswerService['account']>;
    const { hit, match, similar } = await this.cached(prepared, signal);
    try {
      for await (const part of hit ? cachedParts(hit) : this.modelParts(prepared, signal)) {
        if (part.type === 'finish') {
          reportedUsage = part.usage;
          continue;
        }
        if (part.type === 'fallback') {
          run.abandoned.push({ model: run.model, text: run.text });
          run.fallbacks.push({
            from: part.from.modelId,
            to: part.to.modelId,
            reason: part.reason,
            afterTokens: part.failedAfterDeltas,
          });
          run.model = part.to;
          run.text = '';
          if (tokens > 0) yield { type: 'restarted', model: part.to.modelId, reason: part.reason };
          tokens = 0;
          firstTokenAt = null;
          continue;
        }
        firstTokenAt ??= performance.now();
        run.text += part.text;
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
      accounted = this.account(prepared, run, outcome, reportedUsage, firstTokenAt);
      await prepared.reservation?.settle(accounted.usage.totalTokens);
      await this.onAnswered?.({
        tenant: prepared.tenant,
        tier: prepared.tier,
        model: run.model,
        outcome,
        usage: accounted.usage,
        latency: accounted.latency,
        fallbacks: run.fallbacks,
        cached: hit !== undefined,
      });
    }
    if (failure) {
      yield { type: 'failed', error: failure };
      return;
    }
    const { usage, latency } = accounted;
    const { text } = run;
    // A fallback's answer is not the chosen model's: the next ask should try that model again.
    if (!hit && run.fallbacks.length === 0) {
      if (prepared.cacheKey) await this.cache?.set(prepared.cacheKey, { text });
      if (similar) await this.similarAnswers?.cache.add(similar, { text });
    }
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
        generator: run.model.modelId,
        model: run.model.modelId,
        routing: { model: run.model.modelId, reason: prepared.choice.reason, fallbacks: run.fallbacks },
        usage,
        latency,
        cached: hit !== undefined,
        cacheMatch: match,
      },
    };
  }

  /**
   * The cached answer to this prompt, else to a similar question on the same sources (embedding
   * the question only then), and the question as the similar-answer cache keeps it.
   */
  private async cached(
    prepared: PreparedAnswer,
    signal: AbortSignal | undefined,
  ): Promise<{ hit: CachedAnswer | undefined; match: CacheMatch | null; similar: SimilarQuestion | null }> {
    const exact = prepared.cacheKey ? await this.cache?.get(prepared.cacheKey) : undefined;
    if (exact || !prepared.similarQuestion || !this.similarAnswers) {
      return { hit: exact, match: null, similar: null };
    }
    const { embedder, cache } = this.similarAnswers;
    // Read before embedding: a switch of model while the question is embedded must not file this
    // vector under the next model's questions.
    const embeddingModel = `${embedder.provider}/${embedder.modelId}`;
    const [vector] = (
      await embedInBatches(embedder, [prepared.question], {
        purpose: 'query',
        tenant: prepared.tenant,
        signal,
        batchSize: 1,
      })
    ).embeddings;
    if (!vector) return { hit: undefined, match: null, similar: null };
    const similar = {
      ...prepared.similarQuestion,
      vector,
      embeddingModel,
    };
    const found = await cache.find(similar);
    if (!found) return { hit: undefined, match: null, similar };
    return {
      hit: found.answer,
      match: { question: found.question, similarity: found.similarity },
      similar: null,
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
    yield* prepared.choice.model.stream({
      messages: prepared.messages,
      grounding: { question: prepared.question, sources: prepared.grounding },
      maxOutputTokens: this.limits.maxOutputTokens,
      signal,
    });
  }

  /** Usage and latency of one answer, logged for operators whatever its outcome. */
  private account(
    prepared: PreparedAnswer,
    run: AnswerRun,
    outcome: AnswerOutcome,
    reported: TokenUsage | null,
    firstTokenAt: number | null,
  ): { usage: AnswerUsage; latency: AnswerLatency } {
    // Without sources no model was asked: the nothing-found text it "wrote" costs no tokens.
    const asked = prepared.sources.length > 0;
    const usage = answerUsage({
      prompt: asked ? prepared.messages : [],
      abandoned: run.abandoned,
      last: { model: run.model, text: asked ? run.text : '' },
      reported,
    });
    const latency: AnswerLatency = {
      retrievalMs: prepared.retrievalMs,
      firstTokenMs: firstTokenAt === null ? null : firstTokenAt - prepared.startedAt,
      totalMs: performance.now() - prepared.startedAt,
    };
    this.logger.info(
      {
        outcome,
        model: run.model.modelId,
        routing: prepared.choice.reason,
        fallbacks: run.fallbacks.length,
        usage,
        usageReported: reported !== null,
        latency,
      },
      'answer finished',
    );
    return { usage, latency };
  }
}

/** Who is writing the answer now, what it wrote, and the models abandoned on the way. */
interface AnswerRun {
  model: ChatModel;
  text: string;
  abandoned: AnswerAttempt[];
  fallbacks: FallbackRecord[];
}

/** A cached answer as the model would have streamed it, at no cost: no tokens were paid for. */
async function* cachedParts(answer: CachedAnswer): AsyncIterable<ChatStreamPart> {
  yield { type: 'text-delta', text: answer.text };
  yield { type: 'finish', usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0 } };
}

/** Tenant-scoped, so one tenant's answer is never served to another, even for the same prompt. */
/**
 * The sources an answer was made from, as the similar-answer cache tells them apart: each chunk
 * and its content, in order (the answer's markers number them).
 */
function sourcesKey(sources: readonly SearchHit[]): string {
  return sha256Hex(JSON.stringify(sources.map((hit) => [hit.chunk.id, hit.chunk.contentHash])));
}

function answerCacheKey(tenant: string, model: ChatModel, messages: readonly ChatMessage[]): string {
  return sha256Hex(JSON.stringify([tenant, model.provider, model.modelId, messages]));
}
