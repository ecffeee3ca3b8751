/**
 * Streaming overhead: the OpenAI stand-in streams a fixed number of tokens at a fixed interval,
 * and the same stream is timed directly through the openai SDK (the baseline) and through ragql's
 * answerStream over graphql-ws and over SSE, interleaved run by run so both see the same machine.
 * Then many streams run at once, each checked for lost or reordered tokens, and the server's heap
 * is compared before and after. It prints, it does not assert.
 *
 *   npm run bench:stream -- [--tokens 200] [--interval-ms 2] [--runs 30] [--concurrency 200]
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import OpenAI from 'openai';
import { loadConfig } from '../src/composition/config.ts';
import { createServices } from '../src/composition/services.ts';
import { createLogger } from '../src/observability/logger.ts';
import { defaultTenant } from '../src/ports.ts';
import { type RunningServer, startServer } from '../src/server.ts';
import { AnswerStreamDocument, type AnswerStreamSubscription } from '../test/generated/graphql.ts';
import { type OpenAIStandin, startOpenAIStandin } from '../test/support/openai-standin.ts';
import { temporaryDataDir } from '../test/support/ragql-instance.ts';
import { type SubscriptionClient, subscriptionClient } from '../test/support/subscription-clients.ts';
import { summarizeLatencies } from './support/latency.ts';

const targets = { firstTokenOverheadMs: 5, perTokenOverheadMs: 0.2 };
const question = 'What does the tidal plant produce?';
const warmupRuns = 5;

interface StreamTiming {
  firstTokenMs: number;
  totalMs: number;
  /** The server's own retrieval time (zero for the direct baseline). */
  retrievalMs: number;
  tokens: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      tokens: { type: 'string', default: '200' },
      'interval-ms': { type: 'string', default: '2' },
      runs: { type: 'string', default: '30' },
      concurrency: { type: 'string', default: '200' },
    },
  });
  const tokenCount = Number(values.tokens);
  const intervalMs = Number(values['interval-ms']);
  const runs = Number(values.runs);
  const concurrency = Number(values.concurrency);
  const tokens = Array.from({ length: tokenCount }, (_, index) => ` t${index}`);

  const standin = await startOpenAIStandin();
  standin.setDefaultChatScript({ tokens, tokenDelayMs: intervalMs });
  const dataDir = temporaryDataDir();
  let server: RunningServer | undefined;
  const clients: SubscriptionClient[] = [];
  try {
    const config = loadConfig({
      RAGQL_DATA_DIR: dataDir.path,
      PORT: '0',
      RAGQL_GENERATOR: 'openai',
      RAGQL_CHAT_MODEL: 'gpt-4o-mini',
      OPENAI_BASE_URL: standin.baseURL,
      LOG_LEVEL: 'silent',
      // Every measured answer must stream from the model, not from the answer cache.
      RAGQL_ANSWER_CACHE: 'off',
    });
    const services = await createServices(config, createLogger('silent'));
    await services.ingest.ingest(defaultTenant, [
      {
        id: 'tidal',
        title: 'Tidal',
        content: 'The tidal plant produces power twice a day. It sits in an estuary.',
      },
    ]);
    server = await startServer({
      host: config.host,
      port: 0,
      services,
      logger: createLogger('silent'),
      http: config.http,
    });
    const graphqlUrl = server.graphqlUrl;
    console.log(
      `bench:stream: ${tokenCount} tokens at ${intervalMs} ms intervals, ${runs} runs per path (after ${warmupRuns} warm-up), node ${process.version}`,
    );

    // Each path keeps its connection between runs, as the SDK keeps its HTTP connection alive.
    const openai = new OpenAI({ apiKey: 'bench', baseURL: standin.baseURL, maxRetries: 0 });
    const webSocket = subscriptionClient('websocket', graphqlUrl);
    const sse = subscriptionClient('sse-distinct', graphqlUrl);
    clients.push(webSocket, sse);
    const paths: Record<string, () => Promise<StreamTiming>> = {
      'openai SDK, direct': () => directStream(openai),
      'ragql over graphql-ws': () => ragqlStream(webSocket),
      'ragql over SSE': () => ragqlStream(sse),
    };
    const timings = new Map<string, StreamTiming[]>(Object.keys(paths).map((name) => [name, []]));
    for (let run = 0; run < warmupRuns + runs; run += 1) {
      for (const [name, measure] of Object.entries(paths)) {
        const timing = await measure();
        if (timing.tokens !== tokenCount)
          throw new Error(`${name} received ${timing.tokens} of ${tokenCount} tokens`);
        if (run >= warmupRuns) timings.get(name)?.push(timing);
      }
    }
    report(timings, tokenCount);

    await concurrentStreams(graphqlUrl, openai, standin, tokens, concurrency);
  } finally {
    await Promise.all(clients.map((client) => client.dispose()));
    await server?.close();
    await standin.close();
    dataDir.remove();
  }
}

