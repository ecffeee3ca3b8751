import { RagqlError } from '../errors.ts';
import type { Embedder, EmbedOptions, EmbedResult } from '../ports.ts';

/** Who answered: for messages and error details. */
export interface EmbeddingModelName {
  /** As users read it, e.g. `OpenAI`. */
  vendor: string;
  provider: string;
  modelId: string;
}

/** A vendor's embedder before its checks: its model, limits and one request per batch. */
export interface UncheckedEmbedder {
  model: EmbeddingModelName;
  dimensions: number;
  maxEmbeddingsPerCall: number;
  /** Embeds a batch that fits, with no empty one. */
  request(texts: readonly string[], options: EmbedOptions): Promise<EmbedResult>;
}

/**
 * The embedder that holds every vendor to the same promises: a batch larger than it takes is
 * refused, an empty one costs no request, and every vector has the declared size.
 */
export function checkedEmbedder(unchecked: UncheckedEmbedder): Embedder {
  const { model, dimensions, maxEmbeddingsPerCall } = unchecked;
  return {
    specificationVersion: 'v1',
    provider: model.provider,
    modelId: model.modelId,
    dimensions,
    maxEmbeddingsPerCall,
    async embed(texts, options) {
      assertBatchFits(texts, maxEmbeddingsPerCall);
      if (texts.length === 0) return { embeddings: [] };
      const result = await unchecked.request(texts, options);
      assertDimensions(model, dimensions, result.embeddings);
      return result;
    },
  };
}

/** Refuses a batch larger than the embedder declared it takes: the caller should have split it. */
function assertBatchFits(texts: readonly string[], maxEmbeddingsPerCall: number): void {
  if (texts.length > maxEmbeddingsPerCall) {
    throw new RangeError(
      `embed got ${texts.length} texts; this embedder takes at most ${maxEmbeddingsPerCall}`,
    );
  }
}

/** Every vector must have the declared size, or a store would mix sizes (or crash on them). */
function assertDimensions(model: EmbeddingModelName, dimensions: number, embeddings: Float32Array[]): void {
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
