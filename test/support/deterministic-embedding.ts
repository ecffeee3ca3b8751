/**
 * A stand-in embedding model: a hashed bag of lowercased words, L2-normalised. Texts that share
 * words get similar vectors, so vector search over these embeddings ranks meaningfully in tests,
 * and the same text always gives the same vector, so tests can compute the expected result.
 */
export function deterministicEmbedding(text: string, dimensions: number): number[] {
  if (!Number.isInteger(dimensions) || dimensions < 1) {
    throw new RangeError(`dimensions must be a positive integer, got ${dimensions}`);
  }
  const vector = new Array<number>(dimensions).fill(0);
  for (const word of text.toLowerCase().split(/[^\p{L}\p{N}]+/u)) {
    if (word === '') continue;
    const hash = fnv1a(word);
    const index = hash % dimensions;
    // The top bit picks the sign, so unrelated words cancel out on average instead of piling up.
    vector[index] = (vector[index] ?? 0) + (hash & 0x80000000 ? -1 : 1);
  }
  const norm = Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));
  if (norm === 0) {
    // No words (or words that cancelled out): a fixed unit vector rather than NaNs.
    vector[0] = 1;
    return vector;
  }
  return vector.map((value) => value / norm);
}

/** 32-bit FNV-1a over the UTF-16 code units of a string. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let position = 0; position < text.length; position++) {
    hash ^= text.charCodeAt(position);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
