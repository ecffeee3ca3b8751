/**
 * How ragql's filter language becomes Weaviate filters over the properties the Weaviate store
 * writes, and how it writes them. Filters are shown in a compact form: `property Operator value`,
 * with text values as stored (x and the hex of the UTF-8 bytes). Whether Weaviate then matches
 * what the embedded store matches is tested against a real Weaviate in
 * test/integration/weaviate-store.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { FilterValue } from 'weaviate-client';
import type { Filter } from '../../src/ports.ts';
import { type MappedFilter, mapFilter } from '../../src/stores/weaviate/filter-mapping.ts';
import {
  encodeText,
  filterableProperties,
  metadataPropertiesOf,
  metadataProperty,
} from '../../src/stores/weaviate/filter-properties.ts';
import { documentKey, documentKeyDescending } from '../../src/stores/weaviate/objects.ts';

/** Every typed property of these keys exists in the schema. */
const schemaWithEveryKey = (name: string) => name.startsWith('metadata_') || name.startsWith('filter_');

function render(filter: FilterValue): string {
  if (filter.filters) return `${filter.operator}(${filter.filters.map(render).join(', ')})`;
  return `${filter.target?.property} ${filter.operator} ${JSON.stringify(filter.value)}`;
}

function mapped(filter: Filter, hasProperty: (name: string) => boolean = schemaWithEveryKey): string {
  const result: MappedFilter = mapFilter(filter, hasProperty);
  return result.kind === 'condition' ? render(result.filter) : result.kind;
}

const hex = (text: string) => JSON.stringify(encodeText(text));

describe('mapFilter', () => {
  describe('on title and source', () => {
    it('compares strings as stored, exactly and byte-wise', () => {
      expect(mapped([{ field: 'title', operator: 'eq', value: 'Solar' }])).toBe(
        `filter_title Equal ${hex('Solar')}`,
      );
      expect(mapped([{ field: 'source', operator: 'ne', value: 'a' }])).toBe(
        `filter_source NotEqual ${hex('a')}`,
      );
      expect(mapped([{ field: 'title', operator: 'gt', value: 'm' }])).toBe(
        `filter_title GreaterThan ${hex('m')}`,
      );
      expect(mapped([{ field: 'title', operator: 'gte', value: 'm' }])).toBe(
        `filter_title GreaterThanEqual ${hex('m')}`,
      );
      expect(mapped([{ field: 'title', operator: 'lt', value: 'm' }])).toBe(
        `filter_title LessThan ${hex('m')}`,
      );
      expect(mapped([{ field: 'title', operator: 'lte', value: 'm' }])).toBe(
        `filter_title LessThanEqual ${hex('m')}`,
      );
    });

    it('keeps only the strings of an in list, and matches nothing without one', () => {
      expect(mapped([{ field: 'title', operator: 'in', value: ['a', 5, true, 'b'] }])).toBe(
        `filter_title ContainsAny [${hex('a')},${hex('b')}]`,
      );
      expect(mapped([{ field: 'title', operator: 'in', value: [5, false] }])).toBe('nothing');
    });

    it('matches nothing for a comparison with a number or boolean, and everything for ne', () => {
      expect(mapped([{ field: 'title', operator: 'eq', value: 5 }])).toBe('nothing');
      expect(mapped([{ field: 'source', operator: 'gt', value: 5 }])).toBe('nothing');
      expect(mapped([{ field: 'title', operator: 'ne', value: true }])).toBe('everything');
    });

    it('reads exists from the list of fields a document has', () => {
      expect(mapped([{ field: 'title', operator: 'exists', value: true }])).toBe(
        'filter_fields Equal "title"',
      );
      expect(mapped([{ field: 'source', operator: 'exists', value: false }])).toBe(
        'filter_fields NotEqual "source"',
      );
    });
  });

  describe('on metadata', () => {
    it('compares with the property of the value’s type', () => {
      expect(mapped([{ field: 'metadata.topic', operator: 'eq', value: 'energy' }])).toBe(
        `metadata_text_topic Equal ${hex('energy')}`,
      );
      expect(mapped([{ field: 'metadata.year', operator: 'gte', value: 2019 }])).toBe(
        'metadata_number_year GreaterThanEqual 2019',
      );
      expect(mapped([{ field: 'metadata.year', operator: 'lt', value: '2019' }])).toBe(
        `metadata_text_year LessThan ${hex('2019')}`,
      );
      expect(mapped([{ field: 'metadata.draft', operator: 'ne', value: true }])).toBe(
        'metadata_boolean_draft NotEqual true',
      );
      expect(mapped([{ field: 'metadata.score', operator: 'lte', value: 4.5 }])).toBe(
        'metadata_number_score LessThanEqual 4.5',
      );
    });

    it('splits an in list by type, and its numbers into integers and fractions', () => {
      expect(mapped([{ field: 'metadata.code', operator: 'in', value: ['5', 5, 2.5, true] }])).toBe(
        `Or(metadata_text_code ContainsAny [${hex('5')}], ` +
          'Or(metadata_number_code ContainsAny [5], metadata_number_code ContainsAny [2.5]), ' +
          'metadata_boolean_code ContainsAny [true])',
      );
      expect(mapped([{ field: 'metadata.code', operator: 'in', value: [1, 2] }])).toBe(
        'metadata_number_code ContainsAny [1,2]',
      );
    });

    it('escapes keys so that keys differing in case get different properties', () => {
      expect(mapped([{ field: 'metadata.Topic_A', operator: 'eq', value: 1 }])).toBe(
        'metadata_number__topic___a Equal 1',
      );
    });

    it('reads exists from the list of fields a document has', () => {
      expect(mapped([{ field: 'metadata.tags', operator: 'exists', value: true }])).toBe(
        'filter_fields Equal "metadata.tags"',
      );
      expect(mapped([{ field: 'metadata.tags', operator: 'exists', value: false }])).toBe(
        'filter_fields NotEqual "metadata.tags"',
      );
    });

    describe('with a property no document has had', () => {
      const onlyTextTopic = (name: string) => name === 'metadata_text_topic';

      it('matches nothing for eq, in and comparisons, and everything for ne', () => {
        expect(mapped([{ field: 'metadata.topic', operator: 'eq', value: 5 }], onlyTextTopic)).toBe(
          'nothing',
        );
        expect(mapped([{ field: 'metadata.year', operator: 'gt', value: 1 }], onlyTextTopic)).toBe('nothing');
        expect(mapped([{ field: 'metadata.year', operator: 'in', value: [1, 'a'] }], onlyTextTopic)).toBe(
          'nothing',
        );
        expect(mapped([{ field: 'metadata.topic', operator: 'ne', value: 5 }], onlyTextTopic)).toBe(
          'everything',
        );
      });

      it('keeps the values of an in list whose properties exist', () => {
        expect(mapped([{ field: 'metadata.topic', operator: 'in', value: [5, 'a'] }], onlyTextTopic)).toBe(
          `metadata_text_topic ContainsAny [${hex('a')}]`,
        );
      });
    });
  });

  describe('a list of conditions', () => {
    it('is an And of its conditions, without those that match everything', () => {
      expect(
        mapped([
          { field: 'metadata.topic', operator: 'eq', value: 'energy' },
          { field: 'title', operator: 'ne', value: 5 },
          { field: 'metadata.year', operator: 'gt', value: 2000 },
        ]),
      ).toBe(`And(metadata_text_topic Equal ${hex('energy')}, metadata_number_year GreaterThan 2000)`);
      expect(mapped([{ field: 'title', operator: 'ne', value: 5 }])).toBe('everything');
      expect(mapped([])).toBe('everything');
    });

    it('matches nothing when one condition matches nothing', () => {
      expect(
        mapped([
          { field: 'metadata.topic', operator: 'eq', value: 'energy' },
          { field: 'title', operator: 'eq', value: 5 },
        ]),
      ).toBe('nothing');
    });
  });
});

