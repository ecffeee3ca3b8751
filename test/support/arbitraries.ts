/** fast-check arbitraries for ragql's GraphQL inputs, shared by the hostile-input and tenant fuzz tests. */
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
