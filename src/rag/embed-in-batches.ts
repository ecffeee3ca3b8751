import type { Embedder, EmbeddingPurpose } from '../ports.ts';

export interface EmbedInBatchesOptions {
  purpose: EmbeddingPurpose;
  /** Whose texts they are (caches keep tenants apart). */
  tenant: string;
  /** Texts per call; never more than the embedder's declared limit. */
  batchSize: number;
  signal?: AbortSignal;
}

export interface EmbeddedBatches {
  /** One vector per text, in input order. */
  embeddings: Float32Array[];
  /** Texts the model never received (see EmbedResult.cachedTexts). */
  cachedTexts: number;
}

/** Embeds any number of texts in calls no larger than the embedder allows, keeping input order. */
export async function embedInBatches(
  embedder: Embedder,
  texts: readonly string[],
  options: EmbedInBatchesOptions,
): Promise<EmbeddedBatches> {
  const batchSize = Math.max(1, Math.min(options.batchSize, embedder.maxEmbeddingsPerCall));
  const embeddings: Float32Array[] = [];
  let cachedTexts = 0;
  for (let start = 0; start < texts.length; start += batchSize) {
    const batch = texts.slice(start, start + batchSize);
    const result = await embedder.embed(batch, {
      purpose: options.purpose,
      tenant: options.tenant,
      signal: options.signal,
    });
    embeddings.push(...result.embeddings);
    cachedTexts += result.cachedTexts ?? 0;
  }
  return { embeddings, cachedTexts };
}