describe('the filterable properties of a document', () => {
  it('stores every value as an array in the property of its type, and lists the fields present', () => {
    const properties = filterableProperties({
      title: 'Solar',
      source: null,
      metadata: { topic: 'energy', year: 2019, mixed: ['a', 1, true, 2.5], empty: [] },
    });
    expect(properties).toEqual({
      filter_title: encodeText('Solar'),
      metadata_text_topic: [encodeText('energy')],
      metadata_number_year: [2019],
      metadata_text_mixed: [encodeText('a')],
      metadata_number_mixed: [1, 2.5],
      metadata_boolean_mixed: [true],
      filter_fields: ['title', 'metadata.topic', 'metadata.year', 'metadata.mixed', 'metadata.empty'],
    });
  });

  it('needs one schema property per key and type', () => {
    expect(metadataPropertiesOf({ code: ['5', 5], flag: true })).toEqual(
      new Map([
        ['metadata_text_code', 'text'],
        ['metadata_number_code', 'number'],
        ['metadata_boolean_flag', 'boolean'],
      ]),
    );
  });

  it('gives distinct keys distinct lower-case property names (Weaviate ignores case in them)', () => {
    const keys = ['color', 'Color', 'COLOR', 'a_b', 'a__b', 'aB', 'a_B', '_a', 'A', '_', '__'];
    const names = keys.map((key) => metadataProperty(key, 'text'));
    expect(new Set(names.map((name) => name.toLowerCase())).size).toBe(keys.length);
    for (const name of names) expect(name).toMatch(/^[a-z_][a-z0-9_]{0,229}$/);
    expect(metadataProperty(`K${'x'.repeat(63)}`, 'boolean').length).toBeLessThanOrEqual(230);
  });

  it('encodes text so that every value has a token and the order is the UTF-8 byte order', () => {
    expect(encodeText('')).toBe('x');
    expect(encodeText(' a ')).not.toBe(encodeText('a'));
    const values = ['', ' ', 'A', 'Z', '_', 'a', 'a ', 'ab', 'b', 'é', '\uffff', '😀', '中文'];
    for (const first of values) {
      for (const second of values) {
        const byteOrder = Math.sign(Buffer.compare(Buffer.from(first), Buffer.from(second)));
        const [a, b] = [encodeText(first), encodeText(second)];
        expect(a < b ? -1 : a > b ? 1 : 0, `${first} vs ${second}`).toBe(byteOrder);
      }
    }
  });
});

describe('document keys', () => {
  const ids = ['', ' ', 'A', 'B', '_', 'a', 'a ', 'ab', 'abc', 'b', 'é', '\uffff', '😀'];
  const order = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

  it('sort ascending in the byte order of the ids', () => {
    const byBytes = [...ids].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect([...ids].sort((a, b) => order(documentKey(a), documentKey(b)))).toEqual(byBytes);
  });

  it('have a descending form whose ascending order is the reverse, prefixes included', () => {
    const byBytes = [...ids].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const byDescendingKey = [...ids].sort((a, b) =>
      order(documentKeyDescending(a), documentKeyDescending(b)),
    );
    expect(byDescendingKey).toEqual(byBytes.reverse());
    for (const id of ids) expect(documentKeyDescending(id)).toMatch(/^x[0-9a-f]*~$/);
  });
});
