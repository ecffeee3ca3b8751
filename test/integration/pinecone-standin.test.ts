/**
 * The Pinecone stand-in, driven only through the official `@pinecone-database/pinecone` SDK, so
 * that what it serves is what the SDK sends and parses, and its refusals surface as the SDK's own
 * error classes.
 */
import {
  Errors,
  type Index,
  Pinecone,
  type PineconeRecord,
  type RecordMetadata,
} from '@pinecone-database/pinecone';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type PineconeMetric,
  type PineconeStandin,
  type PineconeStandinOptions,
  startPineconeStandin,
} from '../support/pinecone-standin.ts';
import { rejectionOf } from '../support/rejection.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let standin: PineconeStandin | undefined;
afterEach(async () => {
  await standin?.close();
  standin = undefined;
});

/** A stand-in of 4 dimensions and the SDK's handle on it, retries off unless asked for. */
async function connect(options: PineconeStandinOptions = {}, maxRetries = 0): Promise<Index> {
  standin = await startPineconeStandin({ dimension: 4, ...options });
  return new Pinecone({ apiKey: standin.apiKey, maxRetries }).index({ host: standin.host });
}

function record(id: string, values: number[], metadata?: RecordMetadata): PineconeRecord {
  return { id, values, ...(metadata ? { metadata } : {}) };
}

describe('authentication', () => {
  it('refuses a wrong Api-Key with 401, which the SDK raises as PineconeAuthorizationError', async () => {
    await connect();
    const intruder = new Pinecone({ apiKey: 'wrong-key', maxRetries: 0 }).index({ host: standin?.host });
    const error = await rejectionOf(intruder.describeIndexStats());
    expect(error).toBeInstanceOf(Errors.PineconeAuthorizationError);
    expect(standin?.requests[0]?.headers['api-key']).toBe('wrong-key');
  });

  it('records the API version the SDK speaks', async () => {
    const index = await connect();
    await index.describeIndexStats();
    expect(standin?.requests[0]?.apiVersion).toBe('2026-07');
  });
});

describe('describe_index_stats', () => {
  it('counts the records of each namespace, the default one (`__default__`) named by the empty string', async () => {
    const index = await connect();
    await index.upsert({ records: [record('a', [1, 0, 0, 0]), record('b', [0, 1, 0, 0])] });
    await index.namespace('tenant-a').upsert({ records: [record('c', [0, 0, 1, 0])] });
    expect(await index.describeIndexStats()).toEqual({
      namespaces: { '': { recordCount: 2 }, 'tenant-a': { recordCount: 1 } },
      dimension: 4,
      indexFullness: 0,
      totalRecordCount: 3,
    });
  });

  it('refuses a metadata filter, as serverless indexes do', async () => {
    const index = await connect();
    const error = await rejectionOf(index.describeIndexStats({ filter: { genre: 'drama' } }));
    expect(error).toBeInstanceOf(Errors.PineconeBadRequestError);
    expect((error as Error).message).toMatch(/filter/);
  });
});

