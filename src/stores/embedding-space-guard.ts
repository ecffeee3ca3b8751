import { RagqlError } from '../errors.ts';
import { describeSpace, type EmbeddingSpace } from '../ports.ts';

/**
 * The embedding-space guard every store applies when it is bound: vectors of one model are never
 * searched with, or mixed with, another's (`sameSpace`, in the ports, says which are one space).
 */

export interface SpaceMismatch {
  /** What holds the chunks, as a sentence's subject: "This store", "The Weaviate collection X". */
  holder: string;
  stored: EmbeddingSpace | null;
  configured: EmbeddingSpace | null;
  chunkCount: number;
  /** How to start afresh with this store, e.g. "point RAGQL_DATA_DIR at a new folder". */
  freshStart: string;
}

/** EMBEDDING_SPACE_MISMATCH, worded alike by every store: what it holds, and the two ways out. */
export function spaceMismatch(mismatch: SpaceMismatch): RagqlError {
  const { holder, stored, configured, chunkCount, freshStart } = mismatch;
  return new RagqlError(
    'EMBEDDING_SPACE_MISMATCH',
    `${holder} holds ${chunkCount} chunks indexed with ${describeSpace(stored)}, but ragql is ` +
      `configured with ${describeSpace(configured)}. Mixing the two would make vector search incomplete or meaningless. ` +
      `Either configure ${describeSpace(stored)} again (RAGQL_EMBEDDER, RAGQL_EMBEDDING_MODEL, RAGQL_EMBEDDING_DIMENSIONS), ` +
      `or ${freshStart} and ingest your documents again.`,
  );
}
