/**
 * Hybrid fusion, checked against scores worked out by hand. Keys stand for chunks:
 * A = 1, B = 2, C = 3, D = 4. The keyword list is weighted 1 - alpha, the vector list alpha.
 */
import { describe, expect, it } from 'vitest';
import {
  fuse,
  type RankedList,
  rankedFusion,
  reciprocalRankConstant,
  relativeScoreFusion,
} from '../../src/ranking/fusion.ts';

const A = 1;
const B = 2;
const C = 3;
const D = 4;

/** The two lists of a hybrid search with the given alpha, as the embedded store builds them. */
function hybridLists(
  alpha: number,
  keyword: RankedList['results'],
  vector: RankedList['results'],
): RankedList[] {
  return [
    { weight: 1 - alpha, results: keyword },
    { weight: alpha, results: vector },
  ];
}

/** Checks keys in order and each score to 12 decimal places. */
function expectFused(actual: { key: number; score: number }[], expected: [number, number][]): void {
  expect(actual.map((result) => result.key)).toEqual(expected.map(([key]) => key));
  actual.forEach((result, position) => {
    expect(result.score).toBeCloseTo(expected[position]?.[1] ?? Number.NaN, 12);
  });
}

describe('ranked fusion (reciprocal rank fusion)', () => {
  it('uses the constant 60, as Weaviate and the RRF paper do', () => {
    expect(reciprocalRankConstant).toBe(60);
  });

  it('adds weight / (rank + 60) for every result, counting ranks from 0', () => {
    // One list of weight 1: ranks 0, 1, 2 give 1/60, 1/61, 1/62. The scores themselves do not count.
    const fused = rankedFusion([
      {
        weight: 1,
        results: [
          { key: A, score: 0.1 },
          { key: B, score: 50 },
          { key: C, score: 7 },
        ],
      },
    ]);
    expectFused(fused, [
      [A, 1 / 60],
      [B, 1 / 61],
      [C, 1 / 62],
    ]);
  });

  it('weights the keyword list 1 - alpha and the vector list alpha', () => {
    // alpha 0.25: keyword weight 0.75, vector weight 0.25.
    // keyword ranks: A 0, B 1; vector ranks: B 0, C 1.
    //   A = 0.75/60               = 0.0125
    //   B = 0.75/61 + 0.25/60     = 0.0122950820 + 0.0041666667 = 0.0164617486
    //   C =           0.25/61     = 0.0040983607
    // so B (found by both) comes first, then A, then C.
    const fused = rankedFusion(
      hybridLists(
        0.25,
        [
          { key: A, score: 9 },
          { key: B, score: 3 },
        ],
        [
          { key: B, score: 0.8 },
          { key: C, score: 0.5 },
        ],
      ),
    );
    expectFused(fused, [
      [B, 0.75 / 61 + 0.25 / 60],
      [A, 0.75 / 60],
      [C, 0.25 / 61],
    ]);
  });

  it('lets a list of weight 0 contribute nothing, not even its keys', () => {
    // alpha 0: the vector list weighs 0, so C (only found by vectors) is absent and A, B keep
    // their keyword scores: A = 1/60, B = 1/61.
    const fused = rankedFusion(
      hybridLists(
        0,
        [
          { key: A, score: 9 },
          { key: B, score: 3 },
        ],
        [
          { key: C, score: 0.9 },
          { key: A, score: 0.2 },
        ],
      ),
    );
    expectFused(fused, [
      [A, 1 / 60],
      [B, 1 / 61],
    ]);
  });

  it('orders by fused score, ties keeping keyword results first', () => {
    // alpha 0.5: A (keyword rank 0) = 0.5/60; B (vector rank 0) = 0.5/60, a tie;
    // C (keyword rank 1 and vector rank 1) = 0.5/61 + 0.5/61 = 1/61, the highest.
    const fused = rankedFusion(
      hybridLists(
        0.5,
        [
          { key: A, score: 2 },
          { key: C, score: 1 },
        ],
        [
          { key: B, score: 0.9 },
          { key: C, score: 0.8 },
        ],
      ),
    );
    expectFused(fused, [
      [C, 1 / 61],
      [A, 0.5 / 60],
      [B, 0.5 / 60],
    ]);
  });

  it('returns nothing for empty lists', () => {
    expect(rankedFusion(hybridLists(0.5, [], []))).toEqual([]);
  });
});