/** The baseline: the SDK reading the stand-in's stream with nothing in between. */
async function directStream(openai: OpenAI): Promise<StreamTiming> {
  const started = performance.now();
  let firstTokenAt = Number.NaN;
  let tokens = 0;
  const stream = await openai.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: question }],
    stream: true,
    stream_options: { include_usage: true },
  });
  for await (const chunk of stream) {
    if (chunk.choices[0]?.delta.content) {
      if (tokens === 0) firstTokenAt = performance.now();
      tokens += 1;
    }
  }
  return {
    firstTokenMs: firstTokenAt - started,
    totalMs: performance.now() - started,
    retrievalMs: 0,
    tokens,
  };
}

/** One answerStream, timed at the client from the subscribe call. */
async function ragqlStream(client: SubscriptionClient): Promise<StreamTiming> {
  const events = await readAnswerStream(client.subscribe(AnswerStreamDocument, { question, limit: 1 }));
  return events.timing;
}

interface ReadStream {
  timing: StreamTiming;
  text: string;
  /** Whether token indexes arrived as 0, 1, 2, … */
  inOrder: boolean;
}

async function readAnswerStream(
  results: AsyncIterable<{ data?: AnswerStreamSubscription | null; errors?: readonly unknown[] }>,
): Promise<ReadStream> {
  const started = performance.now();
  let firstTokenAt = Number.NaN;
  let retrievalMs = Number.NaN;
  let tokens = 0;
  let text = '';
  let inOrder = true;
  for await (const result of results) {
    const event = result.data?.answerStream;
    if (!event) throw new Error(`stream error: ${JSON.stringify(result.errors)}`);
    if (event.__typename === 'AnswerToken') {
      if (tokens === 0) firstTokenAt = performance.now();
      inOrder &&= event.index === tokens;
      tokens += 1;
      text += event.text;
    } else if (event.__typename === 'AnswerCompleted') {
      retrievalMs = event.latency.retrievalMs;
    } else if (event.__typename === 'AnswerFailed') {
      throw new Error(`the answer failed: ${event.message}`);
    }
  }
  return {
    timing: {
      firstTokenMs: firstTokenAt - started,
      totalMs: performance.now() - started,
      retrievalMs,
      tokens,
    },
    text,
    inOrder,
  };
}

function report(timings: Map<string, StreamTiming[]>, tokenCount: number): void {
  const direct = timings.get('openai SDK, direct') ?? [];
  const directFirst = summarizeLatencies(direct.map((timing) => timing.firstTokenMs)).p50;
  const directTotal = summarizeLatencies(direct.map((timing) => timing.totalMs)).p50;
  console.log('\n  path                     first token p50   total p50   retrieval p50');
  for (const [name, samples] of timings) {
    const first = summarizeLatencies(samples.map((timing) => timing.firstTokenMs)).p50;
    const total = summarizeLatencies(samples.map((timing) => timing.totalMs)).p50;
    const retrieval = summarizeLatencies(samples.map((timing) => timing.retrievalMs)).p50;
    console.log(
      `  ${name.padEnd(24)} ${first.toFixed(2).padStart(11)} ms ${total.toFixed(2).padStart(8)} ms ${retrieval.toFixed(2).padStart(10)} ms`,
    );
  }
  console.log('\n  overhead: ragql p50 with its retrieval time taken out, minus the direct p50:');
  for (const [name, samples] of timings) {
    if (samples === direct) continue;
    const firstOverhead =
      summarizeLatencies(samples.map((timing) => timing.firstTokenMs - timing.retrievalMs)).p50 - directFirst;
    const totalOverhead =
      summarizeLatencies(samples.map((timing) => timing.totalMs - timing.retrievalMs)).p50 - directTotal;
    const perToken = (totalOverhead - firstOverhead) / Math.max(1, tokenCount - 1);
    const ratio = summarizeLatencies(samples.map((timing) => timing.totalMs)).p50 / directTotal;
    console.log(
      `  ${name.padEnd(24)} first token +${firstOverhead.toFixed(2)} ms (target <= ${targets.firstTokenOverheadMs}: ${verdict(firstOverhead <= targets.firstTokenOverheadMs)}), ` +
        `per token +${perToken.toFixed(3)} ms (target <= ${targets.perTokenOverheadMs}: ${verdict(perToken <= targets.perTokenOverheadMs)}), ` +
        `total ${ratio.toFixed(2)}x direct`,
    );
  }
}

