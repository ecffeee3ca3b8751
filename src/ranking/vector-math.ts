/** Cosine similarity of two vectors of one size; 0 when either is all zeros. */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let index = 0; index < a.length; index++) {
    const x = a[index] ?? 0;
    const y = b[index] ?? 0;
    dot += x * y;
    normA += x * x;
    normB += y * y;
  }
  return normA === 0 || normB === 0 ? 0 : dot / Math.sqrt(normA * normB);
}

/** A vector's float32 bytes, as stored (SQLite blobs, cached embeddings); shares its memory. */
export function float32Bytes(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}

/** The vector whose float32 bytes these are. */
export function fromFloat32Bytes(bytes: Uint8Array): Float32Array {
  // Copy into a fresh, aligned buffer: a Buffer's offset into Node's pool need not be a multiple of 4.
  return new Float32Array(new Uint8Array(bytes).buffer);
}
