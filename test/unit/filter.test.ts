/**
 * The metadata filter language: what parseFilter accepts and refuses, and what the SQL that
 * filterToSql makes matches when it runs against a real SQLite `documents d` table.
 */
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { RagqlError } from '../../src/errors.ts';
import type { Filter, Metadata } from '../../src/ports.ts';
import { type FilterConditionInput, maxFilterConditions, parseFilter } from '../../src/rag/filter.ts';
import { filterToSql } from '../../src/stores/embedded/filter-sql.ts';

/** The error a call throws, so a test can assert on several of its fields. */
function errorOf(call: () => unknown): RagqlError {
  try {
    call();
  } catch (error) {
    if (error instanceof RagqlError) return error;
    throw error;
  }
  throw new Error('expected the call to throw, but it returned');
}

describe('parseFilter', () => {
  it('returns no conditions for a missing or empty filter', () => {
    expect(parseFilter(undefined)).toEqual([]);
    expect(parseFilter(null)).toEqual([]);
    expect(parseFilter([])).toEqual([]);
  });

  it('accepts one condition of every operator', () => {
    const input: FilterConditionInput[] = [
      { field: 'title', eq: 'Solar power' },
      { field: 'source', ne: 'https://example.org' },
      { field: 'metadata.tags', in: ['solar', 3, true] },
      { field: 'metadata.year', gt: 2019 },
      { field: 'metadata.year', gte: 2020 },
      { field: 'metadata.name', lt: 'm' },
      { field: 'metadata.rating', lte: 4.5 },
      { field: 'metadata.draft', exists: false },
      { field: 'metadata.reviewed', eq: true },
      { field: 'metadata.reviewed', ne: false },
    ];
    expect(parseFilter(input)).toEqual([
      { field: 'title', operator: 'eq', value: 'Solar power' },
      { field: 'source', operator: 'ne', value: 'https://example.org' },
      { field: 'metadata.tags', operator: 'in', value: ['solar', 3, true] },
      { field: 'metadata.year', operator: 'gt', value: 2019 },
      { field: 'metadata.year', operator: 'gte', value: 2020 },
      { field: 'metadata.name', operator: 'lt', value: 'm' },
      { field: 'metadata.rating', operator: 'lte', value: 4.5 },
      { field: 'metadata.draft', operator: 'exists', value: false },
      { field: 'metadata.reviewed', operator: 'eq', value: true },
      { field: 'metadata.reviewed', operator: 'ne', value: false },
    ]);
  });

  it('treats an operator given as null as absent', () => {
    expect(parseFilter([{ field: 'title', eq: null, exists: true }])).toEqual([
      { field: 'title', operator: 'exists', value: true },
    ]);
  });

  it('accepts metadata keys that follow the property-name rule', () => {
    const keys = ['_private', 'camelCase', 'snake_case_2', `k${'x'.repeat(63)}`];
    for (const key of keys) {
      expect(parseFilter([{ field: `metadata.${key}`, exists: true }])).toHaveLength(1);
    }
  });

  it(`accepts ${maxFilterConditions} conditions`, () => {
    const input = Array.from({ length: maxFilterConditions }, () => ({ field: 'title', exists: true }));
    expect(parseFilter(input)).toHaveLength(maxFilterConditions);
  });

  it(`refuses more than ${maxFilterConditions} conditions with BAD_USER_INPUT`, () => {
    const input = Array.from({ length: maxFilterConditions + 1 }, () => ({ field: 'title', exists: true }));
    const error = errorOf(() => parseFilter(input));
    expect(error.code).toBe('BAD_USER_INPUT');
    expect(error.message).toContain(`at most ${maxFilterConditions} conditions`);
    expect(error.message).toContain(`it has ${maxFilterConditions + 1}`);
  });

  describe('refuses invalid conditions with BAD_USER_INPUT, naming the position of each', () => {
    const cases: [string, FilterConditionInput, RegExp][] = [
      ['a field that is not title, source or metadata', { field: 'author', eq: 'Ann' }, /field "author"/],
      ['metadata without a key', { field: 'metadata.', eq: 'x' }, /field "metadata\."/],
      ['a metadata key with a hyphen', { field: 'metadata.bad-key', eq: 'x' }, /field "metadata\.bad-key"/],
      ['a metadata key starting with a digit', { field: 'metadata.1st', eq: 'x' }, /metadata\.1st/],
      ['a nested metadata path', { field: 'metadata.author.name', eq: 'x' }, /metadata\.author\.name/],
      ['a metadata key longer than 64 characters', { field: `metadata.${'k'.repeat(65)}`, eq: 'x' }, /field/],
      ['no operator', { field: 'title' }, /exactly one operator .* \(got none\)/],
      ['two operators', { field: 'title', eq: 'a', ne: 'b' }, /exactly one operator .* \(got eq, ne\)/],
      ['exists with a string', { field: 'title', exists: 'yes' }, /exists takes true or false/],
      ['in with an empty list', { field: 'metadata.tags', in: [] }, /in takes a list of 1 to 1000/],
      ['in with a scalar', { field: 'metadata.tags', in: 'solar' }, /in takes a list/],
      [
        'in with more than 1000 values',
        { field: 'metadata.tags', in: Array.from({ length: 1001 }, (_, index) => index) },
        /in takes a list of 1 to 1000/,
      ],
      ['in with an object among its values', { field: 'metadata.tags', in: ['a', { b: 1 }] }, /only strings/],
      ['in with null among its values', { field: 'metadata.tags', in: ['a', null] }, /only strings/],
      ['gt with a boolean', { field: 'metadata.year', gt: true }, /gt compares with a string or a finite/],
      ['gte with infinity', { field: 'metadata.year', gte: Number.POSITIVE_INFINITY }, /gte compares/],
      ['lt with a list', { field: 'metadata.year', lt: [1] }, /lt compares/],
      ['lte with NaN', { field: 'metadata.year', lte: Number.NaN }, /lte compares/],
      ['eq with an object', { field: 'metadata.topic', eq: { a: 1 } }, /eq takes a string, a finite number/],
      ['eq with a list', { field: 'metadata.topic', eq: ['a'] }, /eq takes a string/],
      ['ne with NaN', { field: 'metadata.topic', ne: Number.NaN }, /ne takes a string/],
    ];

    it.each(cases)('%s', (_name, condition, problem) => {
      const valid: FilterConditionInput = { field: 'title', exists: true };
      const error = errorOf(() => parseFilter([valid, condition]));
      expect(error.code).toBe('BAD_USER_INPUT');
      const problems = error.details?.problems as string[];
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^filter\[1\]: /);
      expect(problems[0]).toMatch(problem);
      expect(error.message).toContain(problems[0]);
    });
  });

  it('lists every problem at once, each with its position', () => {
    const error = errorOf(() =>
      parseFilter([
        { field: 'author', eq: 'Ann' },
        { field: 'title', exists: true },
        { field: 'metadata.tags', in: [] },
        { field: 'metadata.year' },
      ]),
    );
    expect(error.code).toBe('BAD_USER_INPUT');
    const problems = error.details?.problems as string[];
    expect(problems.map((problem) => problem.slice(0, problem.indexOf(':')))).toEqual([
      'filter[0]',
      'filter[2]',
      'filter[3]',
    ]);
  });
});

