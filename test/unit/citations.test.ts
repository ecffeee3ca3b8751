import { describe, expect, it } from 'vitest';
import { parseCitations } from '../../src/rag/citations.ts';

describe('parseCitations', () => {
  it('returns the markers in order of first appearance, each once', () => {
    const text = 'Panels heat up [3]. Inverters convert current [1]. Heat lowers efficiency [3].';
    expect(parseCitations(text, 3)).toEqual({ markers: [3, 1], invalid: 0 });
  });

  it('reads groups of markers, with or without spaces after the commas', () => {
    expect(parseCitations('Both say so [1, 3], and again [2,4].', 4)).toEqual({
      markers: [1, 3, 2, 4],
      invalid: 0,
    });
  });

  it('reads a group whose markers repeat one seen earlier', () => {
    expect(parseCitations('First [2]. Then [1, 2].', 2)).toEqual({ markers: [2, 1], invalid: 0 });
  });

  it('counts markers outside 1..sourceCount as invalid and drops them', () => {
    expect(parseCitations('Known [2], unknown [7], zero [0].', 3)).toEqual({ markers: [2], invalid: 2 });
  });

  it('drops the invalid markers of a group and keeps the valid ones', () => {
    expect(parseCitations('Mixed [1, 5, 2].', 2)).toEqual({ markers: [1, 2], invalid: 1 });
  });

  it('counts every invalid occurrence, even of the same number', () => {
    expect(parseCitations('[9] and [9] again.', 2)).toEqual({ markers: [], invalid: 2 });
  });

  it('treats every marker as invalid when there are no sources', () => {
    expect(parseCitations('Nothing to cite [1].', 0)).toEqual({ markers: [], invalid: 1 });
  });

  it('finds nothing in text without markers', () => {
    expect(parseCitations('The answer has no citations at all.', 3)).toEqual({ markers: [], invalid: 0 });
    expect(parseCitations('', 3)).toEqual({ markers: [], invalid: 0 });
  });

  it('ignores brackets that do not hold only numbers', () => {
    expect(parseCitations('See [a], [1a], [1;2] and [] here.', 3)).toEqual({ markers: [], invalid: 0 });
  });
});
