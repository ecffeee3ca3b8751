/**
 * Hostile input over GraphQL: property-based (fast-check) and hand-picked bombs. Whatever arrives,
 * the answer is a correct result or errors that each carry `extensions.code` (never a 5xx, never a
 * stack), the server keeps serving, and a refused ingestion stores nothing at all.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { filterConditions, fuzzSeed } from '../support/arbitraries.ts';
import { useRagql } from '../support/use-ragql.ts';

interface Response {
  status: number;
  body: {
    data?: Record<string, unknown> | null;
    errors?: { message: string; extensions?: { code?: unknown } }[];
  };
}

/** A GraphQL request as any client could send it, variables and all. */
async function send(url: string, query: string, variables?: unknown): Promise<Response> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as Response['body'] };
}

/** Either data and no errors, or errors that each say what kind they are; never a server failure. */
function expectTyped(response: Response): void {
  expect(response.status).toBeLessThan(500);
  for (const error of response.body.errors ?? []) {
    expect(typeof error.extensions?.code, JSON.stringify(error)).toBe('string');
    expect(error.message).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/);
  }
  if (!response.body.errors?.length) expect(response.body.data).toBeTruthy();
}

const ingest = `mutation Ingest($documents: [DocumentInput!]!) {
  ingestDocuments(documents: $documents) { documents { id status chunkCount } }
}`;
const fetchDocument = 'query Fetch($id: ID!) { document(id: $id) { id content: chunks { content } } }';
const search = `query Search($query: String!, $limit: Int, $alpha: Float, $filter: [FilterCondition!]) {
  search(query: $query, limit: $limit, alpha: $alpha, filter: $filter) { mode hits { score chunk { id } } }
}`;

/** Text of every kind: any code point, lone surrogates and NUL included. */
const anyText = fc.oneof(
  { arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 200 }), weight: 6 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 200 }), weight: 2 },
  { arbitrary: fc.constantFrom('\u0000', '\uD800', 'a\uDFFFb', '\u0000\u0000tides', ' ', ''), weight: 1 },
);
/** JSON values of any shape and depth, as metadata. */
const anyJson = fc.jsonValue({ maxDepth: 6 });

