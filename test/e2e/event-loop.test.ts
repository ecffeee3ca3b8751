/**
 * One request must never freeze the process. ragql runs in a process of its own while the test
 * sends it one hostile request at a time, each at a documented limit, and polls /healthz every
 * ~20 ms from before the request is sent until after its response has arrived: the slowest
 * /healthz answer, and the longest wait between two answers, stay under 250 ms, and the hostile
 * request itself completes.
 */
import { get } from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxQueryLength } from '../../src/rag/search.ts';
import {
  AnswerDocument,
  DocumentDocument,
  IngestDocumentsDocument,
  UsageDocument,
} from '../generated/graphql.ts';
import { dataOf, graphqlClient } from '../support/graphql-client.ts';
import { startPineconeStandin } from '../support/pinecone-standin.ts';
import { startTestPostgres } from '../support/postgres.ts';
import { temporaryDataDir } from '../support/ragql-instance.ts';
import { type RagqlProcess, spawnRagql } from '../support/ragql-process.ts';

const maxStallMs = 250;
// PGlite writes a 5 MB document in tens of seconds (PostgreSQL in WebAssembly, one session).
const slowWriteTimeoutMs = 120_000;
const pollIntervalMs = 20;
const maxDocumentBytes = 5 * 1024 * 1024;
const maxDocumentsPerRequest = 1000;
const maxQuestionLength = maxQueryLength;

/** mulberry32: the same "random" text on every run. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), state | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Prose of about `bytes` ASCII bytes whose words are made of random syllables, so that most of
 * them are new to the tokenizer (the costly case: a real corpus repeats its vocabulary).
 */
function prose(bytes: number, seed: number): string {
  const random = seededRandom(seed);
  const syllables = ['ka', 'lo', 'mer', 'tis', 'an', 'qu', 'ex', 'dro', 'ph', 'ul', 'sy', 'ne', 'vor', 'i'];
  const word = () =>
    Array.from({ length: 1 + Math.floor(random() * 4) }, () => syllables[Math.floor(random() * 14)]).join('');
  const parts: string[] = [];
  let length = 0;
  while (length < bytes - 200) {
    const sentence = `${Array.from({ length: 6 + Math.floor(random() * 14) }, word).join(' ')}.`;
    const part = random() < 0.15 ? `${sentence}\n\n` : `${sentence} `;
    parts.push(part);
    length += part.length;
  }
  return parts.join('').trimEnd();
}

/** `length` letters without a space, as a DNA sequence or a base64 blob looks to the tokenizer. */
function oneWord(length: number, seed: number): string {
  const random = seededRandom(seed);
  const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
  return Array.from({ length }, () => letters[Math.floor(random() * letters.length)]).join('');
}

/**
 * GET /healthz on a connection of its own: a kept-alive connection can be closed by the server's
 * idle timer just as a stalled event loop resumes, which would fail the poll rather than time it.
 */
function healthz(baseUrl: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const request = get(`${baseUrl}/healthz`, { agent: false }, (response) => {
      response.resume();
      response.once('end', () => resolve(response.statusCode));
    });
    request.once('error', reject);
  });
}

interface Watch {
  /** The slowest /healthz answer. */
  maxLatencyMs: number;
  /** The longest time between two /healthz answers (a stalled server delays the next one). */
  maxGapMs: number;
  polls: number;
}

/**
 * Runs `request` while /healthz is polled: the first poll has answered before the request is sent,
 * and the last one is sent after its response has arrived, so the polls span the whole request.
 */
async function whilePolling<T>(
  baseUrl: string,
  request: () => Promise<T>,
): Promise<{ result: T; watch: Watch }> {
  const watch: Watch = { maxLatencyMs: 0, maxGapMs: 0, polls: 0 };
  let lastAnswer = 0;
  const poll = async () => {
    const started = performance.now();
    expect(await healthz(baseUrl)).toBe(200);
    const answered = performance.now();
    watch.maxLatencyMs = Math.max(watch.maxLatencyMs, answered - started);
    if (watch.polls > 0) watch.maxGapMs = Math.max(watch.maxGapMs, answered - lastAnswer);
    lastAnswer = answered;
    watch.polls++;
  };
  await poll();
  let done = false;
  const polling = (async () => {
    while (!done) {
      await sleep(pollIntervalMs);
      await poll();
    }
  })();
  try {
    const result = await request();
    return { result, watch };
  } finally {
    done = true;
    await polling;
    await poll();
  }
}

/**
 * Each store's ragql, started with what it needs: nothing for the embedded store, a database for
 * PostgreSQL, an index for Pinecone (the stand-in, of any width: ragql runs keyword-only here).
 */
