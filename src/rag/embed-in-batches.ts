import type { Embedder, EmbeddingPurpose } from '../ports.ts';

export interface EmbedInBatchesOptions {
  purpose: EmbeddingPurpose;
  /** Whose texts they are (caches keep tenants apart). */
  tenant: string;
  /** Texts per call; never more than the embedder's declared limit. */
  batchSize: number;
  signal?: AbortSignal;
}

/** Embeds any number of texts in calls no larger than the embedder allows, keeping input order. */
export async function embedInBatches(
  embedder: Embedder,
  texts: readonly string[],
  options: EmbedInBatchesOptions,
): Promise<Float32Array[]> {
  const batchSize = Math.max(1, Math.min(options.batchSize, embedder.maxEmbeddingsPerCall));
  const vectors: Float32Array[] = [];
  for (let start = 0; start < texts.length; start += batchSize) {
    const batch = texts.slice(start, start + batchSize);
    const result = await embedder.embed(batch, {
      purpose: options.purpose,
      tenant: options.tenant,
      signal: options.signal,
    });
    vectors.push(...result.embeddings);
  }
  return vectors;
}