describe('upsert', () => {
  it('overwrites a record upserted again under the same id', async () => {
    const index = await connect();
    await index.upsert({ records: [record('a', [1, 0, 0, 0], { version: 1 })] });
    await index.upsert({ records: [record('a', [0, 1, 0, 0])] });
    const { records } = await index.fetch({ ids: ['a'] });
    expect(records.a).toEqual({ id: 'a', values: [0, 1, 0, 0] });
  });

  it.each([
    ['a vector whose length is not the dimension', [record('a', [1, 0, 0])], /dimension 3 does not match/],
    ['a vector of zeros', [record('a', [0, 0, 0, 0])], /only zeros/],
    ['an id of 513 characters', [record('x'.repeat(513), [1, 0, 0, 0])], /1 to 512 ASCII/],
    ['an id that is not ASCII', [record('café', [1, 0, 0, 0])], /ASCII/],
    ['1001 vectors', Array.from({ length: 1001 }, (_, n) => record(`r${n}`, [1, 0, 0, 0])), /limit of 1000/],
    ['metadata over 40 KB', [record('a', [1, 0, 0, 0], { text: 'x'.repeat(41 * 1024) })], /limit of 40960/],
    [
      'a request over 2 MB',
      Array.from({ length: 60 }, (_, n) => record(`r${n}`, [1, 0, 0, 0], { text: 'x'.repeat(39 * 1024) })),
      /limit of 2097152 bytes/,
    ],
    ['a metadata field beginning with $', [record('a', [1, 0, 0, 0], { $genre: 'drama' })], /may not begin/],
    [
      'sparse values with fewer values than indices',
      [{ id: 'a', values: [1, 0, 0, 0], sparseValues: { indices: [1, 2], values: [1] } }],
      /as many values as indices/,
    ],
  ])('refuses %s with 400', async (_, records, message) => {
    const index = await connect();
    const error = await rejectionOf(index.upsert({ records }));
    expect(error).toBeInstanceOf(Errors.PineconeBadRequestError);
    expect((error as Error).message).toMatch(message);
    expect(await index.describeIndexStats()).toMatchObject({ totalRecordCount: 0 });
  });

  it.each([
    ['null', null],
    ['a nested object', { nested: true }],
    ['a list of numbers', [1, 2]],
    ['a mixed list', ['a', 1]],
  ])('refuses a metadata value that is %s with Pinecone’s wording', async (_, value) => {
    const index = await connect();
    const metadata = { field: value } as unknown as RecordMetadata;
    const error = await rejectionOf(index.upsert({ records: [record('a', [1, 0, 0, 0], metadata)] }));
    expect(error).toBeInstanceOf(Errors.PineconeBadRequestError);
    expect((error as Error).message).toMatch(
      /Metadata value must be a string, number, boolean or list of strings/,
    );
  });

  it('accepts strings, numbers, booleans and lists of strings as metadata', async () => {
    const index = await connect();
    const metadata = { genre: 'drama', year: 2019, rating: 4.5, classic: false, tags: ['a', 'b'] };
    await index.upsert({ records: [record('a', [1, 0, 0, 0], metadata)] });
    expect((await index.fetch({ ids: ['a'] })).records.a?.metadata).toEqual(metadata);
  });
});

describe('query scoring', () => {
  async function scores(metric: PineconeMetric, vector: number[]) {
    const index = await connect({ metric });
    await index.upsert({
      records: [record('near', [1, 1, 0, 0]), record('far', [-1, 0, 2, 0]), record('mid', [2, 0, 0, 1])],
    });
    const { matches } = await index.query({ vector, topK: 3 });
    return matches.map(({ id, score }) => [id, score]);
  }

  it('scores dotproduct indexes by the dot product, highest first', async () => {
    expect(await scores('dotproduct', [1, 0.5, 0, 0])).toEqual([
      ['mid', 2],
      ['near', 1.5],
      ['far', -1],
    ]);
  });

  it('scores cosine indexes by the cosine similarity, highest first', async () => {
    const result = await scores('cosine', [1, 0.5, 0, 0]);
    const query = Math.hypot(1, 0.5);
    expect(result.map(([id]) => id)).toEqual(['near', 'mid', 'far']);
    expect(result[0]?.[1]).toBeCloseTo(1.5 / (query * Math.SQRT2), 6);
    expect(result[1]?.[1]).toBeCloseTo(2 / (query * Math.hypot(2, 1)), 6);
    expect(result[2]?.[1]).toBeCloseTo(-1 / (query * Math.hypot(1, 2)), 6);
  });

  it('scores euclidean indexes by the squared distance, lowest first', async () => {
    expect(await scores('euclidean', [1, 0.5, 0, 0])).toEqual([
      ['near', 0.25],
      ['mid', 2.25],
      ['far', 8.25],
    ]);
  });

  it('adds the sparse dot product to the dense one for sparse-dense records', async () => {
    const index = await connect();
    await index.upsert({
      records: [
        { id: 'keyword', values: [0.1, 0.1, 0, 0], sparseValues: { indices: [7, 42], values: [0.5, 2] } },
        { id: 'semantic', values: [0.9, 0.2, 0, 0], sparseValues: { indices: [3], values: [1] } },
        { id: 'dense-only', values: [0.5, 0.5, 0, 0] },
      ],
    });
    const { matches } = await index.query({
      vector: [1, 0, 0, 0],
      sparseVector: { indices: [42, 3, 100], values: [1.5, 0.2, 9] },
      topK: 3,
    });
    const expected = {
      keyword: 0.1 * 1 + 2 * 1.5,
      semantic: 0.9 * 1 + 1 * 0.2,
      'dense-only': 0.5 * 1,
    };
    expect(matches.map(({ id }) => id)).toEqual(['keyword', 'semantic', 'dense-only']);
    for (const { id, score } of matches) expect(score).toBeCloseTo(expected[id as keyof typeof expected], 6);
  });

  it('accepts sparse values on a cosine index but refuses a sparse query there', async () => {
    const index = await connect({ metric: 'cosine' });
    await index.upsert({
      records: [{ id: 'a', values: [1, 0, 0, 0], sparseValues: { indices: [1], values: [1] } }],
    });
    const error = await rejectionOf(
      index.query({ vector: [1, 0, 0, 0], sparseVector: { indices: [1], values: [1] }, topK: 1 }),
    );
    expect(error).toBeInstanceOf(Errors.PineconeBadRequestError);
    expect((error as Error).message).toMatch(/dotproduct/);
  });

  it('stores values as 32-bit floats', async () => {
    const index = await connect();
    await index.upsert({ records: [record('a', [0.1, 0.2, 0.3, 0.4])] });
    const { records } = await index.fetch({ ids: ['a'] });
    expect(records.a?.values).toEqual([0.1, 0.2, 0.3, 0.4].map(Math.fround));
  });
});

