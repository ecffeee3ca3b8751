/** The record of generations as read back: older records gain what they lacked, and anything else unexpected is refused. */
import { describe, expect, it } from 'vitest';
import { parseGenerationState } from '../../src/stores/generation-record.ts';

const space = { provider: 'openai', modelId: 'text-embedding-3-small', dimensions: 1536 };

describe('a recorded state of generations', () => {
  it('written before the highest generation was kept, takes the highest it names', () => {
    expect(parseGenerationState({ active: 3, building: null, retired: [0, 2] }).highest).toBe(3);
    expect(
      parseGenerationState({ active: 1, building: { generation: 4, space }, retired: [0] }).highest,
    ).toBe(4);
  });

  it('keeps the highest it records, above any it names (a build abandoned)', () => {
    expect(parseGenerationState({ active: 1, building: null, retired: [0], highest: 5 }).highest).toBe(5);
  });

  it('is refused whole when a field is not what ragql writes', () => {
    expect(() => parseGenerationState({ active: 1, building: null, retired: [0], highest: -1 })).toThrow();
    expect(() =>
      parseGenerationState({
        active: 1,
        building: { generation: 2, space, sealed: { at: 'now', until: 1 } },
        retired: [],
      }),
    ).toThrow();
  });
});
