import { RagqlError } from '../errors.ts';

/** Who answered: for messages and error details. */
export interface EmbeddingModelName {
  /** As users read it, e.g. `OpenAI`. */
  vendor: string;
  provider: string;
  modelId: string;
}

/** Refuses a batch larger than the embedder declared it takes: the caller should have split it. */
export function assertBatchFits(texts: readonly string[], maxEmbeddingsPerCall: number): void {
  if (texts.length > maxEmbeddingsPerCall) {
    throw new RangeError(
      `embed got ${texts.length} texts; this embedder takes at most ${maxEmbeddingsPerCall}`,
    );
  }
}

/** Every vector must have the declared size, or a store would mix sizes (or crash on them). */
export function assertDimensions(
  model: EmbeddingModelName,
  dimensions: number,
  embeddings: Float32Array[],
): void {
  for (const embedding of embeddings) {
    if (embedding.length !== dimensions) {
      throw new RagqlError(
        'UPSTREAM_FAILED',
        `${model.vendor} embedding model '${model.modelId}' returned vectors of ${embedding.length} dimensions, expected ${dimensions}; configure the dimensions the model returns`,
        {
          provider: model.provider,
          model: model.modelId,
          expectedDimensions: dimensions,
          receivedDimensions: embedding.length,
        },
      );
    }
  }
}

/** The size of a probe's vector; an empty one means the model cannot be used. */
export function probedDimensions(model: EmbeddingModelName, embeddings: Float32Array[]): number {
  const dimensions = embeddings[0]?.length ?? 0;
  if (dimensions === 0) {
    throw new RagqlError(
      'UPSTREAM_FAILED',
      `${model.vendor} embedding model '${model.modelId}' returned an empty vector`,
      {
        provider: model.provider,
        model: model.modelId,
      },
    );
  }
  return dimensions;
}