describe('query', () => {
  async function seeded() {
    const index = await connect();
    await index.upsert({
      records: [
        {
          id: 'a',
          values: [1, 0, 0, 0],
          sparseValues: { indices: [5], values: [1] },
          metadata: { genre: 'drama' },
        },
        record('b', [0.5, 0.5, 0, 0], { genre: 'comedy' }),
        record('c', [0, 1, 0, 0]),
      ],
    });
    return index;
  }

  it('refuses a result of more than 4 MB, and serves the same query without metadata', async () => {
    const index = await connect();
    const notes = Array.from({ length: 9 }, (_, position) => `${position}`.padEnd(4000, 'x'));
    const records = Array.from({ length: 120 }, (_, position) =>
      record(`r${position}`, [1, 0, 0, 0], { notes }),
    );
    for (let start = 0; start < records.length; start += 40)
      await index.upsert({ records: records.slice(start, start + 40) });
    const error = await rejectionOf(index.query({ vector: [1, 0, 0, 0], topK: 120, includeMetadata: true }));
    expect(error).toBeInstanceOf(Errors.PineconeBadRequestError);
    expect((await index.query({ vector: [1, 0, 0, 0], topK: 120 })).matches).toHaveLength(120);
  });

  it('returns at most topK matches, with empty values and no metadata unless asked', async () => {
    const index = await seeded();
    const { matches, namespace } = await index.query({ vector: [1, 0, 0, 0], topK: 2 });
    // The SDK names the default namespace `__default__`, and a response names the request's.
    expect(namespace).toBe('__default__');
    expect(matches).toEqual([
      { id: 'a', score: 1, values: [] },
      { id: 'b', score: 0.5, values: [] },
    ]);
  });

  it('includes values, sparse values and metadata when asked', async () => {
    const index = await seeded();
    const { matches } = await index.query({
      vector: [1, 0, 0, 0],
      topK: 1,
      includeValues: true,
      includeMetadata: true,
    });
    expect(matches).toEqual([
      {
        id: 'a',
        score: 1,
        values: [1, 0, 0, 0],
        sparseValues: { indices: [5], values: [1] },
        metadata: { genre: 'drama' },
      },
    ]);
  });

  it('queries by the id of a stored record, scoring with its vectors', async () => {
    const index = await seeded();
    const { matches } = await index.query({ id: 'b', topK: 3 });
    expect(matches.map(({ id, score }) => [id, score])).toEqual([
      ['a', 0.5],
      ['b', 0.5],
      ['c', 0.5],
    ]);
  });

  it('matches nothing when queried by an id that is not stored', async () => {
    const index = await seeded();
    expect((await index.query({ id: 'missing', topK: 3 })).matches).toEqual([]);
  });

  it('searches only the namespace it names', async () => {
    const index = await seeded();
    await index.namespace('tenant-a').upsert({ records: [record('t', [1, 0, 0, 0])] });
    const { matches, namespace } = await index
      .namespace('tenant-a')
      .query({ vector: [1, 0, 0, 0], topK: 10 });
    expect(namespace).toBe('tenant-a');
    expect(matches.map(({ id }) => id)).toEqual(['t']);
  });

  it.each([
    ['a topK above 10000', { vector: [1, 0, 0, 0], topK: 10_001 }, /topK/],
    [
      'an id together with a vector',
      { id: 'a', vector: [1, 0, 0, 0], topK: 1 },
      /mutually exclusive|cannot also/,
    ],
    ['a vector whose length is not the dimension', { vector: [1, 0], topK: 1 }, /dimension 2/],
  ])('refuses %s with 400', async (_, query, message) => {
    const index = await seeded();
    const error = await rejectionOf(index.query(query));
    expect(error).toBeInstanceOf(Errors.PineconeBadRequestError);
    expect((error as Error).message).toMatch(message);
  });
});

