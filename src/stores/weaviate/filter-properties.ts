import type { Metadata, MetadataScalar } from '../../ports.ts';

/**
 * The properties ragql filters on, as both collections (chunks and document records) store them,
 * and how values are written into them so Weaviate's filters behave as the embedded store's SQL.
 *
 * - Metadata keys are not known in advance, and one key may hold a string in one document and a
 *   number in another, while a Weaviate property has one type. So each key gets a property per
 *   type of value it has held: `metadata_text_<key>` (text[]), `metadata_number_<key>` (number[]),
 *   `metadata_boolean_<key>` (boolean[]), added to the schema on first use. Values are always
 *   stored as arrays: Weaviate matches an array when any element does, which is ragql's rule for
 *   array values, and a scalar is a one-element array. A typed property also makes comparisons
 *   strictly typed, as in the embedded store: the string "5" never equals the number 5.
 * - Weaviate property names are unique regardless of case, while metadata keys are not (`Color`
 *   and `color` are two keys), so the key is escaped: `_` becomes `__`, a capital `C` becomes `_c`.
 * - Text is stored as `x` and the hex of its UTF-8 bytes, with `field` tokenization. Field
 *   tokenization trims whitespace (`" a "` would equal `"a"`) and an empty string would have no
 *   token at all; hex keeps every value exact, and its order is the order of the UTF-8 bytes, which
 *   is how SQLite compares text, so `gt`/`lt` on strings agree with the embedded store.
 * - `exists` reads `filter_fields`, the list of fields a document has (`title`, `source`,
 *   `metadata.<key>`): Weaviate's null-state index cannot be added to a collection later, and it
 *   would count an empty array as null where ragql counts it as present.
 */

export type ValueType = 'text' | 'number' | 'boolean';

export const titleProperty = 'filter_title';
export const sourceProperty = 'filter_source';
export const presentFieldsProperty = 'filter_fields';

export function metadataProperty(key: string, type: ValueType): string {
  return `metadata_${type}_${escapeKey(key)}`;
}

export function valueTypeOf(value: MetadataScalar): ValueType {
  return typeof value === 'string' ? 'text' : typeof value === 'number' ? 'number' : 'boolean';
}

/** A string as the filterable properties hold it: exact under field tokenization, in byte order. */
export function encodeText(value: string): string {
  return `x${Buffer.from(value, 'utf8').toString('hex')}`;
}

/** The filterable properties of a document (or of each of its chunks). */
export function filterableProperties(document: {
  title: string | null;
  source: string | null;
  metadata: Metadata;
}): Record<string, string | string[] | number[] | boolean[]> {
  const properties: Record<string, string | string[] | number[] | boolean[]> = {};
  const present: string[] = [];
  if (document.title !== null) {
    properties[titleProperty] = encodeText(document.title);
    present.push('title');
  }
  if (document.source !== null) {
    properties[sourceProperty] = encodeText(document.source);
    present.push('source');
  }
  for (const [key, value] of Object.entries(document.metadata)) {
    present.push(`metadata.${key}`);
    const values = Array.isArray(value) ? value : [value];
    const texts = values.filter((item): item is string => typeof item === 'string');
    const numbers = values.filter((item): item is number => typeof item === 'number');
    const booleans = values.filter((item): item is boolean => typeof item === 'boolean');
    if (texts.length > 0) properties[metadataProperty(key, 'text')] = texts.map(encodeText);
    if (numbers.length > 0) properties[metadataProperty(key, 'number')] = numbers;
    if (booleans.length > 0) properties[metadataProperty(key, 'boolean')] = booleans;
  }
  properties[presentFieldsProperty] = present;
  return properties;
}

/** The typed metadata properties a document needs in the schema, with their types. */
export function metadataPropertiesOf(metadata: Metadata): Map<string, ValueType> {
  const needed = new Map<string, ValueType>();
  for (const [key, value] of Object.entries(metadata)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      const type = valueTypeOf(item);
      needed.set(metadataProperty(key, type), type);
    }
  }
  return needed;
}

function escapeKey(key: string): string {
  return key.replace(/[_A-Z]/g, (character) => (character === '_' ? '__' : `_${character.toLowerCase()}`));
}
