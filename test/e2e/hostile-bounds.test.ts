/**
 * Hostile input that costs the server time rather than memory: date ranges (usage) and text whose
 * words are long runs the tokenizer would merge for ever (ingestion, answers). Property-based
 * (fast-check) against ragql in a process of its own, so that a request that freezes the server
 * fails its deadline instead of freezing the test. Every request answers in time with a result
 * or a typed error.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dayMs } from '../../src/access/usage-ledger.ts';
import { maxQueryLength } from '../../src/rag/search.ts';
import { alphabets, characterRun, fuzzSeed } from '../support/arbitraries.ts';
import { temporaryDataDir } from '../support/ragql-instance.ts';
import { type RagqlProcess, spawnRagql } from '../support/ragql-process.ts';

/** Far longer than any of these requests needs, far shorter than the freezes they used to cause. */
const requestDeadlineMs = 15_000;
/**
 * Text of long runs takes milliseconds; when the tokenizer merged a run whole, 4,000 letters took
 * 5 s and 8,000 letters 19 s.
 */
const longRunDeadlineMs = 3000;

interface Response {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: unknown } }[];
}

async function send(
  url: string,
  query: string,
  variables: unknown,
  deadlineMs = requestDeadlineMs,
): Promise<Response> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(deadlineMs),
  });
  expect(response.status).toBeLessThan(500);
  return (await response.json()) as Response;
}

const usage = 'query Usage($from: String, $to: String) { usage(from: $from, to: $to) { date answers } }';

const twoDigits = (max: number) => fc.integer({ min: 0, max }).map((value) => String(value).padStart(2, '0'));
/** YYYY-MM-DD-shaped strings around every edge: years 0000 to 99999 and beyond 9999, impossible days. */
const dateLike = fc.oneof(
  {
    arbitrary: fc
      .tuple(fc.integer({ min: 0, max: 10_050 }), twoDigits(13), twoDigits(32))
      .map(([year, month, day]) => `${String(year).padStart(4, '0')}-${month}-${day}`),
    weight: 4,
  },
  {
    arbitrary: fc
      .date({
        min: new Date('1969-01-01T00:00:00Z'),
        max: new Date('9999-12-31T00:00:00Z'),
        noInvalidDate: true,
      })
      .map((date) => date.toISOString().slice(0, 10)),
    weight: 4,
  },
  {
    arbitrary: fc.constantFrom('9999-12-31', '+010000-01-01', '1970-01-01', '1969-12-31', '2024-02-29'),
    weight: 2,
  },
  { arbitrary: fc.string({ maxLength: 12 }), weight: 1 },
);

/** Ranges of any two such strings, and ranges near the 366-day bound (most of them valid). */
const rangeLike = fc.oneof(
  fc.tuple(dateLike, dateLike),
  fc
    .tuple(
      fc.date({
        min: new Date('1969-06-01T00:00:00Z'),
        max: new Date('9999-12-31T00:00:00Z'),
        noInvalidDate: true,
      }),
      fc.integer({ min: -3, max: 400 }),
    )
    .map(([from, days]) =>
      [from, new Date(from.getTime() + days * dayMs)].map((date) => date.toISOString().slice(0, 10)),
    ),
);

const answer = 'query Answer($question: String!) { answer(question: $question) { text } }';
const ingest = `mutation Ingest($documents: [DocumentInput!]!) {
  ingestDocuments(documents: $documents) { documents { id status chunkCount } }
}`;

/**
 * Text of runs of letters (a DNA sequence, base64, a minified file) between ordinary words, the
 * runs up to `maxRun` characters: one word to the tokenizer each, however long.
 */
const longRuns = (maxRun: number) => {
  const run = characterRun(1000, maxRun, alphabets, 'max');
  const word = fc.constantFrom('The moon pulls the tides.', 'tides', '\n\n');
  return fc
    .tuple(
      run,
      fc.array(fc.oneof({ arbitrary: run, weight: 2 }, { arbitrary: word, weight: 1 }), { maxLength: 3 }),
      fc.nat(),
    )
    .map(([first, others, at]) => {
      others.splice(at % (others.length + 1), 0, first);
      return others.join(' ');
    });
};

/** A calendar date from 1970 to 9999 as YYYY-MM-DD, as midnight UTC; undefined otherwise. */
function calendarDate(value: string): number | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return undefined;
  const [year, month, day] = match.slice(1).map(Number) as [number, number, number];
  const midnight = Date.UTC(year, month - 1, day);
  const date = new Date(midnight);
  const real =
    date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
  return real && year >= 1970 && year <= 9999 ? midnight : undefined;
}

describe('hostile bounds', () => {
  const dataDir = temporaryDataDir();
  let server: RagqlProcess;

  beforeAll(async () => {
    server = await spawnRagql({ RAGQL_DATA_DIR: dataDir.path });
  });
  afterAll(async () => {
    server?.child.kill('SIGKILL');
    await server?.exited;
    dataDir.remove();
  });

  it('reads usage for any date range of up to 366 calendar days from 1970 to 9999, and refuses every other with BAD_USER_INPUT', async () => {
    let read = 0;
    await fc.assert(
      fc.asyncProperty(rangeLike, async ([from, to]) => {
        const response = await send(server.url, usage, { from, to });
        const [first, last] = [calendarDate(from), calendarDate(to)];
        const valid =
          first !== undefined && last !== undefined && last >= first && (last - first) / dayMs < 366;
        if (valid) {
          expect(response.errors, JSON.stringify({ from, to })).toBeUndefined();
          expect(response.data?.usage).toEqual([]);
          read++;
        } else {
          expect(response.errors?.[0]?.extensions?.code, JSON.stringify({ from, to })).toBe('BAD_USER_INPUT');
          expect(response.errors?.[0]?.message).toMatch(/^(from|to) must be|^from must not be after to/);
        }
      }),
      {
        numRuns: 300,
        seed: fuzzSeed,
        examples: [[['9999-12-31', '9999-12-31']], [['9999-01-01', '9999-12-31']]],
      },
    );
    // Both outcomes were exercised.
    expect(read).toBeGreaterThan(0);
  });

  // A frozen server makes every shrinking step another timeout: the first failure is reported as it is.
  it(`answers any question of up to ${maxQueryLength} characters of long runs within ${longRunDeadlineMs} ms`, async () => {
    await fc.assert(
      fc.asyncProperty(longRuns(maxQueryLength), async (text) => {
        // Cut where it fits, a pair of surrogates cut in two made whole again.
        const question = text.slice(0, maxQueryLength).toWellFormed();
        const response = await send(server.url, answer, { question }, longRunDeadlineMs);
        expect(response.errors, JSON.stringify(response.errors)).toBeUndefined();
        expect(response.data?.answer).toMatchObject({ text: expect.any(String) });
      }),
      { numRuns: 40, seed: fuzzSeed, endOnFailure: true },
    );
  });

  it(`ingests any document holding runs of up to 50,000 letters within ${longRunDeadlineMs} ms`, async () => {
    let next = 0;
    await fc.assert(
      fc.asyncProperty(longRuns(50_000), async (content) => {
        const id = `long-runs-${next++}`;
        const response = await send(server.url, ingest, { documents: [{ id, content }] }, longRunDeadlineMs);
        expect(response.errors, JSON.stringify(response.errors)).toBeUndefined();
        expect(response.data?.ingestDocuments).toMatchObject({ documents: [{ id, status: 'CREATED' }] });
      }),
      { numRuns: 25, seed: fuzzSeed, endOnFailure: true },
    );
  });
});
