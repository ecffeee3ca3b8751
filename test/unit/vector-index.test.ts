import { describe, expect, it } from 'vitest';
import { VectorIndex } from '../../src/stores/embedded/vector-index.ts';

/** mulberry32: a small seeded generator, so every run sees the same vectors. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

function randomVector(random: () => number, dimensions: number): Float32Array {
  return Float32Array.from({ length: dimensions }, () => random() * 2 - 1);
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  a.forEach((value, index) => {
    const other = b[index] as number;
    dot += value * other;
    normA += value * value;
    normB += other * other;
  });
  return dot / Math.sqrt(normA * normB);
}

/** The true nearest keys, by brute force. */
function exactNearest(
  vectors: Float32Array[],
  query: Float32Array,
  limit: number,
  keys?: Set<number>,
): number[] {
  return vectors
    .map((vector, key) => ({ key, score: cosine(vector, query) }))
    .filter((entry) => !keys || keys.has(entry.key))
    .sort((a, b) => b.score - a.score)
    .slice(0, limit)
    .map((entry) => entry.key);
}

describe('VectorIndex', () => {
  const dimensions = 48;

  it('is exact when it holds no more vectors than it rescores', () => {
    const random = seededRandom(1);
    const vectors = Array.from({ length: 100 }, () => randomVector(random, dimensions));
    const index = new VectorIndex(dimensions);
    vectors.forEach((vector, key) => {
      index.add(key, vector);
    });
    const query = randomVector(random, dimensions);
    const hits = index.search(query, 10);
    expect(hits.map((hit) => hit.key)).toEqual(exactNearest(vectors, query, 10));
    expect(hits[0]?.score).toBeCloseTo(cosine(vectors[hits[0]?.key ?? 0] as Float32Array, query), 5);
  });

  it('finds nearly all true neighbours through the one-bit first pass', () => {
    // Clustered vectors, like embeddings of texts on a few topics.
    const random = seededRandom(2);
    const centroids = Array.from({ length: 20 }, () => randomVector(random, dimensions));
    const vectors = Array.from({ length: 4000 }, (_, key) => {
      const centroid = centroids[key % centroids.length] as Float32Array;
      return centroid.map((value) => value + (random() * 2 - 1) * 0.6);
    });
    const index = new VectorIndex(dimensions, { minimumRescored: 200 });
    vectors.forEach((vector, key) => {
      index.add(key, vector);
    });
    let found = 0;
    const queries = 50;
    for (let query = 0; query < queries; query++) {
      const centroid = centroids[query % centroids.length] as Float32Array;
      const vector = centroid.map((value) => value + (random() * 2 - 1) * 0.6);
      const truth = new Set(exactNearest(vectors, vector, 10));
      found += index.search(vector, 10).filter((hit) => truth.has(hit.key)).length;
    }
    expect(found / (queries * 10)).toBeGreaterThanOrEqual(0.9);
  });

  it('searches only the allowed keys', () => {
    const random = seededRandom(3);
    const vectors = Array.from({ length: 2000 }, () => randomVector(random, dimensions));
    // 286 allowed keys, more than the 100 rescored for 5 hits: the first pass runs over them.
    const index = new VectorIndex(dimensions, { minimumRescored: 50 });
    vectors.forEach((vector, key) => {
      index.add(key, vector);
    });
    const allowed = new Set(vectors.map((_, key) => key).filter((key) => key % 7 === 0));
    const query = randomVector(random, dimensions);
    const hits = index.search(query, 5, allowed);
    expect(hits.every((hit) => allowed.has(hit.key))).toBe(true);
    expect(hits).toHaveLength(5);
    expect(hits[0]?.key).toBe(exactNearest(vectors, query, 1, allowed)[0]);
  });

  it('forgets removed keys and keeps the others findable', () => {
    const random = seededRandom(4);
    const vectors = Array.from({ length: 50 }, () => randomVector(random, dimensions));
    const index = new VectorIndex(dimensions);
    vectors.forEach((vector, key) => {
      index.add(key, vector);
    });
    index.remove(7);
    index.remove(7);
    index.remove(1000);
    expect(index.size).toBe(49);
    expect(index.search(vectors[7] as Float32Array, 50).map((hit) => hit.key)).not.toContain(7);
    // The slot of the removed key was filled by the last one; it must still answer for itself.
    expect(index.search(vectors[49] as Float32Array, 1)[0]?.key).toBe(49);
  });

  it('replaces the vector of a key added again', () => {
    const random = seededRandom(5);
    const first = randomVector(random, dimensions);
    const second = randomVector(random, dimensions);
    const index = new VectorIndex(dimensions);
    index.add(1, first);
    index.add(1, second);
    expect(index.size).toBe(1);
    expect(index.search(second, 1)[0]?.score).toBeCloseTo(1, 5);
  });

  it('grows past its initial capacity', () => {
    const random = seededRandom(6);
    const vectors = Array.from({ length: 3000 }, () => randomVector(random, 8));
    const index = new VectorIndex(8);
    vectors.forEach((vector, key) => {
      index.add(key, vector);
    });
    expect(index.size).toBe(3000);
    expect(index.search(vectors[2999] as Float32Array, 1)[0]?.key).toBe(2999);
  });

  it('refuses a vector of the wrong size', () => {
    expect(() => new VectorIndex(4).add(1, new Float32Array(3))).toThrow(RangeError);
  });
});
