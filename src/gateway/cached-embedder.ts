import { sha256Hex } from '../hash.ts';
import type { Embedder, EmbedOptions, EmbedResult } from '../ports.ts';
import { float32Bytes, fromFloat32Bytes } from '../ranking/vector-math.ts';
import type { CacheCodec, TieredCache } from './tiered-cache.ts';

/** Vectors as base64 of their float32 bytes: exact, and a quarter of JSON's size. */
export const vectorCodec: CacheCodec<Float32Array> = {
  encode: (vector) => float32Bytes(vector).toString('base64'),
  decode: (text) => fromFloat32Bytes(Buffer.from(text, 'base64')),
};

/**
 * An embedder that asks its inner embedder only for texts it has not embedded before: the same
 * chunk under a new document id, or a repeated query, costs no provider call. Keys hash the
 * tenant, provider, model, dimensions and purpose with the text (a provider may embed queries and
 * documents differently), so one tenant's texts are never a hit for another.
 */
export class CachedEmbedder implements Embedder {
  readonly specificationVersion = 'v1';
  readonly provider: string;
  readonly modelId: string;
  readonly dimensions: number;
  readonly maxEmbeddingsPerCall: number;
  private readonly inner: Embedder;
  private readonly cache: TieredCache<Float32Array>;

  constructor(inner: Embedder, cache: TieredCache<Float32Array>) {
    this.inner = inner;
    this.cache = cache;
    this.provider = inner.provider;
    this.modelId = inner.modelId;
    this.dimensions = inner.dimensions;
    this.maxEmbeddingsPerCall = inner.maxEmbeddingsPerCall;
  }

  async embed(texts: readonly string[], options: EmbedOptions): Promise<EmbedResult> {
    const keys = texts.map((text) => this.keyOf(text, options));
    const found = await Promise.all(keys.map((key) => this.cache.get(key)));
    // Each missing text once, however often the batch repeats it.
    const missing = [...new Set(texts.filter((_, index) => found[index] === undefined))];
    const cachedTexts = texts.length - missing.length;
    if (missing.length === 0) return { embeddings: found as Float32Array[], cachedTexts };
    const result = await this.inner.embed(missing, options);
    const embedded = new Map(missing.map((text, index) => [text, result.embeddings[index]]));
    await Promise.all(
      missing.map((text) => {
        const vector = embedded.get(text);
        return vector ? this.cache.set(this.keyOf(text, options), vector) : undefined;
      }),
    );
    return {
      embeddings: texts.map((text, index) => found[index] ?? (embedded.get(text) as Float32Array)),
      cachedTexts,
      ...(result.tokens === undefined ? {} : { tokens: result.tokens }),
    };
  }

  private keyOf(text: string, { tenant, purpose }: EmbedOptions): string {
    return sha256Hex(JSON.stringify([tenant, this.provider, this.modelId, this.dimensions, purpose, text]));
  }
}
