/**
 * The ports: the small, stable interfaces between ragql's pipeline (src/rag/) and its adapters
 * (src/stores/, src/providers/). The pipeline depends only on these types; every adapter
 * implements one of them and states its capabilities as fields, so callers batch, stream and
 * size their work without knowing the vendor behind it.
 */

/** A flat metadata object: scalars or arrays of scalars, so every store can filter on it. */
export type MetadataScalar = string | number | boolean;
export type MetadataValue = MetadataScalar | MetadataScalar[];
export type Metadata = Record<string, MetadataValue>;

// ---------------------------------------------------------------------------------------------
// Embedder

export type EmbeddingPurpose = 'document' | 'query';

export interface EmbedOptions {
  /** Whether the texts are stored chunks or a search query: some providers embed them differently. */
  purpose: EmbeddingPurpose;
  /**
   * Whose texts these are. Caches keep each tenant's vectors apart: a hit on a text another tenant
   * embedded would tell the caller (through /metrics or a faster reply) that it stored or searched it.
   */
  tenant: string;
  signal?: AbortSignal;
}

export interface EmbedResult {
  /** One vector per input text, in input order. */
  embeddings: Float32Array[];
  /** Tokens the provider billed, when it reports them. */
  tokens?: number;
  /**
   * Of the input texts, how many the model never received: a cache held them, or they repeat
   * another text of the call. Absent: none.
   */
  cachedTexts?: number;
}

export interface Embedder {
  readonly specificationVersion: 'v1';
  /** Vendor name, e.g. `openai`. */
  readonly provider: string;
  readonly modelId: string;
  readonly dimensions: number;
  /** The most texts one `embed` call accepts; callers split larger batches. */
  readonly maxEmbeddingsPerCall: number;
  embed(texts: readonly string[], options: EmbedOptions): Promise<EmbedResult>;
}

// ---------------------------------------------------------------------------------------------
// Chat model

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

/** Tokens held for one model call until its real usage is known. */
export interface TokenReservation {
  /** Replaces the reservation with the tokens the call used (more or fewer). */
  settle(tokensUsed: number): Promise<void>;
}

/**
 * A caller's daily tokens (the gateway's budget). Every model call reserves its most tokens
 * before it starts, so concurrent calls cannot together spend more than the budget.
 */
export interface TokenBudget {
  /** Throws RATE_LIMITED (with `retryAfter`) when the day's tokens are spent. */
  check(): Promise<void>;
  /** Holds `tokens` of the day's budget; throws RATE_LIMITED when they are spent. */
  reserve(tokens: number): Promise<TokenReservation>;
}

/** What a chat stream yields: text deltas as they arrive, then exactly one usage record. */
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

// ---------------------------------------------------------------------------------------------
// What the answer pipeline asks of the gateway: a model per question, and answers given before.

/** What a router decides from: the question, the caller's tier, and the model it asks for. */
export interface RouteRequest {
  question: string;
  tier: string;
  requested?: string | null | undefined;
}

/** The model an answer starts with (a fallback chain, for a gateway), and why it was chosen. */
export interface ModelChoice {
  model: ChatModel;
  reason: string;
}