/** Many streams at once over a few sockets and SSE connections: every token, in order; the heap afterwards. */
async function concurrentStreams(
  graphqlUrl: string,
  openai: OpenAI,
  standin: OpenAIStandin,
  tokens: readonly string[],
  concurrency: number,
): Promise<void> {
  // The baseline: as many streams read directly through the SDK at once. Everything (stand-in,
  // server, clients) shares this process, so this is the cost of the stand-in and the SDK alone.
  const directStarted = performance.now();
  await Promise.all(Array.from({ length: concurrency }, () => directStream(openai)));
  const directElapsed = performance.now() - directStarted;
  const heapBefore = settledHeapBytes();
  const expectedText = tokens.join('');
  const sockets = Array.from({ length: 10 }, () => subscriptionClient('websocket', graphqlUrl));
  const started = performance.now();
  const streams = await Promise.all(
    Array.from({ length: concurrency }, async (_, index) => {
      // Half share ten WebSockets; half are SSE streams, one connection each.
      if (index % 2 === 0) {
        const socket = sockets[(index / 2) % sockets.length];
        if (!socket) throw new Error('no socket');
        return readAnswerStream(socket.subscribe(AnswerStreamDocument, { question, limit: 1 }));
      }
      const client = subscriptionClient('sse-distinct', graphqlUrl);
      try {
        return await readAnswerStream(client.subscribe(AnswerStreamDocument, { question, limit: 1 }));
      } finally {
        await client.dispose();
      }
    }),
  );
  const elapsed = performance.now() - started;
  await Promise.all(sockets.map((socket) => socket.dispose()));
  const complete = streams.filter((stream) => stream.inOrder && stream.text === expectedText).length;
  const streamsAtStandin = standin.chatStreams.length;
  const heapAfter = settledHeapBytes();
  console.log(
    `\n  ${concurrency} concurrent streams (half graphql-ws over 10 sockets, half SSE): ${complete}/${concurrency} complete and in order ` +
      `(${verdict(complete === concurrency)}), ${streamsAtStandin} model requests in all`,
  );
  console.log(
    `  wall time ${elapsed.toFixed(0)} ms, against ${directElapsed.toFixed(0)} ms for as many direct SDK streams (${(elapsed / directElapsed).toFixed(2)}x); ` +
      `one process runs the stand-in, ragql and the clients, so this is CPU per token more than latency`,
  );
  if (heapBefore !== null && heapAfter !== null) {
    const growth = heapAfter - heapBefore;
    console.log(
      `  heap after a full GC: before ${mb(heapBefore)} MB, after ${mb(heapAfter)} MB (${growth >= 0 ? '+' : ''}${mb(growth)} MB, ` +
        `${((heapAfter / heapBefore) * 100).toFixed(0)}% of baseline)`,
    );
  } else {
    console.log('  heap: run with --expose-gc (npm run bench:stream does) to compare it before and after');
  }
}

/** heapUsed after full collections, or null when GC cannot be forced. */
function settledHeapBytes(): number | null {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return null;
  for (let pass = 0; pass < 3; pass += 1) gc();
  return process.memoryUsage().heapUsed;
}

function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}

function verdict(pass: boolean): string {
  return pass ? 'PASS' : 'MISS';
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
