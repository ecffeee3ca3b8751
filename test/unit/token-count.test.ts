import fc from 'fast-check';
import { Tiktoken } from 'js-tiktoken/lite';
import cl100kBase from 'js-tiktoken/ranks/cl100k_base';
import { describe, expect, it } from 'vitest';
import { countTokens } from '../../src/text/token-count.ts';
import { alphabets, characterRun, fuzzSeed } from '../support/arbitraries.ts';

const encoder = new Tiktoken(cl100kBase);
const exactCount = (text: string) => encoder.encode(text, [], []).length;

describe('countTokens', () => {
  it('counts text made of ordinary words exactly as cl100k_base does', () => {
    fc.assert(
      fc.property(
        // Without whitespace runs, which the separators would join into longer ones.
        fc.array(fc.oneof(characterRun(1, 40, alphabets), fc.string({ unit: 'grapheme', maxLength: 30 })), {
          maxLength: 30,
        }),
        fc.constantFrom(' ', '\n', '. ', ', ', '\n\n'),
        (words, separator) => {
          const text = words.join(separator);
          expect(countTokens(text)).toBe(exactCount(text));
        },
      ),
      { numRuns: 300, seed: fuzzSeed },
    );
  });

  it('never counts fewer tokens than cl100k_base, nor more than UTF-8 bytes, for long runs without a space', () => {
    fc.assert(
      fc.property(characterRun(65, 1100), fc.constantFrom('', 'A sequence: ', ' '), (word, prefix) => {
        const text = `${prefix}${word} ends here.`;
        const counted = countTokens(text);
        expect(counted).toBeGreaterThanOrEqual(exactCount(text));
        expect(counted).toBeLessThanOrEqual(Buffer.byteLength(text, 'utf8'));
      }),
      { numRuns: 120, seed: fuzzSeed },
    );
  });

  it('counts a 5 MB word without a space, at most its bytes', () => {
    const word = 'ACGT'.repeat(1_250_000);
    const counted = countTokens(`${word} ${word}`);
    expect(counted).toBeLessThanOrEqual(2 * word.length + 1);
    expect(counted).toBeGreaterThan(word.length / 8);
  });
});