describe('hostile input', () => {
  let url: string;
  let nextId = 0;
  let storedBatches = 0;

  const ragql = useRagql();
  beforeAll(async () => {
    url = ragql.server.graphqlUrl;
    expectTyped(
      await send(url, ingest, { documents: [{ id: 'anchor', content: 'The moon pulls the tides.' }] }),
    );
  });

  it('searches with any query, limit, alpha and filter: a result or typed errors', async () => {
    await fc.assert(
      fc.asyncProperty(
        anyText,
        fc.option(fc.oneof(fc.integer(), fc.constantFrom(-1, 0, 2 ** 31 - 1, 10_000))),
        fc.option(fc.oneof(fc.double(), fc.constantFrom(-1, 2, 0.5))),
        fc.option(filterConditions(['title', 'source', 'metadata.year', 'metadata.tags'])),
        async (query, limit, alpha, filter) => {
          expectTyped(await send(url, search, { query, limit, alpha, filter }));
        },
      ),
      { numRuns: 150, seed: fuzzSeed },
    );
  });

  it('ingests any batch whole or not at all, and reads back exactly what it stored', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            content: anyText,
            title: fc.option(anyText),
            // Mostly the flat metadata ragql accepts, sometimes anything at all.
            metadata: fc.option(
              fc.oneof(
                {
                  arbitrary: fc.dictionary(
                    fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,20}$/),
                    fc.oneof(fc.string(), fc.double(), fc.boolean()),
                  ),
                  weight: 3,
                },
                { arbitrary: anyJson, weight: 1 },
              ),
            ),
          }),
          { minLength: 1, maxLength: 4 },
        ),
        async (drafts) => {
          const documents = drafts.map((draft) => ({ ...draft, id: `hostile-${nextId++}` }));
          const response = await send(url, ingest, { documents });
          expectTyped(response);
          if (!response.body.errors?.length) storedBatches++;
          for (const document of documents) {
            const stored = await send(url, fetchDocument, { id: document.id });
            expectTyped(stored);
            const found = stored.body.data?.document as { content: { content: string }[] } | null;
            if (response.body.errors?.length) {
              expect(found, 'a refused batch stores nothing').toBeNull();
            } else if (found && document.content.trim() !== '') {
              // What was stored is what was sent: the chunks hold the content's words.
              const stored = found.content.map((chunk) => chunk.content).join(' ');
              for (const word of document.content
                .split(/\s+/)
                .filter((part) => part !== '')
                .slice(0, 5)) {
                expect(stored).toContain(word);
              }
            }
          }
        },
      ),
      { numRuns: 150, seed: fuzzSeed },
    );
    // Both outcomes were exercised: some batches were stored, some refused.
    expect(storedBatches).toBeGreaterThan(10);
    expect(storedBatches).toBeLessThan(150);
  });

  it('refuses a 10 MB document, huge metadata and ten thousand documents in one call, storing nothing', async () => {
    const huge = await send(url, ingest, {
      documents: [
        { id: 'fine-before-huge', content: 'A small document.' },
        { id: 'huge', content: 'x'.repeat(10 * 1024 * 1024) },
      ],
    });
    expect(huge.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await send(url, fetchDocument, { id: 'fine-before-huge' })).body.data?.document).toBeNull();

    const hugeMetadata = await send(url, ingest, {
      documents: [
        {
          id: 'huge-metadata',
          content: 'Tides.',
          metadata: {
            ...Object.fromEntries(Array.from({ length: 10_000 }, (_, index) => [`key${index}`, index])),
            note: 'x'.repeat(1024 * 1024),
          },
        },
      ],
    });
    expect(hugeMetadata.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await send(url, fetchDocument, { id: 'huge-metadata' })).body.data?.document).toBeNull();

    const many = Array.from({ length: 10_000 }, (_, index) => ({ id: `many-${index}`, content: 'tides' }));
    const refused = await send(url, ingest, { documents: many });
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await send(url, fetchDocument, { id: 'many-0' })).body.data?.document).toBeNull();
  });

  it.each([
    ['a parse error', '{ search(query: "x") { hits { ', 'GRAPHQL_PARSE_FAILED'],
    ['an unknown field', '{ nonsense }', 'GRAPHQL_VALIDATION_FAILED'],
    [
      'a depth bomb',
      `{ search(query: "x") { hits { chunk { document { chunks { document { chunks { document { chunks { document { id } } } } } } } } } } }`,
      'GRAPHQL_VALIDATION_FAILED',
    ],
    [
      'an alias bomb',
      `{ ${Array.from({ length: 50 }, (_, index) => `a${index}: serverInfo { version }`).join(' ')} }`,
      'GRAPHQL_VALIDATION_FAILED',
    ],
    // graphql-armor counts tokens while parsing.
    ['a token bomb', `{ serverInfo { ${'version '.repeat(3000)} } }`, 'GRAPHQL_PARSE_FAILED'],
  ])('refuses %s with a code', async (_label, query, code) => {
    const response = await send(url, query);
    expectTyped(response);
    expect(response.body.errors?.[0]?.extensions?.code).toBe(code);
  });

  it('refuses a batch of operations in one request with a code', async () => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(Array.from({ length: 100 }, () => ({ query: '{ serverInfo { version } }' }))),
    });
    expect(response.status).toBeLessThan(500);
    const body = (await response.json()) as Response['body'];
    expect(body.errors?.[0]?.extensions?.code).toEqual(expect.any(String));
  });

  it('still answers normally after all of it', async () => {
    const response = await send(url, search, { query: 'moon tides' });
    expectTyped(response);
    expect(JSON.stringify(response.body.data)).toContain('"hits":[{');
  });
});
