import fc from 'fast-check';
import { Tiktoken } from 'js-tiktoken/lite';
import cl100kBase from 'js-tiktoken/ranks/cl100k_base';
import { describe, expect, it } from 'vitest';
import { countTokens } from '../../src/text/token-count.ts';

const encoder = new Tiktoken(cl100kBase);
const exactCount = (text: string) => encoder.encode(text, [], []).length;

/** What one pre-token can be made of: letters of several scripts, digits-free hex, punctuation, whitespace. */
const alphabets = [
  'ab',
  'ACGT',
  'abcdefghijklmnopqrstuvwxyz',
  'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ',
  'abcdef',
  'абвгдеёжзийклмнопрстуфхцчшщъыьэюя',
  '的一是不了人我在有他这中大来上国个到说们为',
  'éèàüöçñ',
  '=-+*/#.,;:!?()[]{}<>',
  '𝒜𝒷𝒸a',
].map((letters) => [...letters]);
const whitespace = [' ', '\t'];

/** A run of `minLength` to `maxLength` characters of one alphabet, sometimes repeating a motif. */
function run(minLength: number, maxLength: number, from: string[][] = [...alphabets, whitespace]) {
  return fc.constantFrom(...from).chain((alphabet) =>
    fc.oneof(
      fc
        .array(fc.constantFrom(...alphabet), { minLength, maxLength })
        .map((characters) => characters.join('')),
      fc
        .tuple(fc.array(fc.constantFrom(...alphabet), { minLength: 1, maxLength: 5 }), fc.nat())
        .map(([motif, repeat]) => {
          const unit = motif.join('');
          const times = Math.ceil((minLength + (repeat % (maxLength - minLength + 1))) / unit.length);
          return unit.repeat(times);
        }),
    ),
  );
}

describe('countTokens', () => {
  it('counts text made of ordinary words exactly as cl100k_base does', () => {
    fc.assert(
      fc.property(
        // Without whitespace runs, which the separators would join into longer ones.
        fc.array(fc.oneof(run(1, 40, alphabets), fc.string({ unit: 'grapheme', maxLength: 30 })), {
          maxLength: 30,
        }),
        fc.constantFrom(' ', '\n', '. ', ', ', '\n\n'),
        (words, separator) => {
          const text = words.join(separator);
          expect(countTokens(text)).toBe(exactCount(text));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never counts fewer tokens than cl100k_base, nor more than UTF-8 bytes, for long runs without a space', () => {
    fc.assert(
      fc.property(run(65, 1100), fc.constantFrom('', 'A sequence: ', ' '), (word, prefix) => {
        const text = `${prefix}${word} ends here.`;
        const counted = countTokens(text);
        expect(counted).toBeGreaterThanOrEqual(exactCount(text));
        expect(counted).toBeLessThanOrEqual(Buffer.byteLength(text, 'utf8'));
      }),
      { numRuns: 120 },
    );
  });

  it('counts a 5 MB word without a space, at most its bytes', () => {
    const word = 'ACGT'.repeat(1_250_000);
    const counted = countTokens(`${word} ${word}`);
    expect(counted).toBeLessThanOrEqual(2 * word.length + 1);
    expect(counted).toBeGreaterThan(word.length / 8);
  });
});
