import type { RecordSparseValues } from '@pinecone-database/pinecone';
import { analyzeTerms } from '../../text/analysis.ts';
import { bm25Idf, bm25TermWeight, type ChunkTerms } from '../bm25-terms.ts';

/**
 * BM25 as Pinecone sparse vectors, whose dot product is the score: a chunk's vector holds each
 * term's saturated, length-normalised frequency (bm25TermWeight), a query's each term's IDF. The
 * IDF needs the tenant's chunk count and each term's chunk frequency, which Pinecone cannot count:
 * ragql keeps them in the tenant's namespace as statistics records (see PineconeTenantStore).
 *
 * Two approximations, which the README states: a chunk is normalised by the average length when it
 * was written (Pinecone cannot rescore stored vectors), and terms are sparse indices by a 32-bit
 * hash (FNV-1a over the term's UTF-16 code units), so two terms of a tenant may rarely share one.
 * The hash is part of what is stored: changing it would need every tenant written again.
 */

/** Pinecone's most entries in one sparse vector (the spec's SparseValues). */
const mostSparseEntries = 2048;
/** Term frequencies are kept in this many records, each holding the terms whose index falls in it. */
export const frequencyBuckets = 4096;

/** A term's sparse index. FNV-1a, not a cryptographic hash: a chunk has hundreds of terms to index. */
export function termIndex(term: string): number {
  let hash = 0x811c9dc5;
  for (let position = 0; position < term.length; position++) {
    hash ^= term.charCodeAt(position);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** A chunk's terms by sparse index: each index's frequency, and the chunk's length. */
export function indexedTerms(terms: ChunkTerms): { frequencies: Map<number, number>; length: number } {
  const frequencies = new Map<number, number>();
  for (const [term, frequency] of terms.frequencies) {
    const index = termIndex(term);
    frequencies.set(index, (frequencies.get(index) ?? 0) + frequency);
  }
  return { frequencies, length: terms.length };
}

/**
 * A chunk's sparse vector, or null for a chunk without terms (Pinecone refuses an empty one). A
 * chunk with more distinct terms than a sparse vector holds keeps its heaviest.
 */
export function chunkSparseVector(
  frequencies: ReadonlyMap<number, number>,
  length: number,
  averageLength: number,
): RecordSparseValues | null {
  const weighted = [...frequencies].map(([index, frequency]) => ({
    index,
    weight: bm25TermWeight(frequency, length, averageLength),
  }));
  if (weighted.length > mostSparseEntries) {
    weighted.sort((a, b) => b.weight - a.weight || a.index - b.index);
    weighted.length = mostSparseEntries;
  }
  if (weighted.length === 0) return null;
  return { indices: weighted.map((entry) => entry.index), values: weighted.map((entry) => entry.weight) };
}

/** The distinct sparse indices of a query's terms (as many as a sparse vector holds). */
export function queryTermIndices(text: string): number[] {
  return [...new Set(analyzeTerms(text).map(termIndex))].slice(0, mostSparseEntries);
}

/** A query's sparse vector: each term's IDF in the tenant's chunks; null when no term is known. */
export function querySparseVector(
  indices: readonly number[],
  chunks: number,
  chunkFrequency: ReadonlyMap<number, number>,
): RecordSparseValues | null {
  const known = indices.filter((index) => (chunkFrequency.get(index) ?? 0) > 0);
  if (known.length === 0) return null;
  return { indices: known, values: known.map((index) => bm25Idf(chunks, chunkFrequency.get(index) ?? 0)) };
}

export function bucketOf(index: number): number {
  return index % frequencyBuckets;
}
