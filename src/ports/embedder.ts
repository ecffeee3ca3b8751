/** The embedder port: texts in, one vector each out, in calls no larger than the model takes. */

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