describe('metadata filters', () => {
  async function matching(filter: object): Promise<string[]> {
    const index = await connect();
    await index.upsert({
      records: [
        record('drama-2019', [1, 0, 0, 0], { genre: ['drama', 'documentary'], year: 2019, title: 'b' }),
        record('comedy-2021', [1, 0, 0, 0], { genre: ['comedy'], year: 2021, title: 'c', featured: true }),
        record('plain-2020', [1, 0, 0, 0], { genre: 'action', year: 2020, title: 'a' }),
        record('bare', [1, 0, 0, 0]),
      ],
    });
    const { matches } = await index.query({ vector: [1, 0, 0, 0], topK: 10, filter });
    return matches.map(({ id }) => id).sort();
  }

  it.each([
    ['a list that holds the value, for shorthand $eq', { genre: 'documentary' }, ['drama-2019']],
    ['a list that holds the value, for $eq', { genre: { $eq: 'comedy' } }, ['comedy-2021']],
    [
      'a list that holds any of the values, for $in',
      { genre: { $in: ['documentary', 'action'] } },
      ['drama-2019', 'plain-2020'],
    ],
    [
      'lists without the value and records without the field, for $ne',
      { genre: { $ne: 'drama' } },
      ['bare', 'comedy-2021', 'plain-2020'],
    ],
    [
      'lists holding none of the values, for $nin',
      { genre: { $nin: ['comedy', 'action'] } },
      ['bare', 'drama-2019'],
    ],
    ['numbers in a range', { year: { $gte: 2020, $lt: 2021 } }, ['plain-2020']],
    ['numbers above a bound', { year: { $gt: 2019 } }, ['comedy-2021', 'plain-2020']],
    ['records that have the field, for $exists', { featured: { $exists: true } }, ['comedy-2021']],
    ['records that lack the field, for $exists false', { year: { $exists: false } }, ['bare']],
    [
      'every clause of $and',
      { $and: [{ year: { $lte: 2020 } }, { genre: { $in: ['drama'] } }] },
      ['drama-2019'],
    ],
    ['any clause of $or', { $or: [{ year: 2021 }, { title: 'a' }] }, ['comedy-2021', 'plain-2020']],
    ['every field of one object', { year: 2019, title: 'b' }, ['drama-2019']],
    ['booleans', { featured: { $eq: true } }, ['comedy-2021']],
  ])('matches %s', async (_, filter, expected) => {
    expect(await matching(filter)).toEqual(expected);
  });

  it('never matches a string field with a numeric range', async () => {
    expect(await matching({ title: { $gt: 0 } })).toEqual([]);
  });

  it.each([
    ['an unknown operator', { genre: { $regex: 'dra.*' } }],
    ['a range over a string', { title: { $gt: 'a' } }],
    ['$in without an array', { genre: { $in: 'drama' } }],
    ['$exists without a boolean', { genre: { $exists: 1 } }],
    ['$and without an array', { $and: { genre: 'drama' } }],
    ['a bad operator in a clause that is never reached', { $or: [{ year: 2019 }, { year: { $near: 1 } }] }],
  ])('refuses %s with 400', async (_, filter) => {
    const error = await rejectionOf(matching(filter));
    expect(error).toBeInstanceOf(Errors.PineconeBadRequestError);
  });
});

describe('delete', () => {
  it('refuses a delete in a namespace never written, or deleted, with 404, which the SDK raises as PineconeNotFoundError', async () => {
    const index = await connect();
    const never = index.namespace('never-written');
    expect(await rejectionOf(never.deleteMany({ ids: ['a'] }))).toBeInstanceOf(Errors.PineconeNotFoundError);
    expect(await rejectionOf(never.deleteAll())).toBeInstanceOf(Errors.PineconeNotFoundError);

    const written = index.namespace('written');
    await written.upsert({ records: [record('a', [1, 0, 0, 0])] });
    // An id it does not hold is no error, in a namespace that exists.
    await written.deleteMany({ ids: ['a', 'b'] });
    await written.deleteAll();
    expect(await rejectionOf(written.deleteAll())).toBeInstanceOf(Errors.PineconeNotFoundError);
  });
});