const stores: {
  name: string;
  start(): Promise<{ environment: Record<string, string>; stop(): Promise<void> }>;
}[] = [
  { name: 'embedded', start: async () => ({ environment: {}, stop: async () => {} }) },
  {
    name: 'postgres',
    start: async () => {
      const postgres = await startTestPostgres();
      return {
        environment: { RAGQL_STORE: 'postgres', DATABASE_URL: postgres.url },
        stop: () => postgres.stop(),
      };
    },
  },
  {
    name: 'pinecone',
    start: async () => {
      const pinecone = await startPineconeStandin({ dimension: 8 });
      return {
        environment: {
          RAGQL_STORE: 'pinecone',
          PINECONE_API_KEY: pinecone.apiKey,
          PINECONE_INDEX_HOST: pinecone.host,
        },
        stop: () => pinecone.close(),
      };
    },
  },
];

describe.each(stores)('the event loop under one hostile request ($name store)', (store) => {
  const dataDir = temporaryDataDir();
  let server: RagqlProcess;
  let baseUrl: string;
  let execute: ReturnType<typeof graphqlClient>;
  let stopStore: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    const started = await store.start();
    stopStore = started.stop;
    server = await spawnRagql({ RAGQL_DATA_DIR: dataDir.path, ...started.environment });
    baseUrl = new URL(server.url).origin;
    execute = graphqlClient(server.url);
    dataOf(
      await execute(IngestDocumentsDocument, {
        documents: [{ id: 'anchor', content: 'The moon pulls the tides twice a day.' }],
      }),
    );
  });
  afterAll(async () => {
    server?.child.kill('SIGKILL');
    await server?.exited;
    await stopStore?.();
    dataDir.remove();
  });

  function expectResponsive(watch: Watch) {
    expect(watch.polls).toBeGreaterThanOrEqual(2);
    expect(watch.maxLatencyMs, JSON.stringify(watch)).toBeLessThan(maxStallMs);
    expect(watch.maxGapMs, JSON.stringify(watch)).toBeLessThan(maxStallMs);
  }

  it(`answers a question of ${maxQuestionLength} letters without a space`, async () => {
    const question = oneWord(maxQuestionLength, 1);
    const { result, watch } = await whilePolling(baseUrl, () => execute(AnswerDocument, { question }));
    expect(dataOf(result).answer.text).toEqual(expect.any(String));
    expectResponsive(watch);
  });

  it('ingests a document holding a word of 40,000 letters', async () => {
    const content = `A sequence follows. ${oneWord(40_000, 2)} That was the sequence.`;
    const { result, watch } = await whilePolling(baseUrl, () =>
      execute(IngestDocumentsDocument, { documents: [{ id: 'long-word', content }] }),
    );
    expect(dataOf(result).ingestDocuments.created).toBe(1);
    expectResponsive(watch);
  });

  // Its chunking runs on the chunking thread and its one SQLite transaction (7,000 chunks) on the
  // write thread: the slowest /healthz answer takes under 50 ms (3.6 s with both on the event
  // loop, 0.26 s with the write alone).
  it(
    'ingests a document of RAGQL_MAX_DOCUMENT_BYTES',
    async () => {
      const content = prose(maxDocumentBytes, 3);
      expect(Buffer.byteLength(content)).toBeLessThanOrEqual(maxDocumentBytes);
      const { result, watch } = await whilePolling(baseUrl, () =>
        execute(IngestDocumentsDocument, { documents: [{ id: 'largest', content }] }),
      );
      expect(dataOf(result).ingestDocuments.created).toBe(1);
      const stored = dataOf(await execute(DocumentDocument, { id: 'largest' })).document;
      expect(stored?.chunks.at(-1)?.endOffset).toBe(content.length);
      expectResponsive(watch);
    },
    slowWriteTimeoutMs,
  );

  // As above: under 20 ms (2.2 s with both on the event loop, 0.29 s with the write alone).
  it(
    'ingests a batch of RAGQL_MAX_DOCUMENTS_PER_REQUEST documents',
    async () => {
      const documents = Array.from({ length: maxDocumentsPerRequest }, (_, index) => ({
        id: `batch-${index}`,
        content: prose(5000, 100 + index),
      }));
      const { result, watch } = await whilePolling(baseUrl, () =>
        execute(IngestDocumentsDocument, { documents }),
      );
      expect(dataOf(result).ingestDocuments.created).toBe(maxDocumentsPerRequest);
      expectResponsive(watch);
    },
    slowWriteTimeoutMs,
  );

  it('reads the usage of the last day of year 9999', async () => {
    const { result, watch } = await whilePolling(baseUrl, () =>
      execute(UsageDocument, { from: '9999-12-31', to: '9999-12-31' }),
    );
    expect(dataOf(result).usage).toEqual([]);
    expectResponsive(watch);
  });
});