describe('filterToSql on a documents table', () => {
  interface Row {
    id: string;
    title: string | null;
    source: string | null;
    metadata: Metadata;
  }
  const rows: Row[] = [
    {
      id: 'solar',
      title: 'Solar power',
      source: 'https://example.org/solar',
      metadata: {
        topic: 'energy',
        year: 2021,
        tags: ['solar', 'grid'],
        reviewed: true,
        rating: 4.5,
        code: '5',
      },
    },
    {
      id: 'wind',
      title: 'Wind power',
      source: null,
      metadata: { topic: 'energy', year: 2019, tags: ['wind'], reviewed: false, code: 5 },
    },
    {
      // year is a string here, and tags a single scalar
      id: 'bread',
      title: null,
      source: 'book',
      metadata: { topic: 'cooking', year: '2023', tags: 'bread', reviewed: true, mixed: [3, 'x', false] },
    },
    { id: 'notes', title: 'Notes', source: 'book', metadata: {} },
  ];

  const database = new Database(':memory:');
  database.exec(
    'CREATE TABLE documents (id TEXT PRIMARY KEY, title TEXT, source TEXT, metadata TEXT NOT NULL)',
  );
  const insert = database.prepare('INSERT INTO documents (id, title, source, metadata) VALUES (?, ?, ?, ?)');
  for (const row of rows) insert.run(row.id, row.title, row.source, JSON.stringify(row.metadata));
  afterAll(() => database.close());

  /** The ids of the documents the filter matches, sorted. */
  function matching(filter: Filter): string[] {
    const condition = filterToSql(filter);
    return database
      .prepare(`SELECT d.id FROM documents d WHERE ${condition.sql} ORDER BY d.id`)
      .pluck()
      .all(...condition.params) as string[];
  }

  it('matches every document when the filter is empty', () => {
    expect(matching([])).toEqual(['bread', 'notes', 'solar', 'wind']);
  });

  describe('eq', () => {
    it('matches a scalar metadata value', () => {
      expect(matching([{ field: 'metadata.topic', operator: 'eq', value: 'energy' }])).toEqual([
        'solar',
        'wind',
      ]);
    });

    it('matches any element of an array value, and a lone scalar of the same key', () => {
      expect(matching([{ field: 'metadata.tags', operator: 'eq', value: 'grid' }])).toEqual(['solar']);
      expect(matching([{ field: 'metadata.tags', operator: 'eq', value: 'bread' }])).toEqual(['bread']);
    });

    it('matches title and source columns', () => {
      expect(matching([{ field: 'title', operator: 'eq', value: 'Notes' }])).toEqual(['notes']);
      expect(matching([{ field: 'source', operator: 'eq', value: 'book' }])).toEqual(['bread', 'notes']);
    });

    it('matches numbers, including non-integers', () => {
      expect(matching([{ field: 'metadata.year', operator: 'eq', value: 2019 }])).toEqual(['wind']);
      expect(matching([{ field: 'metadata.rating', operator: 'eq', value: 4.5 }])).toEqual(['solar']);
    });

    it('binds values as parameters, so quotes in them are plain text', () => {
      expect(matching([{ field: 'metadata.topic', operator: 'eq', value: "x' OR '1'='1" }])).toEqual([]);
      expect(matching([{ field: 'title', operator: 'eq', value: "x' OR '1'='1" }])).toEqual([]);
    });
  });

  describe('ne', () => {
    it('matches documents whose value differs or that lack the key', () => {
      expect(matching([{ field: 'metadata.topic', operator: 'ne', value: 'energy' }])).toEqual([
        'bread',
        'notes',
      ]);
    });

    it('matches an array only when no element equals the value', () => {
      expect(matching([{ field: 'metadata.tags', operator: 'ne', value: 'solar' }])).toEqual([
        'bread',
        'notes',
        'wind',
      ]);
    });

    it('matches a null title', () => {
      expect(matching([{ field: 'title', operator: 'ne', value: 'Wind power' }])).toEqual([
        'bread',
        'notes',
        'solar',
      ]);
    });

    it('matches a null source', () => {
      expect(matching([{ field: 'source', operator: 'ne', value: 'book' }])).toEqual(['solar', 'wind']);
    });
  });

  describe('in', () => {
    it('matches any of the listed values, strictly typed', () => {
      // bread's year is the string "2023", which the number 2023 does not match.
      expect(matching([{ field: 'metadata.year', operator: 'in', value: [2019, 2023] }])).toEqual(['wind']);
      expect(matching([{ field: 'metadata.year', operator: 'in', value: ['2023', 2021] }])).toEqual([
        'bread',
        'solar',
      ]);
    });

    it('matches array elements and scalars alike', () => {
      expect(matching([{ field: 'metadata.tags', operator: 'in', value: ['wind', 'bread'] }])).toEqual([
        'bread',
        'wind',
      ]);
    });

    it('matches booleans in the list', () => {
      expect(matching([{ field: 'metadata.reviewed', operator: 'in', value: [false, 'x'] }])).toEqual([
        'wind',
      ]);
    });

    it('matches title and source columns', () => {
      expect(matching([{ field: 'title', operator: 'in', value: ['Notes', 'Wind power'] }])).toEqual([
        'notes',
        'wind',
      ]);
      expect(matching([{ field: 'source', operator: 'in', value: ['book', 5] }])).toEqual(['bread', 'notes']);
    });

    it('matches no column value when no listed value is a string', () => {
      expect(matching([{ field: 'title', operator: 'in', value: [5, true] }])).toEqual([]);
    });
  });

  describe('ranges', () => {
    it('compare numbers, ignoring string values of the same key', () => {
      expect(matching([{ field: 'metadata.year', operator: 'gt', value: 2019 }])).toEqual(['solar']);
      expect(matching([{ field: 'metadata.year', operator: 'gte', value: 2019 }])).toEqual(['solar', 'wind']);
      expect(matching([{ field: 'metadata.year', operator: 'lt', value: 2021 }])).toEqual(['wind']);
      expect(matching([{ field: 'metadata.year', operator: 'lte', value: 2021 }])).toEqual(['solar', 'wind']);
      expect(matching([{ field: 'metadata.rating', operator: 'gt', value: 4 }])).toEqual(['solar']);
    });

    it('compare strings, ignoring numeric values of the same key', () => {
      expect(matching([{ field: 'metadata.year', operator: 'gte', value: '2000' }])).toEqual(['bread']);
      expect(matching([{ field: 'metadata.code', operator: 'lte', value: '9' }])).toEqual(['solar']);
    });

    it('compare strings on title and source', () => {
      expect(matching([{ field: 'title', operator: 'gt', value: 'T' }])).toEqual(['wind']);
      expect(matching([{ field: 'title', operator: 'gte', value: 'Wind power' }])).toEqual(['wind']);
      expect(matching([{ field: 'title', operator: 'lt', value: 'O' }])).toEqual(['notes']);
      expect(matching([{ field: 'title', operator: 'lte', value: 'Solar power' }])).toEqual([
        'notes',
        'solar',
      ]);
      expect(matching([{ field: 'source', operator: 'lt', value: 'c' }])).toEqual(['bread', 'notes']);
    });

    it('match any element of an array', () => {
      expect(matching([{ field: 'metadata.mixed', operator: 'gte', value: 3 }])).toEqual(['bread']);
      expect(matching([{ field: 'metadata.mixed', operator: 'gt', value: 3 }])).toEqual([]);
      expect(matching([{ field: 'metadata.tags', operator: 'gt', value: 'solar' }])).toEqual(['wind']);
    });
  });

  describe('strict typing', () => {
    it('never lets the string "5" equal the number 5', () => {
      expect(matching([{ field: 'metadata.code', operator: 'eq', value: '5' }])).toEqual(['solar']);
      expect(matching([{ field: 'metadata.code', operator: 'eq', value: 5 }])).toEqual(['wind']);
      expect(matching([{ field: 'metadata.code', operator: 'ne', value: 5 }])).toEqual([
        'bread',
        'notes',
        'solar',
      ]);
    });

    it('compares a number with title or source as never equal', () => {
      expect(matching([{ field: 'title', operator: 'eq', value: 5 }])).toEqual([]);
      expect(matching([{ field: 'title', operator: 'gt', value: 0 }])).toEqual([]);
      expect(matching([{ field: 'title', operator: 'ne', value: 5 }])).toEqual([
        'bread',
        'notes',
        'solar',
        'wind',
      ]);
    });
  });

  describe('booleans', () => {
    it('match true and false values', () => {
      expect(matching([{ field: 'metadata.reviewed', operator: 'eq', value: true }])).toEqual([
        'bread',
        'solar',
      ]);
      expect(matching([{ field: 'metadata.reviewed', operator: 'eq', value: false }])).toEqual(['wind']);
      expect(matching([{ field: 'metadata.reviewed', operator: 'ne', value: true }])).toEqual([
        'notes',
        'wind',
      ]);
    });

    it('match a boolean element of an array', () => {
      expect(matching([{ field: 'metadata.mixed', operator: 'eq', value: false }])).toEqual(['bread']);
    });

    it('are not the numbers 1 and 0', () => {
      expect(matching([{ field: 'metadata.reviewed', operator: 'eq', value: 1 }])).toEqual([]);
      expect(matching([{ field: 'metadata.reviewed', operator: 'eq', value: 0 }])).toEqual([]);
      expect(matching([{ field: 'metadata.reviewed', operator: 'gte', value: 0 }])).toEqual([]);
    });
  });

  describe('exists', () => {
    it('matches documents that have a metadata key, or lack it', () => {
      expect(matching([{ field: 'metadata.tags', operator: 'exists', value: true }])).toEqual([
        'bread',
        'solar',
        'wind',
      ]);
      expect(matching([{ field: 'metadata.tags', operator: 'exists', value: false }])).toEqual(['notes']);
    });

    it('treats a key whose value is false as present', () => {
      expect(matching([{ field: 'metadata.reviewed', operator: 'exists', value: true }])).toEqual([
        'bread',
        'solar',
        'wind',
      ]);
    });

    it('matches null title and source as absent', () => {
      expect(matching([{ field: 'title', operator: 'exists', value: false }])).toEqual(['bread']);
      expect(matching([{ field: 'source', operator: 'exists', value: true }])).toEqual([
        'bread',
        'notes',
        'solar',
      ]);
    });
  });

  describe('several conditions', () => {
    it('match only documents that satisfy all of them', () => {
      expect(
        matching([
          { field: 'metadata.topic', operator: 'eq', value: 'energy' },
          { field: 'metadata.year', operator: 'gte', value: 2020 },
          { field: 'metadata.tags', operator: 'eq', value: 'grid' },
        ]),
      ).toEqual(['solar']);
      expect(
        matching([
          { field: 'source', operator: 'eq', value: 'book' },
          { field: 'metadata.topic', operator: 'ne', value: 'cooking' },
        ]),
      ).toEqual(['notes']);
    });

    it('match nothing when two of them contradict each other', () => {
      expect(
        matching([
          { field: 'metadata.topic', operator: 'eq', value: 'energy' },
          { field: 'metadata.topic', operator: 'eq', value: 'cooking' },
        ]),
      ).toEqual([]);
    });

    it('keep their parameters in order, whatever the mix of columns and metadata', () => {
      expect(
        matching([
          { field: 'title', operator: 'ne', value: 'Solar power' },
          { field: 'metadata.reviewed', operator: 'exists', value: true },
          { field: 'metadata.tags', operator: 'in', value: ['wind', 'solar'] },
          { field: 'source', operator: 'exists', value: false },
        ]),
      ).toEqual(['wind']);
    });
  });
});
