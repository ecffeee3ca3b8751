/** fast-check arbitraries for ragql's inputs, shared by the fuzz tests (hostile input, tenants, token counts). */
import fc from 'fast-check';

/**
 * The seed of the fuzz tests' generators: every run sees the same cases, so a failure in CI
 * repeats on a laptop. FAST_CHECK_SEED explores others; fast-check prints the seed that failed.
 */
export const fuzzSeed = Number(process.env.FAST_CHECK_SEED ?? 15);

const operators = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'exists'] as const;

/**
 * Filter conditions of every shape: known and unknown fields, every operator, values of any JSON
 * type (an `in` gets a list, an `exists` a boolean), some of them wrong on purpose.
 */
export function filterConditions(fields: readonly string[]) {
  const condition = fc
    .record({
      field: fc.oneof(
        { arbitrary: fc.constantFrom(...fields), weight: 3 },
        { arbitrary: fc.string(), weight: 1 },
      ),
      operator: fc.constantFrom(...operators),
      value: fc.jsonValue({ maxDepth: 2 }),
    })
    .map(({ field, operator, value }) => ({
      field,
      [operator]:
        operator === 'in'
          ? Array.isArray(value)
            ? value
            : [value]
          : operator === 'exists'
            ? Boolean(value)
            : value,
    }));
  return fc.array(condition, { maxLength: 3 });
}

/** What one pre-token can be made of: letters of several scripts, digit-free hex, punctuation. */
export const alphabets = [
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

/**
 * A run of `minLength` to `maxLength` characters of one alphabet, sometimes repeating a motif: to
 * the tokenizer one pre-token however long, the input its byte-pair merge is slowest on.
 * `size: 'max'` spreads the lengths of random runs over the whole range, fast-check's default
 * keeps them near `minLength`.
 */
export function characterRun(
  minLength: number,
  maxLength: number,
  from: string[][] = [...alphabets, whitespace],
  size?: fc.SizeForArbitrary,
) {
  return fc.constantFrom(...from).chain((alphabet) =>
    fc.oneof(
      fc
        .array(fc.constantFrom(...alphabet), { minLength, maxLength, ...(size ? { size } : {}) })
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
