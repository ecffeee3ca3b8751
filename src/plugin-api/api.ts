/**
 * The plugin API: everything a retriever or reranker plugin may use, the built-in ones included
 * (see plugins/ and docs/plugins.md). A plugin module imports from `src/plugin-api/index.ts` only.
 */
import type { z } from 'zod';
import type { Logger } from '../observability/logger.ts';
import type { ChatMessage, ChunkRecord, FusionType, SearchHit } from '../ports.ts';

export type { ChatMessage, ChunkRecord, FusionType } from '../ports.ts';

export type PluginKind = 'retriever' | 'reranker';

/** JSON a plugin reports in its trace step (for example the query variants it searched). */
export type TraceDetails = Record<string, unknown>;

/** A chunk a retriever returns: a search hit, possibly standing for more text than the chunk it matched. */
export interface Candidate extends SearchHit {
  /**
   * Where the text that matched lies, as document offsets inside `chunk`, when `chunk` is wider
   * than the match (a parent-document hit), so clients can highlight it.
   */
  match?: { startOffset: number; endOffset: number };
}

/** What a retriever is asked for. The filter and tenant are already applied to `context.search`. */
export interface RetrievalQuery {
  text: string;
  /** Candidates wanted. */
  limit: number;
  /** 0 = keyword only, 1 = vector only. */
  alpha: number;
  fusion: FusionType;
}

export interface RetrievalResult {
  candidates: Candidate[];
  details?: TraceDetails;
}

export interface Retriever {
  retrieve(query: RetrievalQuery): Promise<RetrievalResult>;
}

export interface RerankQuery {
  text: string;
  /** Candidates to keep, best first. */
  topN: number;
}

export interface Reranker {
  /** The candidates reordered, at most `query.topN` of them, with scores the reranker assigned. */
  rerank(query: RerankQuery, candidates: readonly Candidate[]): Promise<RetrievalResult>;
}

/** One search over the request's tenant, with the request's filter. */
export interface StoreSearchQuery {
  text: string;
  limit: number;
  /** 0 = keyword only (BM25), 1 = vector only. @default the request's alpha */
  alpha?: number;
  /** @default the request's fusion */
  fusion?: FusionType;
  /** The query vector, when the plugin embedded the text itself; otherwise the text is embedded when vectors take part. */
  vector?: Float32Array;
}

/** Embeddings from the server's embedder (one call per `embed`, split as the provider requires). */
export interface PluginEmbedder {
  readonly dimensions: number;
  embed(texts: readonly string[], purpose: 'query' | 'document'): Promise<Float32Array[]>;
}

/** The server's chat model, for plugins that ask an LLM. */
export interface PluginChat {
  readonly modelId: string;
  /** The model's whole reply to the messages. */
  complete(messages: readonly ChatMessage[], options?: { maxOutputTokens?: number }): Promise<string>;
}

/** What a plugin may use while serving one request, and nothing else. */
export interface PluginContext {
  /** Search the request's tenant, the request's filter applied. */
  search(query: StoreSearchQuery): Promise<Candidate[]>;
  /** A document's chunks in order (empty when it is gone). */
  chunksOf(documentId: string): Promise<ChunkRecord[]>;
  /** The stored vectors of the candidates' chunks, in order; null where a chunk has none. */
  embeddingsOf(candidates: readonly Candidate[]): Promise<(Float32Array | null)[]>;
  /** Null when the server runs keyword-only. */
  embedder: PluginEmbedder | null;
  /** Null when the server's generator is not an LLM (the extractive default). */
  chat: PluginChat | null;
  /** Another registered retriever, run as a step of this request (it appears in the trace). */
  retrieve(retriever: RetrieverChoice, query: RetrievalQuery): Promise<RetrievalResult>;
  logger: Logger;
  /** Aborts when the client goes away or the plugin's time is up. */
  signal: AbortSignal;
}

/**
 * The version of this plugin API. It changes only when a change would break a plugin written
 * against the previous one; a plugin that names another version is refused when it registers.
 */
export const pluginApiVersion = 1;

interface PluginDefinitionBase<Options extends z.ZodObject> {
  /** Unique among registered plugins: letters, digits and `-`. */
  name: string;
  /** The plugin's own version (its release, not the API's). */
  version: string;
  /**
   * The plugin API version the plugin was written for; a server with another refuses it.
   * @default pluginApiVersion
   */
  apiVersion?: number;
  description: string;
  /** The options a request may pass; unknown keys are refused. */
  options: Options;
}

export interface RetrieverPlugin<Options extends z.ZodObject = z.ZodObject>
  extends PluginDefinitionBase<Options> {
  kind: 'retriever';
  create(context: PluginContext, options: z.infer<Options>): Retriever;
  /**
   * The most chunks of text one hit may span with these options. A request's query cost grows
   * with its hits times this, so that a tier's maximum bounds the response. `chunksPerHitOf`
   * answers for another retriever, for a plugin that returns another's hits.
   * @default 1
   */
  chunksPerHit?(options: z.infer<Options>, chunksPerHitOf: (retriever: RetrieverChoice) => number): number;
}

/** A retriever as a request or a plugin names it. */
export interface RetrieverChoice {
  name: string;
  options?: unknown;
}

export interface RerankerPlugin<Options extends z.ZodObject = z.ZodObject>
  extends PluginDefinitionBase<Options> {
  kind: 'reranker';
  create(context: PluginContext, options: z.infer<Options>): Reranker;
}

export type PluginDefinition = RetrieverPlugin<z.ZodObject> | RerankerPlugin<z.ZodObject>;

/**
 * Thrown by a plugin when an option the request chose cannot work on this server (a method that
 * needs an LLM when none is configured): the client gets BAD_USER_INPUT naming the option, not
 * PLUGIN_FAILED.
 */
export class PluginOptionError extends Error {
  readonly option: string;

  constructor(option: string, message: string) {
    super(message);
    this.name = 'PluginOptionError';
    this.option = option;
  }
}

/** Declares a plugin; the identity function, there for the types. */
export function definePlugin<Options extends z.ZodObject>(
  definition: RetrieverPlugin<Options>,
): RetrieverPlugin<Options>;
export function definePlugin<Options extends z.ZodObject>(
  definition: RerankerPlugin<Options>,
): RerankerPlugin<Options>;
export function definePlugin(definition: PluginDefinition): PluginDefinition {
  return definition;
}
