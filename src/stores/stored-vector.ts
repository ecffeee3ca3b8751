import type { ChunkToStore } from '../ports.ts';

/**
 * A chunk's embedding, checked against the store's vector width before anything is written: a
 * chunk without one, or of another width, fails the whole write.
 */
export function storedVector(chunk: ChunkToStore, dimensions: number | null): Float32Array {
  if (!chunk.embedding || chunk.embedding.length !== dimensions) {
    throw new Error(
      `Chunk ${chunk.id} has ${chunk.embedding ? `${chunk.embedding.length} dimensions` : 'no embedding'}; the store expects ${dimensions}.`,
    );
  }
  return chunk.embedding;
}