describe('fetch', () => {
  it('returns the stored records by id and leaves out ids that are not stored', async () => {
    const index = await connect();
    await index.upsert({
      records: [record('a', [1, 0, 0, 0], { genre: 'drama' }), record('b', [0, 1, 0, 0])],
    });
    const response = await index.fetch({ ids: ['a', 'missing', 'b'] });
    expect(response.namespace).toBe('__default__');
    expect(response.records).toEqual({
      a: { id: 'a', values: [1, 0, 0, 0], metadata: { genre: 'drama' } },
      b: { id: 'b', values: [0, 1, 0, 0] },
    });
  });

  it('reads only the namespace it names', async () => {
    const index = await connect();
    await index.upsert({ records: [record('a', [1, 0, 0, 0])] });
    expect((await index.namespace('tenant-a').fetch({ ids: ['a'] })).records).toEqual({});
  });

  it('refuses more than 1000 ids with 400', async () => {
    const index = await connect();
    const ids = Array.from({ length: 1001 }, (_, n) => `r${n}`);
    expect(await rejectionOf(index.fetch({ ids }))).toBeInstanceOf(Errors.PineconeBadRequestError);
  });
});

describe('list', () => {
  async function withIds(ids: string[]) {
    const index = await connect();
    await index.upsert({ records: ids.map((id) => record(id, [1, 0, 0, 0])) });
    return index;
  }

  it('pages through the ids with a prefix in byte order, the last page without pagination', async () => {
    const index = await withIds(['doc2#b', 'doc1#c', 'doc1#a', 'doc1#B', 'other', 'doc1#b']);
    const pages: string[][] = [];
    let paginationToken: string | undefined;
    do {
      const page = await index.listPaginated({ prefix: 'doc1#', limit: 2, paginationToken });
      pages.push((page.vectors ?? []).map(({ id }) => id ?? ''));
      paginationToken = page.pagination?.next;
    } while (paginationToken);
    expect(pages).toEqual([
      ['doc1#B', 'doc1#a'],
      ['doc1#b', 'doc1#c'],
    ]);
  });

  it('returns 100 ids a page by default', async () => {
    const index = await withIds(Array.from({ length: 150 }, (_, n) => `r${String(n).padStart(3, '0')}`));
    const first = await index.listPaginated();
    expect(first.vectors).toHaveLength(100);
    const second = await index.listPaginated({ paginationToken: first.pagination?.next });
    expect(second.vectors?.map(({ id }) => id)).toEqual(
      Array.from({ length: 50 }, (_, n) => `r${String(n + 100).padStart(3, '0')}`),
    );
    expect(second.pagination).toBeUndefined();
  });

  it.each([
    ['a limit above 100', { limit: 101 }],
    ['a token it did not issue', { paginationToken: 'not a token' }],
  ])('refuses %s with 400', async (_, options) => {
    const index = await withIds(['a']);
    expect(await rejectionOf(index.listPaginated(options))).toBeInstanceOf(Errors.PineconeBadRequestError);
  });
});

describe('delete', () => {
  async function seeded() {
    const index = await connect();
    await index.upsert({
      records: [
        record('a', [1, 0, 0, 0], { genre: 'drama' }),
        record('b', [0, 1, 0, 0], { genre: 'comedy' }),
      ],
    });
    await index.namespace('tenant-a').upsert({ records: [record('t', [1, 0, 0, 0])] });
    return index;
  }

  it('deletes by id, and an id that is not stored is no error', async () => {
    const index = await seeded();
    await index.deleteMany({ ids: ['a', 'missing'] });
    await index.deleteOne({ id: 'never-stored' });
    expect(Object.keys((await index.fetch({ ids: ['a', 'b'] })).records)).toEqual(['b']);
  });

  it('deletes the records that match a filter', async () => {
    const index = await seeded();
    await index.deleteMany({ filter: { genre: { $eq: 'comedy' } } });
    expect(Object.keys((await index.fetch({ ids: ['a', 'b'] })).records)).toEqual(['a']);
  });

  it('deletes a whole namespace, which then leaves the stats', async () => {
    const index = await seeded();
    await index.namespace('tenant-a').deleteAll();
    const stats = await index.describeIndexStats();
    expect(stats.namespaces).toEqual({ '': { recordCount: 2 } });
    expect(stats.totalRecordCount).toBe(2);
  });
});

