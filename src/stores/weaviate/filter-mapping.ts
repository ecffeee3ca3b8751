import weaviate, { Filters, type FilterValue } from 'weaviate-client';
import type { Filter, FilterCondition, MetadataScalar } from '../../ports.ts';
import {
  encodeText,
  metadataProperty,
  presentFieldsProperty,
  sourceProperty,
  titleProperty,
  type ValueType,
  valueTypeOf,
} from './filter-properties.ts';

/**
 * ragql's filter language as a Weaviate filter over the properties of filter-properties.ts, with
 * the embedded store's semantics (src/stores/embedded/filter-sql.ts):
 *
 * | ragql                         | Weaviate                                                   |
 * | ----------------------------- | ---------------------------------------------------------- |
 * | title/source eq "s"           | filter_title Equal x<hex>                                  |
 * | title/source ne "s"           | filter_title NotEqual x<hex> (no title passes)             |
 * | title/source in [...]         | filter_title ContainsAny [strings]; none → no match        |
 * | title/source gt/gte/lt/lte "s"| GreaterThan… x<hex> (byte order)                           |
 * | title/source, non-string value| eq/in/range: no match; ne: every document                  |
 * | metadata.k eq v               | metadata_<type of v>_k Equal v (any element)               |
 * | metadata.k ne v               | metadata_<type of v>_k NotEqual v (no element equals)      |
 * | metadata.k in [...]           | Or of ContainsAny per value type                           |
 * | metadata.k gt/gte/lt/lte v    | GreaterThan… on metadata_<type of v>_k (any element)       |
 * | field exists true / false     | filter_fields Equal / NotEqual "<field>"                   |
 *
 * A condition on a typed property no document ever had (absent from the schema, which Weaviate
 * would reject) matches nothing, or everything for `ne`. Conditions that match everything are
 * dropped; one that matches nothing makes the whole filter match nothing, and the caller skips
 * the query.
 */
export type MappedFilter =
  | { kind: 'everything' }
  | { kind: 'nothing' }
  | { kind: 'condition'; filter: FilterValue };

/** A condition that compares values (every operator but `exists`). */
type ValueCondition = Exclude<FilterCondition, { operator: 'exists' }>;

const everything: MappedFilter = { kind: 'everything' };
const nothing: MappedFilter = { kind: 'nothing' };

/** `hasProperty` says whether the collection's schema has a property. */
export function mapFilter(filter: Filter, hasProperty: (name: string) => boolean): MappedFilter {
  const conditions: FilterValue[] = [];
  for (const condition of filter) {
    const mapped = mapCondition(condition, hasProperty);
    if (mapped.kind === 'nothing') return nothing;
    if (mapped.kind === 'condition') conditions.push(mapped.filter);
  }
  return combine(conditions, 'and');
}

function mapCondition(condition: FilterCondition, hasProperty: (name: string) => boolean): MappedFilter {
  if (condition.operator === 'exists') {
    const field = condition.value ? equal : notEqual;
    return { kind: 'condition', filter: field(presentFieldsProperty, condition.field) };
  }
  if (condition.field === 'title' || condition.field === 'source') {
    return documentFieldCondition(condition, condition.field === 'title' ? titleProperty : sourceProperty);
  }
  return metadataCondition(condition, condition.field.slice('metadata.'.length), hasProperty);
}

/** title and source hold strings only. */
function documentFieldCondition(condition: ValueCondition, property: string): MappedFilter {
  switch (condition.operator) {
    case 'in': {
      const strings = condition.value.filter((value): value is string => typeof value === 'string');
      return strings.length === 0 ? nothing : containsAny(property, 'text', strings);
    }
    case 'ne':
      return typeof condition.value === 'string'
        ? { kind: 'condition', filter: notEqual(property, encodeText(condition.value)) }
        : everything;
    default:
      return typeof condition.value === 'string'
        ? { kind: 'condition', filter: compare(property, condition.operator, encodeText(condition.value)) }
        : nothing;
  }
}

function metadataCondition(
  condition: ValueCondition,
  key: string,
  hasProperty: (name: string) => boolean,
): MappedFilter {
  if (condition.operator === 'in') {
    const alternatives: FilterValue[] = [];
    for (const type of ['text', 'number', 'boolean'] as const) {
      const property = metadataProperty(key, type);
      const values = condition.value.filter((value) => valueTypeOf(value) === type);
      if (values.length === 0 || !hasProperty(property)) continue;
      const mapped = containsAny(property, type, values);
      if (mapped.kind === 'condition') alternatives.push(mapped.filter);
    }
    return combine(alternatives, 'or');
  }
  const property = metadataProperty(key, valueTypeOf(condition.value));
  if (!hasProperty(property)) return condition.operator === 'ne' ? everything : nothing;
  const value = storedValue(condition.value);
  if (condition.operator === 'ne') return { kind: 'condition', filter: notEqual(property, value) };
  return { kind: 'condition', filter: compare(property, condition.operator, value) };
}

function storedValue(value: MetadataScalar): MetadataScalar {
  return typeof value === 'string' ? encodeText(value) : value;
}

/**
 * ContainsAny over values of one type. weaviate-client sends a number list only when its numbers
 * are all integers or all fractions, so a mixed list is split in two.
 */
function containsAny(property: string, type: ValueType, values: readonly MetadataScalar[]): MappedFilter {
  const target = weaviate.filter.byProperty(property);
  if (type === 'text') {
    return { kind: 'condition', filter: target.containsAny((values as string[]).map(encodeText)) };
  }
  if (type === 'boolean') return { kind: 'condition', filter: target.containsAny(values as boolean[]) };
  const numbers = values as number[];
  const integers = numbers.filter((value) => Number.isInteger(value));
  const fractions = numbers.filter((value) => !Number.isInteger(value));
  return combine(
    [integers, fractions].filter((part) => part.length > 0).map((part) => target.containsAny(part)),
    'or',
  );
}

function combine(filters: FilterValue[], operator: 'and' | 'or'): MappedFilter {
  const [first, ...rest] = filters;
  if (!first) return operator === 'and' ? everything : nothing;
  if (rest.length === 0) return { kind: 'condition', filter: first };
  return { kind: 'condition', filter: operator === 'and' ? Filters.and(...filters) : Filters.or(...filters) };
}

function equal(property: string, value: MetadataScalar): FilterValue {
  return weaviate.filter.byProperty(property).equal(value);
}

function notEqual(property: string, value: MetadataScalar): FilterValue {
  return weaviate.filter.byProperty(property).notEqual(value);
}

function compare(property: string, operator: 'eq' | 'gt' | 'gte' | 'lt' | 'lte', value: MetadataScalar) {
  const target = weaviate.filter.byProperty(property);
  // The client types range operands as numbers or dates, but sends strings as text, which
  // Weaviate compares byte-wise.
  const operand = value as number;
  switch (operator) {
    case 'eq':
      return target.equal(value);
    case 'gt':
      return target.greaterThan(operand);
    case 'gte':
      return target.greaterOrEqual(operand);
    case 'lt':
      return target.lessThan(operand);
    case 'lte':
      return target.lessOrEqual(operand);
  }
}
