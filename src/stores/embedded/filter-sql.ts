import type { Filter, FilterCondition, MetadataScalar } from '../../ports.ts';

/**
 * Translates ragql's filter language into a SQL condition over `documents d`.
 * Comparisons are strictly typed, as in Weaviate: the string "5" never equals the number 5,
 * and a range condition only compares values of its operand's type.
 */
export interface SqlCondition {
  sql: string;
  params: (string | number)[];
}

const alwaysTrue: SqlCondition = { sql: '1', params: [] };
const comparisonSql = { eq: '=', ne: '=', gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

export function filterToSql(filter: Filter): SqlCondition {
  if (filter.length === 0) return alwaysTrue;
  const parts = filter.map(conditionToSql);
  return {
    sql: parts.map((part) => `(${part.sql})`).join(' AND '),
    params: parts.flatMap((part) => part.params),
  };
}

function conditionToSql(condition: FilterCondition): SqlCondition {
  return condition.field.startsWith('metadata.')
    ? metadataCondition(condition, `$.${condition.field.slice('metadata.'.length)}`)
    : columnCondition(condition, condition.field === 'title' ? 'd.title' : 'd.source');
}

/** title and source are nullable text columns; a missing value satisfies only `ne` and `exists: false`. */
function columnCondition(condition: FilterCondition, column: string): SqlCondition {
  switch (condition.operator) {
    case 'exists':
      return { sql: `${column} IS ${condition.value ? 'NOT ' : ''}NULL`, params: [] };
    case 'in': {
      const strings = condition.value.filter((value): value is string => typeof value === 'string');
      if (strings.length === 0) return { sql: '0', params: [] };
      return { sql: `${column} IN (${strings.map(() => '?').join(', ')})`, params: strings };
    }
    case 'ne':
      return typeof condition.value === 'string'
        ? { sql: `${column} IS NULL OR ${column} <> ?`, params: [condition.value] }
        : alwaysTrue;
    default:
      return typeof condition.value === 'string'
        ? { sql: `${column} ${comparisonSql[condition.operator]} ?`, params: [condition.value] }
        : { sql: '0', params: [] };
  }
}

/**
 * Metadata lives as JSON in `d.metadata`. json_each over a key walks an array's elements, or the
 * one scalar, so one form serves both: an array satisfies a condition when any element does.
 */
function metadataCondition(condition: FilterCondition, path: string): SqlCondition {
  const elements = 'SELECT 1 FROM json_each(d.metadata, ?) AS element WHERE';
  switch (condition.operator) {
    case 'exists':
      return { sql: `json_type(d.metadata, ?) IS ${condition.value ? 'NOT ' : ''}NULL`, params: [path] };
    case 'in': {
      if (condition.value.length === 0) return { sql: '0', params: [] };
      const matches = condition.value.map(elementEquals);
      return {
        sql: `EXISTS (${elements} ${matches.map((match) => `(${match.sql})`).join(' OR ')})`,
        params: [path, ...matches.flatMap((match) => match.params)],
      };
    }
    case 'eq':
    case 'ne': {
      const match = elementEquals(condition.value);
      const negation = condition.operator === 'ne' ? 'NOT ' : '';
      return { sql: `${negation}EXISTS (${elements} ${match.sql})`, params: [path, ...match.params] };
    }
    default: {
      const operand = condition.value as string | number;
      return {
        sql: `EXISTS (${elements} ${typeGuard(operand)} AND element.value ${comparisonSql[condition.operator]} ?)`,
        params: [path, operand],
      };
    }
  }
}

function elementEquals(value: MetadataScalar): SqlCondition {
  if (typeof value === 'boolean') return { sql: `element.type = '${value}'`, params: [] };
  return { sql: `${typeGuard(value)} AND element.value = ?`, params: [value] };
}

function typeGuard(value: string | number): string {
  return typeof value === 'string' ? "element.type = 'text'" : "element.type IN ('integer', 'real')";
}
