import { RagqlError } from '../../errors.ts';
import type { EmbeddingSpace } from '../../ports.ts';

/**
 * The embedding space of the chunks collection's vectors, recorded in the collection's
 * description: it lives and dies with the vectors it describes, and every ragql process pointed
 * at the collection reads the same record.
 */
const marker = 'ragql chunks; embedding space: ';

/** The description recording a space (null: keyword-only, no vectors). */
export function describeCollectionSpace(space: EmbeddingSpace | null): string {
  return `${marker}${JSON.stringify(space)}`;
}

/** The space a description records: null for keyword-only, undefined when it records none. */
export function spaceOfDescription(description: string | undefined): EmbeddingSpace | null | undefined {
  if (!description?.startsWith(marker)) return undefined;
  try {
    const parsed: unknown = JSON.parse(description.slice(marker.length));
    return parsed === null || isEmbeddingSpace(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export function sameSpace(a: EmbeddingSpace | null, b: EmbeddingSpace | null): boolean {
  if (a === null || b === null) return a === b;
  return a.provider === b.provider && a.modelId === b.modelId && a.dimensions === b.dimensions;
}

export function spaceMismatch(
  stored: EmbeddingSpace | null,
  configured: EmbeddingSpace | null,
  chunkCount: number,
  collection: string,
): RagqlError {
  return new RagqlError(
    'EMBEDDING_SPACE_MISMATCH',
    `The Weaviate collection ${collection} holds ${chunkCount} chunks indexed with ${describeSpace(stored)}, but ragql is ` +
      `configured with ${describeSpace(configured)}. Mixing the two would make vector search incomplete or meaningless. ` +
      `Either configure ${describeSpace(stored)} again (RAGQL_EMBEDDER, RAGQL_EMBEDDING_MODEL, RAGQL_EMBEDDING_DIMENSIONS), ` +
      'or set RAGQL_WEAVIATE_COLLECTION_PREFIX to a new prefix and ingest your documents again.',
  );
}

function describeSpace(space: EmbeddingSpace | null): string {
  return space
    ? `${space.provider} ${space.modelId} (${space.dimensions} dimensions)`
    : 'no embedder (keyword-only)';
}

function isEmbeddingSpace(value: unknown): value is EmbeddingSpace {
  if (typeof value !== 'object' || value === null) return false;
  const { provider, modelId, dimensions } = value as Record<string, unknown>;
  return typeof provider === 'string' && typeof modelId === 'string' && Number.isInteger(dimensions);
}
