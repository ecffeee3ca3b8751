import type { RecordMetadata } from '@pinecone-database/pinecone';
import type { Filter, FilterCondition, Metadata, MetadataScalar } from '../../ports.ts';

/**
 * ragql's filter language on Pinecone, whose filters compare strings for equality only, take
 * ranges on numbers only, and hold lists of strings only. Each metadata key is kept in typed
 * fields that Pinecone can filter exactly, with ragql's semantics (an array satisfies a condition
 * when any element does; comparisons are strictly typed):
 *
 * - `m_s_<key>`, `m_n_<key>`, `m_b_<key>`: the key's strings, numbers and booleans, each a list
 *   of strings (numbers as JavaScript prints them, which is one text per value);
 * - `m_lo_<key>`, `m_hi_<key>`: its smallest and largest number, which decide any range: some
 *   element exceeds x exactly when the largest does;
 * - `m_x_<key>`: that the key is present.
 *
 * Ranges on strings (code point order) are the one thing Pinecone cannot compare: Pinecone keeps
 * the records that have strings there, and ragql checks the strings (`residual`).
 */

/** The Pinecone fields a document's title, source and metadata are filtered by. */
export function filterFields(document: {
  title: string | null;
  source: string | null;
  metadata: Metadata;
}): RecordMetadata {
  const fields: RecordMetadata = {};
  if (document.title !== null) fields.title = document.title;
  if (document.source !== null) fields.source = document.source;
  for (const [key, value] of Object.entries(document.metadata)) {
    const elements = Array.isArray(value) ? value : [value];
    const strings = elements.filter((element): element is string => typeof element === 'string');
    const numbers = elements.filter((element): element is number => typeof element === 'number');
    const booleans = elements.filter((element): element is boolean => typeof element === 'boolean');
    fields[`m_x_${key}`] = true;
    if (strings.length > 0) fields[`m_s_${key}`] = strings;
    if (numbers.length > 0) {
      fields[`m_n_${key}`] = numbers.map(String);
      fields[`m_lo_${key}`] = Math.min(...numbers);
      fields[`m_hi_${key}`] = Math.max(...numbers);
    }
    if (booleans.length > 0) fields[`m_b_${key}`] = booleans.map(String);
  }
  return fields;
}

export interface PineconeFilter {
  /** What Pinecone applies; empty when it need apply nothing. */
  clauses: object[];
  /** What ragql checks on the records Pinecone returns; null when Pinecone's filter is exact. */
  residual: ((metadata: RecordMetadata) => boolean) | null;
}

/** The filter in Pinecone's terms, or null when no record can satisfy it. */
export function pineconeFilter(filter: Filter): PineconeFilter | null {
  const clauses: object[] = [];
  const checks: ((metadata: RecordMetadata) => boolean)[] = [];
  for (const condition of filter) {
    const mapped = conditionOf(condition);
    if (mapped === null) return null;
    if (mapped.clause) clauses.push(mapped.clause);
    if (mapped.check) checks.push(mapped.check);
  }
  return {
    clauses,
    residual: checks.length === 0 ? null : (metadata) => checks.every((check) => check(metadata)),
  };
}

/** `clauses` with these added, as one Pinecone filter. */
export function allOf(...clauses: object[]): object {
  return clauses.length === 1 ? (clauses[0] ?? {}) : { $and: clauses };
}

interface MappedCondition {
  clause?: object;
  check?: (metadata: RecordMetadata) => boolean;
}

const rangeOperators = { gt: '$gt', gte: '$gte', lt: '$lt', lte: '$lte' } as const;

function conditionOf(condition: FilterCondition): MappedCondition | null {
  if (condition.field.startsWith('metadata.')) {
    return metadataCondition(condition, condition.field.slice('metadata.'.length));
  }
  return textFieldCondition(condition, condition.field === 'title' ? 'title' : 'source');
}

/** title and source: strings, or absent; a missing value satisfies only `ne` and `exists: false`. */
function textFieldCondition(condition: FilterCondition, field: string): MappedCondition | null {
  switch (condition.operator) {
    case 'exists':
      return { clause: { [field]: { $exists: condition.value } } };
    case 'in': {
      const strings = condition.value.filter((value): value is string => typeof value === 'string');
      return strings.length === 0 ? null : { clause: { [field]: { $in: strings } } };
    }
    case 'ne':
      return typeof condition.value === 'string' ? { clause: { [field]: { $ne: condition.value } } } : {};
    case 'eq':
      return typeof condition.value === 'string' ? { clause: { [field]: { $eq: condition.value } } } : null;
    default:
      return typeof condition.value === 'string'
        ? stringRange(field, condition.operator, condition.value)
        : null;
  }
}

function metadataCondition(condition: FilterCondition, key: string): MappedCondition | null {
  switch (condition.operator) {
    case 'exists':
      return { clause: { [`m_x_${key}`]: { $exists: condition.value } } };
    case 'eq':
      return { clause: { [typedField(key, condition.value)]: { $eq: typedText(condition.value) } } };
    case 'ne':
      return { clause: { [typedField(key, condition.value)]: { $ne: typedText(condition.value) } } };
    case 'in': {
      const byField = new Map<string, string[]>();
      for (const value of condition.value) {
        const field = typedField(key, value);
        byField.set(field, [...(byField.get(field) ?? []), typedText(value)]);
      }
      const alternatives = [...byField].map(([field, values]) => ({ [field]: { $in: values } }));
      return { clause: alternatives.length === 1 ? alternatives[0] : { $or: alternatives } };
    }
    default: {
      const { operator, value } = condition;
      if (typeof value === 'number') {
        const bound = operator === 'gt' || operator === 'gte' ? `m_hi_${key}` : `m_lo_${key}`;
        return { clause: { [bound]: { [rangeOperators[operator]]: value } } };
      }
      return typeof value === 'string' ? stringRange(`m_s_${key}`, operator, value) : null;
    }
  }
}

/**
 * A range on the strings of `field` (one string, or a list where any may satisfy it): Pinecone
 * keeps the records that have the field, ragql compares the strings.
 */
function stringRange(field: string, operator: 'gt' | 'gte' | 'lt' | 'lte', bound: string): MappedCondition {
  return {
    clause: { [field]: { $exists: true } },
    check: (metadata) => {
      const stored = metadata[field];
      const elements = Array.isArray(stored) ? stored : [stored];
      return elements.some(
        (element) => typeof element === 'string' && compareStrings(operator, element, bound),
      );
    },
  };
}

function typedField(key: string, value: MetadataScalar): string {
  if (typeof value === 'string') return `m_s_${key}`;
  return typeof value === 'number' ? `m_n_${key}` : `m_b_${key}`;
}

function typedText(value: MetadataScalar): string {
  return typeof value === 'string' ? value : String(value);
}

/** Code point order, as the other stores compare strings. */
function compareStrings(operator: 'gt' | 'gte' | 'lt' | 'lte', stored: string, bound: string): boolean {
  const order = compareCodePoints(stored, bound);
  if (operator === 'gt') return order > 0;
  if (operator === 'gte') return order >= 0;
  if (operator === 'lt') return order < 0;
  return order <= 0;
}

function compareCodePoints(a: string, b: string): number {
  // UTF-8 byte order is code point order; UTF-16 code unit order is not, past U+FFFF.
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
