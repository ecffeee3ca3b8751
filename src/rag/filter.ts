import { badInput } from '../errors.ts';
import type { Filter, FilterCondition, FilterOperator, MetadataScalar } from '../ports.ts';
import { isMetadataScalar, metadataKeyPattern } from './metadata.ts';

/**
 * ragql's metadata filter language, as clients send it: a list of conditions that must all hold,
 * each naming a field (`title`, `source` or `metadata.<key>`) and exactly one operator.
 */
export interface FilterConditionInput {
  field: string;
  eq?: unknown;
  ne?: unknown;
  in?: unknown;
  gt?: unknown;
  gte?: unknown;
  lt?: unknown;
  lte?: unknown;
  exists?: unknown;
}

/** The most conditions one filter may have. */
export const maxFilterConditions = 32;
/** The most values one `in` condition may list. */
export const maxInValues = 1000;

const operators: FilterOperator[] = ['eq', 'ne', 'in', 'gt', 'gte', 'lt', 'lte', 'exists'];
const documentFields = new Set(['title', 'source']);

/** Validates a client's filter; throws BAD_USER_INPUT listing every problem. */
export function parseFilter(input: readonly FilterConditionInput[] | null | undefined): Filter {
  if (!input) return [];
  if (input.length > maxFilterConditions) {
    throw badInput(`A filter may have at most ${maxFilterConditions} conditions; it has ${input.length}.`);
  }
  const problems: string[] = [];
  const conditions: FilterCondition[] = [];
  input.forEach((conditionInput, position) => {
    const result = parseCondition(conditionInput);
    if (typeof result === 'string') problems.push(`filter[${position}]: ${result}`);
    else conditions.push(result);
  });
  if (problems.length > 0) throw badInput(`Invalid filter: ${problems.join('; ')}`, { problems });
  return conditions;
}

function parseCondition(input: FilterConditionInput): FilterCondition | string {
  const field = input.field;
  if (!documentFields.has(field) && !isMetadataField(field)) {
    return `field "${String(field).slice(0, 80)}" must be title, source or metadata.<key> with <key> matching ${metadataKeyPattern}`;
  }
  const given = operators.filter((operator) => input[operator] !== undefined && input[operator] !== null);
  if (given.length !== 1) {
    return `give exactly one operator of ${operators.join(', ')} (got ${given.length === 0 ? 'none' : given.join(', ')})`;
  }
  const operator = given[0] as FilterOperator;
  const value = input[operator];
  switch (operator) {
    case 'exists':
      return typeof value === 'boolean' ? { field, operator, value } : 'exists takes true or false';
    case 'in': {
      if (!Array.isArray(value) || value.length === 0 || value.length > maxInValues) {
        return `in takes a list of 1 to ${maxInValues} strings, numbers or booleans`;
      }
      return value.every(isMetadataScalar)
        ? { field, operator, value: value as MetadataScalar[] }
        : 'in takes only strings, finite numbers and booleans';
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))
        ? { field, operator, value }
        : `${operator} compares with a string or a finite number`;
    default:
      return isMetadataScalar(value)
        ? { field, operator, value }
        : `${operator} takes a string, a finite number or a boolean`;
  }
}

function isMetadataField(field: string): boolean {
  return (
    typeof field === 'string' && field.startsWith('metadata.') && metadataKeyPattern.test(field.slice(9))
  );
}
