import type { Filter, FilterCondition, MetadataScalar } from '../../ports.ts';
import type { SqlParameters } from './postgres-connection.ts';

/**
 * ragql's filter language as a SQL condition over `ragql_documents d`, every value (metadata keys
 * included) a bound parameter. Comparisons are strictly typed, as on the other stores: the string
 * "5" never equals the number 5, and a range condition compares only values of its operand's
 * type; strings compare in code point order.
 */
export function filterToSql(filter: Filter, parameters: SqlParameters): string {
  if (filter.length === 0) return 'true';
  return filter.map((condition) => `(${conditionToSql(condition, parameters)})`).join(' AND ');
}

const comparisonSql = { eq: '=', ne: '=', gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

function conditionToSql(condition: FilterCondition, parameters: SqlParameters): string {
  if (condition.field.startsWith('metadata.')) {
    return metadataCondition(condition, condition.field.slice('metadata.'.length), parameters);
  }
  return columnCondition(condition, condition.field === 'title' ? 'd.title' : 'd.source', parameters);
}

/** title and source are nullable text columns; a missing value satisfies only `ne` and `exists: false`. */
function columnCondition(condition: FilterCondition, column: string, parameters: SqlParameters): string {
  switch (condition.operator) {
    case 'exists':
      return `${column} IS ${condition.value ? 'NOT ' : ''}NULL`;
    case 'in': {
      const strings = condition.value.filter((value): value is string => typeof value === 'string');
      return strings.length === 0 ? 'false' : `${column} = ANY(${parameters.add(strings)}::text[])`;
    }
    case 'ne':
      return typeof condition.value === 'string'
        ? `${column} IS NULL OR ${column} <> ${parameters.add(condition.value)}::text`
        : 'true';
    default:
      return typeof condition.value === 'string'
        ? `${column} ${comparisonSql[condition.operator]} ${parameters.add(condition.value)}::text`
        : 'false';
  }
}

/**
 * Metadata lives as jsonb in `d.metadata`. A key's value is walked as a list of elements (an
 * array's, or the one scalar), so one form serves both: an array satisfies a condition when any
 * element does.
 */
function metadataCondition(condition: FilterCondition, key: string, parameters: SqlParameters): string {
  // Before the key is bound: a parameter the statement never uses has no type, and fails it.
  if (condition.operator === 'in' && condition.value.length === 0) return 'false';
  const value = `d.metadata -> ${parameters.add(key)}::text`;
  const elements = `SELECT 1 FROM jsonb_array_elements(CASE jsonb_typeof(${value}) WHEN 'array' THEN ${value} ELSE jsonb_build_array(${value}) END) AS element(value) WHERE`;
  switch (condition.operator) {
    case 'exists':
      return `${condition.value ? '' : 'NOT '}(${value} IS NOT NULL)`;
    case 'in':
      return `EXISTS (${elements} element.value = ANY(${parameters.add(condition.value.map(toJson))}::jsonb[]))`;
    case 'eq':
    case 'ne': {
      const negation = condition.operator === 'ne' ? 'NOT ' : '';
      return `${negation}EXISTS (${elements} element.value = ${parameters.add(toJson(condition.value))}::jsonb)`;
    }
    default: {
      const operator = comparisonSql[condition.operator];
      const operand = parameters.add(condition.value);
      // CASE, not AND: PostgreSQL may evaluate either side of an AND first, and the cast of a
      // string element to a number would fail.
      const comparison =
        typeof condition.value === 'string'
          ? `CASE WHEN jsonb_typeof(element.value) = 'string' THEN (element.value #>> '{}') COLLATE "C" ${operator} ${operand}::text END`
          : `CASE WHEN jsonb_typeof(element.value) = 'number' THEN (element.value)::float8 ${operator} ${operand}::float8 END`;
      return `EXISTS (${elements} ${comparison})`;
    }
  }
}

/** A scalar as the jsonb text PostgreSQL compares it by: 5 and "5" stay different values. */
function toJson(value: MetadataScalar): string {
  return JSON.stringify(value);
}
