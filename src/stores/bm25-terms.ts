import type { ChunkToStore } from '../ports.ts';
import { analyzeTerms } from '../text/analysis.ts';

/**
 * BM25 as SQLite's FTS5 computes it for the embedded store, which the other stores reproduce:
 * k1 = 1.2, b = 0.75, and IDF log((N - n + 0.5) / (n + 0.5)) floored at 1e-6, over the analysed
 * terms (src/text/analysis.ts) of a chunk's title and content.
 */
export const bm25 = { k1: 1.2, b: 0.75, idfFloor: 1e-6 } as const;

/** A chunk's terms: how often each occurs in its title and content. */
export interface ChunkTerms {
  frequencies: Map<string, number>;
  /** All its terms, repeats counted: the chunk's length for BM25. */
  length: number;
}

/** @param termKey how the store writes a term (PostgreSQL shortens long ones) */
export function chunkTerms(
  titleTerms: readonly string[],
  chunk: ChunkToStore,
  termKey: (term: string) => string = (term) => term,
): ChunkTerms {
  const terms = [
    ...titleTerms,
    ...(chunk.keywordTerms?.split(' ').filter(Boolean) ?? analyzeTerms(chunk.content)),
  ];
  const frequencies = new Map<string, number>();
  for (const term of terms.map(termKey)) frequencies.set(term, (frequencies.get(term) ?? 0) + 1);
  return { frequencies, length: terms.length };
}

/** The IDF of a term found in `withTerm` of `chunks` chunks. */
export function bm25Idf(chunks: number, withTerm: number): number {
  return Math.max(Math.log((chunks - withTerm + 0.5) / (withTerm + 0.5)), bm25.idfFloor);
}

/** A term's share of a chunk's score, before its IDF: saturated by frequency, normalised by length. */
export function bm25TermWeight(frequency: number, length: number, averageLength: number): number {
  const { k1, b } = bm25;
  return (frequency * (k1 + 1)) / (frequency + k1 * (1 - b + (b * length) / averageLength));
}