describe('relative score fusion', () => {
  it('min-max normalises each list before weighting it', () => {
    // keyword scores A 10, D 6, B 2: min 2, max 10, so A = 1, D = (6-2)/8 = 0.5, B = 0.
    // vector scores B 0.9, C 0.6, A 0.3: min 0.3, max 0.9, so B = 1, C = 0.5, A = 0.
    // alpha 0.25: keyword weight 0.75, vector weight 0.25.
    //   A = 0.75*1   + 0.25*0   = 0.75
    //   D = 0.75*0.5            = 0.375
    //   B = 0.75*0   + 0.25*1   = 0.25
    //   C =            0.25*0.5 = 0.125
    const fused = relativeScoreFusion(
      hybridLists(
        0.25,
        [
          { key: A, score: 10 },
          { key: D, score: 6 },
          { key: B, score: 2 },
        ],
        [
          { key: B, score: 0.9 },
          { key: C, score: 0.6 },
          { key: A, score: 0.3 },
        ],
      ),
    );
    expectFused(fused, [
      [A, 0.75],
      [D, 0.375],
      [B, 0.25],
      [C, 0.125],
    ]);
  });

  it('keeps the lowest result of a list, with 0 from that list', () => {
    // keyword A 4, B 1 normalise to 1 and 0; weight 1 (alpha 0 and no vector results).
    const fused = relativeScoreFusion(
      hybridLists(
        0,
        [
          { key: A, score: 4 },
          { key: B, score: 1 },
        ],
        [],
      ),
    );
    expectFused(fused, [
      [A, 1],
      [B, 0],
    ]);
  });

  it('normalises a list whose scores are all equal to 1', () => {
    // keyword A 5, B 5: max = min, so both normalise to 1; vector has the single result C 0.3,
    // which normalises to 1 as well. alpha 0.5: A = 0.5, B = 0.5, C = 0.5 (a three-way tie,
    // kept in the order first seen).
    const fused = relativeScoreFusion(
      hybridLists(
        0.5,
        [
          { key: A, score: 5 },
          { key: B, score: 5 },
        ],
        [{ key: C, score: 0.3 }],
      ),
    );
    expectFused(fused, [
      [A, 0.5],
      [B, 0.5],
      [C, 0.5],
    ]);
  });

  it('lets a list of weight 0 contribute nothing', () => {
    // alpha 1: the keyword list weighs 0. vector B 0.8, A 0.4 normalise to 1 and 0; D is absent.
    const fused = relativeScoreFusion(
      hybridLists(
        1,
        [
          { key: D, score: 12 },
          { key: A, score: 3 },
        ],
        [
          { key: B, score: 0.8 },
          { key: A, score: 0.4 },
        ],
      ),
    );
    expectFused(fused, [
      [B, 1],
      [A, 0],
    ]);
  });

  it('orders by fused score, not by rank in either list', () => {
    // keyword A 3, B 2.9, C 1: min 1, max 3, so A = 1, B = 0.95, C = 0.
    // vector C 0.9, B 0.2, A 0.1: min 0.1, max 0.9, so C = 1, B = 0.125, A = 0.
    // alpha 0.6: keyword weight 0.4, vector weight 0.6.
    //   A = 0.4*1    + 0.6*0     = 0.4
    //   B = 0.4*0.95 + 0.6*0.125 = 0.38 + 0.075 = 0.455
    //   C = 0.4*0    + 0.6*1     = 0.6
    const fused = relativeScoreFusion(
      hybridLists(
        0.6,
        [
          { key: A, score: 3 },
          { key: B, score: 2.9 },
          { key: C, score: 1 },
        ],
        [
          { key: C, score: 0.9 },
          { key: B, score: 0.2 },
          { key: A, score: 0.1 },
        ],
      ),
    );
    expectFused(fused, [
      [C, 0.6],
      [B, 0.455],
      [A, 0.4],
    ]);
  });
});

describe('fuse', () => {
  const lists = hybridLists(
    0.5,
    [
      { key: A, score: 8 },
      { key: B, score: 2 },
    ],
    [
      { key: B, score: 0.9 },
      { key: C, score: 0.1 },
    ],
  );

  it('runs ranked fusion for "ranked"', () => {
    // A = 0.5/60, B = 0.5/61 + 0.5/60, C = 0.5/61.
    expectFused(fuse('ranked', lists), [
      [B, 0.5 / 61 + 0.5 / 60],
      [A, 0.5 / 60],
      [C, 0.5 / 61],
    ]);
  });

  it('runs relative score fusion for "relativeScore"', () => {
    // keyword A 1, B 0; vector B 1, C 0; weights 0.5: A = 0.5, B = 0.5, C = 0.
    expectFused(fuse('relativeScore', lists), [
      [A, 0.5],
      [B, 0.5],
      [C, 0],
    ]);
  });
});