describe('update', () => {
  it('merges metadata into a record by id and replaces its values', async () => {
    const index = await connect();
    await index.upsert({ records: [record('a', [1, 0, 0, 0], { genre: 'drama', year: 2019 })] });
    await index.update({ id: 'a', values: [0, 0, 1, 0], metadata: { year: 2020, reviewed: true } });
    expect((await index.fetch({ ids: ['a'] })).records.a).toEqual({
      id: 'a',
      values: [0, 0, 1, 0],
      metadata: { genre: 'drama', year: 2020, reviewed: true },
    });
  });

  it('refuses new values whose length is not the dimension', async () => {
    const index = await connect();
    await index.upsert({ records: [record('a', [1, 0, 0, 0])] });
    const error = await rejectionOf(index.update({ id: 'a', values: [1, 0] }));
    expect(error).toBeInstanceOf(Errors.PineconeBadRequestError);
    expect((await index.fetch({ ids: ['a'] })).records.a?.values).toEqual([1, 0, 0, 0]);
  });

  it('sets metadata on every record a filter matches', async () => {
    const index = await connect();
    await index.upsert({
      records: [
        record('a', [1, 0, 0, 0], { genre: 'drama' }),
        record('b', [0, 1, 0, 0], { genre: 'comedy' }),
      ],
    });
    await index.update({ filter: { genre: 'drama' }, metadata: { archived: true } });
    const { records } = await index.fetch({ ids: ['a', 'b'] });
    expect([records.a?.metadata, records.b?.metadata]).toEqual([
      { genre: 'drama', archived: true },
      { genre: 'comedy' },
    ]);
  });
});

describe('injected failures', () => {
  it('answers 429 with a plain-text body, which the SDK raises unretried as PineconeUnmappedHttpError', async () => {
    const index = await connect({}, 3);
    standin?.failNext(429);
    const error = await rejectionOf(index.query({ vector: [1, 0, 0, 0], topK: 1 }));
    expect(error).toBeInstanceOf(Errors.PineconeUnmappedHttpError);
    expect((error as Error).message).toMatch(/injected rate limit was reached.*Status: 429/);
    expect(standin?.requests).toHaveLength(1);
  });

  it('answers 503, which the SDK retries', async () => {
    const index = await connect({}, 1);
    standin?.failNext(503);
    await index.upsert({ records: [record('a', [1, 0, 0, 0])] });
    expect(standin?.requests.map(({ path }) => path)).toEqual(['/vectors/upsert', '/vectors/upsert']);
    expect(await index.describeIndexStats()).toMatchObject({ totalRecordCount: 1 });
  });

  it('answers 500 with an rpcStatus, which the SDK gives up on once out of retries', async () => {
    const index = await connect();
    standin?.failNext(500);
    expect(await rejectionOf(index.describeIndexStats())).toBeInstanceOf(
      Errors.PineconeMaxRetriesExceededError,
    );
  });

  it('serves the request after an injected failure as usual', async () => {
    const index = await connect();
    standin?.failNext(400, { code: 3, message: 'injected refusal', details: [] });
    const error = await rejectionOf(index.describeIndexStats());
    expect((error as Error).message).toBe('injected refusal');
    expect(await index.describeIndexStats()).toMatchObject({ totalRecordCount: 0 });
  });
});

describe('eventual consistency', () => {
  const freshnessDelayMs = 400;

  it('shows a write to reads only after the freshness delay', async () => {
    const index = await connect({ freshnessDelayMs });
    await index.upsert({ records: [record('a', [1, 0, 0, 0])] });
    expect((await index.fetch({ ids: ['a'] })).records).toEqual({});
    expect((await index.query({ vector: [1, 0, 0, 0], topK: 1 })).matches).toEqual([]);
    expect((await index.listPaginated()).vectors).toEqual([]);
    expect(await index.describeIndexStats()).toMatchObject({ totalRecordCount: 0 });
    await sleep(freshnessDelayMs + 50);
    expect(Object.keys((await index.fetch({ ids: ['a'] })).records)).toEqual(['a']);
    expect(await index.describeIndexStats()).toMatchObject({ totalRecordCount: 1 });
  });

  it('applies delayed writes in the order they were received', async () => {
    const index = await connect({ freshnessDelayMs });
    await index.upsert({ records: [record('a', [1, 0, 0, 0], { step: 1 })] });
    await index.update({ id: 'a', metadata: { step: 2 } });
    await index.deleteOne({ id: 'a' });
    await index.upsert({ records: [record('a', [0, 1, 0, 0], { step: 4 })] });
    await sleep(freshnessDelayMs + 50);
    expect((await index.fetch({ ids: ['a'] })).records.a?.metadata).toEqual({ step: 4 });
  });
});
