/**
 * What an answer is, as callers of AnswerService see it: the query, the events of a stream, the
 * completed answer with its citations, routing, usage and latency.
 */
import type { RagqlError } from '../errors.ts';
import type {
  ChatMessage,
  ChatModel,
  GroundingSource,
  ModelChoice,
  SearchHit,
  SimilarQuestion,
  TokenBudget,
  TokenReservation,
  TokenUsage,
} from '../ports.ts';
import type { TraceStep } from './retrieval.ts';
import type { SearchMode, SearchQuery } from './search.ts';

export interface AnswerQuery extends Omit<SearchQuery, 'query'> {
  question: string;
  /** false: ask the model even when the same prompt was answered before. @default true */
  cache?: boolean | null;
  /** The caller's tokens: checked before retrieval, reserved before the model is asked. */
  budget?: TokenBudget;
  /** The caller's tier, which decides the models it may use. @default `defaultTier` */
  tier?: string;
  /** The chat model the client asks for, within what its tier allows; absent: routed. */
  model?: string | null;
}

/** A model that failed and the one that took over from it. */
export interface FallbackRecord {
  from: string;
  to: string;
  /** Why `from` failed, in ragql's words. */
  reason: string;
  /** Tokens of `from`'s answer that had been sent before it failed (then void). */
  afterTokens: number;
}

/** Which model wrote an answer, and why that one. */
export interface Routing {
  model: string;
  reason: string;
  /** The models that failed on the way, in order. */
  fallbacks: FallbackRecord[];
}

/** What the gateway learns of every answer, whatever its outcome (metrics, usage ledger). */
export interface AnswerRecord {
  tenant: string;
  tier: string;
  model: ChatModel;
  outcome: AnswerOutcome;
  usage: AnswerUsage;
  latency: AnswerLatency;
  fallbacks: FallbackRecord[];
  cached: boolean;
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
  /** What wrote the answer: the model's id, or `extractive`. */
  generator: string;
  model: string;
  routing: Routing;
  usage: AnswerUsage;
  latency: AnswerLatency;
  /** Served from the answer cache: the same tenant asked the same model with the same prompt before. */
  cached: boolean;
  /** When the cached answer was another question's (the similar-answer cache): which, how close. */
  cacheMatch: CacheMatch | null;
}

/** The earlier question whose answer was reused, and its cosine similarity to this one. */
export interface CacheMatch {
  question: string;
  similarity: number;
}

/** What an answer stream yields: sources once, tokens as they arrive, then completed or failed. */
export type AnswerEvent =
  | ({ type: 'sources' } & RetrievedSources)
  | { type: 'token'; index: number; text: string }
  /** The model failed after sending tokens: they are void, and `model` answers from the start. */
  | { type: 'restarted'; model: string; reason: string }
  | { type: 'completed'; answer: CompletedAnswer }
  | { type: 'failed'; error: RagqlError };

export type AnswerOutcome = 'completed' | 'failed' | 'cancelled';

/** A question whose sources are retrieved, ready for the model. */
export interface PreparedAnswer extends RetrievedSources {
  question: string;
  /** The answer cache's key for this prompt; null when the answer must not come from the cache. */
  cacheKey: string | null;
  /**
   * What the similar-answer cache compares, but the question's vector (made only when the exact
   * cache misses); null when no similar answer may be reused.
   */
  similarQuestion: Omit<SimilarQuestion, 'vector' | 'embeddingModel'> | null;
  /** The tokens held for the model's answer, settled when it ends; null without a budget. */
  reservation: TokenReservation | null;
  tier: string;
  tenant: string;
  /** The model to ask first, and why. */
  choice: ModelChoice;
  grounding: GroundingSource[];
  messages: ChatMessage[];
  /** performance.now() when the request started. */
  startedAt: number;
  retrievalMs: number;
}
