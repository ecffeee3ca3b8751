/** The chat model port: a prompt in, the answer streamed out as text deltas and one usage record. */

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** A numbered source the answer may cite as `[marker]`. */
export interface GroundingSource {
  marker: number;
  title: string | null;
  /** Where the document came from (a URL or path), as ingested. */
  source: string | null;
  text: string;
}

export interface ChatRequest {
  messages: readonly ChatMessage[];
  /**
   * The question and the numbered sources the messages were built from. LLMs read the messages;
   * models that answer without an LLM (extractive) read these directly.
   */
  grounding?: { question: string; sources: readonly GroundingSource[] };
  maxOutputTokens?: number;
  signal?: AbortSignal;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

/**
 * What a chat stream yields: text deltas as they arrive, then exactly one usage record; a
 * gateway's fallback chain also yields `fallback` parts (see ChatModel).
 */
export type ChatStreamPart =
  | { type: 'text-delta'; text: string }
  | { type: 'finish'; usage: TokenUsage }
  /**
   * A model in a fallback chain failed and `to` answers from the start instead: any text deltas
   * before this part are void. `reason` says why, without the vendor's own words.
   */
  | { type: 'fallback'; from: ChatModel; to: ChatModel; reason: string; failedAfterDeltas: number };

/** List prices in US dollars per million tokens. */
export interface ChatPricing {
  inputUsdPerMillion: number;
  outputUsdPerMillion: number;
}

/**
 * A chat model, as a provider or the gateway gives it. The `fallback` stream part is the
 * gateway's idea, not a provider's: src/gateway/fallback-chat-model.ts yields it when the next
 * model of its chain takes over. It is in the port because the answer pipeline must void the
 * text written before a fallback, and can only tell where that is from the stream.
 */
export interface ChatModel {
  readonly specificationVersion: 'v1';
  readonly provider: string;
  readonly modelId: string;
  /** Tokens of prompt plus answer the model accepts. */
  readonly contextWindow: number;
  /** What the model costs; null when ragql does not know its price. */
  readonly pricing: ChatPricing | null;
  /**
   * Streams the answer. When `request.signal` aborts, the stream stops reading from the provider,
   * closes its connection and throws the signal's reason; a provider failure throws a RagqlError
   * with code UPSTREAM_FAILED, also mid-stream after some deltas.
   */
  stream(request: ChatRequest): AsyncIterable<ChatStreamPart>;
}
