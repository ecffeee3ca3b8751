/**
 * Pinecone's metadata filter language, as the Pinecone stand-in evaluates it. The rules follow
 * docs.pinecone.io/guides/search/filter-by-metadata ("based on MongoDB's query and projection
 * operators"; a subset of them):
 *
 * - `$eq`, `$ne` take a number, string or boolean; `$gt`, `$gte`, `$lt`, `$lte` take a number;
 *   `$in`, `$nin` take an array of strings or numbers; `$exists` takes a boolean; `$and`, `$or`
 *   take an array of filters. `{ field: value }` is shorthand for `{ field: { $eq: value } }`, and
 *   the fields of one object (and the operators on one field) must all hold.
 * - A field holding a list of strings matches when any of its values satisfies `$eq` or `$in`;
 *   `$ne` and `$nin` match only when none of its values is excluded.
 * - A record without the field fails every comparison but `$ne`, `$nin` and `$exists: false`, as in
 *   MongoDB, whose operators the language is based on.
 *
 * Anything else is refused with a `FilterError` (Pinecone answers 400), so a client that builds a
 * filter Pinecone would reject fails here too.
 */

export type MetadataValue = string | number | boolean | string[];
export type Metadata = Record<string, MetadataValue>;

/** A filter Pinecone would refuse; the message says why. */
export class FilterError extends Error {
  override name = 'FilterError';
}

/** Decides whether a record's metadata (absent when it has none) satisfies a filter. */
export type MetadataPredicate = (metadata: Metadata | undefined) => boolean;

/**
 * Checks a whole filter once, throwing `FilterError` for anything malformed (even in a clause
 * that evaluation would never reach), and returns its predicate.
 */
export function compileFilter(filter: unknown): MetadataPredicate {
  if (!isPlainObject(filter)) throw new FilterError('The filter must be an object.');
  const conditions = Object.entries(filter).map(([key, condition]): MetadataPredicate => {
    if (key === '$and') {
      const all = clauses(key, condition);
      return (metadata) => all.every((clause) => clause(metadata));
    }
    if (key === '$or') {
      const any = clauses(key, condition);
      return (metadata) => any.some((clause) => clause(metadata));
    }
    if (key.startsWith('$')) throw new FilterError(`${key} is not a valid operator at the top level.`);
    const test = fieldCondition(condition);
    return (metadata) => test(metadata?.[key]);
  });
  return (metadata) => conditions.every((condition) => condition(metadata));
}

function clauses(operator: string, condition: unknown): MetadataPredicate[] {
  if (!Array.isArray(condition) || condition.length === 0) {
    throw new FilterError(`${operator} must be a non-empty array of filters.`);
  }
  return condition.map(compileFilter);
}

type ValueTest = (value: MetadataValue | undefined) => boolean;

function fieldCondition(condition: unknown): ValueTest {
  if (!isPlainObject(condition)) return comparison('$eq', condition);
  const operators = Object.entries(condition);
  if (operators.length === 0) throw new FilterError('A field condition must name an operator.');
  const tests = operators.map(([operator, operand]) => comparison(operator, operand));
  return (value) => tests.every((test) => test(value));
}

/** A list of strings is tested element by element; a scalar as a list of one. */
function elementsOf(value: MetadataValue | undefined): (string | number | boolean)[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function comparison(operator: string, operand: unknown): ValueTest {
  switch (operator) {
    case '$eq': {
      const wanted = scalar(operator, operand);
      return (value) => elementsOf(value).includes(wanted);
    }
    case '$ne': {
      const unwanted = scalar(operator, operand);
      return (value) => !elementsOf(value).includes(unwanted);
    }
    case '$in': {
      const allowed = scalarList(operator, operand);
      return (value) => elementsOf(value).some((element) => allowed.includes(element));
    }
    case '$nin': {
      const excluded = scalarList(operator, operand);
      return (value) => !elementsOf(value).some((element) => excluded.includes(element));
    }
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte': {
      const bound = number(operator, operand);
      // Ranges compare numbers only: a string or a list never satisfies one.
      return (value) => typeof value === 'number' && inRange(operator, value, bound);
    }
    case '$exists':
      if (typeof operand !== 'boolean') throw new FilterError('$exists must be a boolean.');
      return (value) => (value !== undefined) === operand;
    default:
      throw new FilterError(`${operator} is not a valid operator.`);
  }
}

function inRange(operator: '$gt' | '$gte' | '$lt' | '$lte', value: number, bound: number): boolean {
  if (operator === '$gt') return value > bound;
  if (operator === '$gte') return value >= bound;
  if (operator === '$lt') return value < bound;
  return value <= bound;
}

function scalar(operator: string, operand: unknown): string | number | boolean {
  if (typeof operand === 'string' || typeof operand === 'number' || typeof operand === 'boolean') {
    return operand;
  }
  throw new FilterError(`${operator} must be a number, string or boolean.`);
}

function scalarList(operator: string, operand: unknown): (string | number | boolean)[] {
  if (
    !Array.isArray(operand) ||
    !operand.every((item) => typeof item === 'string' || typeof item === 'number')
  ) {
    throw new FilterError(`${operator} must be an array of strings or numbers.`);
  }
  return operand;
}

function number(operator: string, operand: unknown): number {
  if (typeof operand !== 'number') throw new FilterError(`${operator} must be a number.`);
  return operand;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