/** Chooses the chat model per question (the gateway's ModelRouter). */
export interface ChatRouter {
  /** The model a question goes to when nothing says otherwise. */
  readonly defaultModel: ChatModel;
  /** Throws BAD_USER_INPUT when the request asks for a model it may not use. */
  choose(request: RouteRequest): ModelChoice;
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

// ---------------------------------------------------------------------------------------------
// Store

export interface DocumentRecord {
  id: string;
  title: string | null;
  source: string | null;
  metadata: Metadata;
  /** sha256 of the content; equal hashes mean equal chunks. */
  contentHash: string;
  /** sha256 of everything stored for the document: content, title, source, metadata, chunking. */
  revisionHash: string;
  chunkCount: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface ChunkRecord {
  /** `<documentId>#<index>`: stable while the document's content is unchanged. */
  id: string;
  documentId: string;
  index: number;
  content: string;
  /** Character offsets into the document's content: `content.slice(start, end) === chunk.content`. */
  startOffset: number;
  endOffset: number;
  /** sha256 of the chunk text; lets an update keep the vectors of chunks that did not change. */
  contentHash: string;
}

export interface ChunkToStore extends ChunkRecord {
  /** Absent when the store runs without an embedder. */
  embedding?: Float32Array;
  /**
   * The content's keyword terms as src/text/analysis.ts makes them, space-separated, when the
   * caller analysed them already (ingestion does, off the event loop); otherwise the store does.
   */
  keywordTerms?: string;
}

export interface DocumentToStore extends Omit<DocumentRecord, 'createdAt' | 'updatedAt'> {
  chunks: ChunkToStore[];
}

export type FilterOperator = 'eq' | 'ne' | 'in' | 'gt' | 'gte' | 'lt' | 'lte' | 'exists';

/**
 * One condition of a metadata filter. `field` is `title`, `source` or `metadata.<key>`.
 * On array-valued metadata a condition holds when any element satisfies it (`ne`: when none equals).
 */
export type FilterCondition =
  | { field: string; operator: 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte'; value: MetadataScalar }
  | { field: string; operator: 'in'; value: MetadataScalar[] }
  | { field: string; operator: 'exists'; value: boolean };

/** Every condition must hold (an AND). */
export type Filter = readonly FilterCondition[];

export type FusionType = 'ranked' | 'relativeScore';

/** What a search runs: BM25 only, vector similarity only, or both fused by alpha. */
export type SearchMode = 'HYBRID' | 'KEYWORD' | 'VECTOR';

/**
 * The one rule for what a search runs, so the API's reported mode, the plugins' store searches and
 * the stores agree: keyword-only unless vectors can be searched (an embedder, a query vector in the
 * store's space) and alpha is above 0; vector-only from alpha 1.
 */
export function searchMode(alpha: number, canSearchVectors: boolean): SearchMode {
  if (!canSearchVectors || !(alpha > 0)) return 'KEYWORD';
  return alpha >= 1 ? 'VECTOR' : 'HYBRID';
}

export interface SearchRequest {
  /** The query text for keyword search. */
  text: string;
  /** The query embedding; absent means keyword-only. */
  vector?: Float32Array;
  /** 0 = keyword only, 1 = vector only. */
  alpha: number;
  fusion: FusionType;
  limit: number;
  filter: Filter;
}

export interface SearchHit {
  chunk: ChunkRecord;
  /** The score the results are ordered by. */
  score: number;
  /** The raw score of each retriever that found the chunk (BM25 score, cosine similarity). */
  keywordScore: number | null;
  vectorScore: number | null;
}

export interface EmbeddingSpace {
  provider: string;
  modelId: string;
  dimensions: number;
}

/** A page of documents in id order: ids after `after` and before `before`, `limit` of them at most. */
export interface DocumentPageRequest {
  after?: string;
  before?: string;
  limit: number;
  /** Walk the ids from the end (for paging backwards). */
  descending?: boolean;
  filter: Filter;
}

/** A tenant's name: letters, digits, `-` and `_`, 1 to 64 of them (Weaviate's tenant-name rule). */
export const tenantNamePattern = /^[A-Za-z0-9_-]{1,64}$/;

/** The tenant of a server that runs without API keys, and of the CLI. */
export const defaultTenant = 'default';

/**
 * A store engine: the documents of every tenant, each tenant in its own partition (a SQLite file,
 * a Weaviate tenant shard). Nothing crosses partitions: every read and write goes through the
 * `TenantStore` of one tenant.
 */
export interface StoreEngine {
  readonly kind: string;
  /**
   * Binds the store to one embedding space (or none, for keyword-only). Refuses, with an error
   * naming both, a space other than the one the stored vectors were made in.
   */
  bindEmbeddingSpace(space: EmbeddingSpace | null): Promise<void>;
  /** The documents of one tenant (a name matching `tenantNamePattern`); a new tenant starts empty. */
  forTenant(tenant: string): TenantStore;
  /** Whether the store can serve requests now, and why not (for /readyz). */
  readiness(): Promise<StoreReadiness>;
  close(): Promise<void>;
}

export type StoreReadiness = { ready: true } | { ready: false; reason: string };

/** One tenant's documents and chunks. */
export interface TenantStore {
  getDocuments(ids: readonly string[]): Promise<(DocumentRecord | null)[]>;
  listDocuments(request: DocumentPageRequest): Promise<DocumentRecord[]>;
  getChunks(documentId: string): Promise<ChunkRecord[]>;
  /** The stored vectors of a document's chunks, by chunk content hash. */
  getChunkEmbeddings(documentId: string): Promise<Map<string, Float32Array>>;
  /**
   * Writes documents, each replacing all its stored chunks: every document is stored whole or, if
   * anything fails, none of them is.
   */
  upsertDocuments(documents: readonly DocumentToStore[]): Promise<void>;
  deleteDocument(id: string): Promise<boolean>;
  search(request: SearchRequest): Promise<SearchHit[]>;
}
