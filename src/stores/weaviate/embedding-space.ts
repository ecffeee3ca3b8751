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

function isEmbeddingSpace(value: unknown): value is EmbeddingSpace {
  if (typeof value !== 'object' || value === null) return false;
  const { provider, modelId, dimensions } = value as Record<string, unknown>;
  return typeof provider === 'string' && typeof modelId === 'string' && Number.isInteger(dimensions);
}
