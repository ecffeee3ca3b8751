/**
 * Reading which retrievers found a hybrid hit from Weaviate's explainScore, in the two forms
 * Weaviate 1.38 writes (taken from its answers).
 */
import { describe, expect, it } from 'vitest';
import { retrieversFound } from '../../src/stores/weaviate/hybrid-explanation.ts';

const uuid = '3304808e-b046-4c2d-a4b1-1a7e9f13c8f2';

describe('retrieversFound', () => {
  it('reads both result sets of a relativeScore explanation', () => {
    const explanation =
      `\nHybrid (Result Set keyword,bm25) Document ${uuid}: original score 0.70037496, normalized score: 0.5 - ` +
      `\nHybrid (Result Set vector,hybridVector) Document ${uuid}: original score 0.9805807, normalized score: 0.5`;
    expect(retrieversFound(explanation)).toEqual({ keyword: true, vector: true });
  });

  it('reads the one result set of a ranked explanation', () => {
    const explanation = `\nHybrid (Result Set vector,hybridVector) Document ${uuid} contributed 0.008333334 to the score`;
    expect(retrieversFound(explanation)).toEqual({ keyword: false, vector: true });
  });

  it('reports unknown when the explanation names no result set', () => {
    expect(retrieversFound(undefined)).toBe('unknown');
    expect(retrieversFound('')).toBe('unknown');
    expect(retrieversFound('score 0.5')).toBe('unknown');
  });
});
