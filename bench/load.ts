/**
 * Load: ragql serving in a process of its own (`ragql serve`), driven from this one.
 *
 * 1. Search: autocannon, 100 connections for 30 s, over a SciFact corpus. The same run measures a
 *    plain graphql-yoga process serving a trivial query, the ceiling on this machine.
 * 2. Streams: 200 concurrent answerStream subscriptions over graphql-ws for 60 s against the
 *    OpenAI stand-in; every stream is checked for lost or reordered tokens.
 *
 * Errors and lost or reordered tokens must be 0. It prints, it does not assert.
 *
 *   npm run bench:load -- [--dataset ../shared/datasets/scifact] [--documents 2000]
 *     [--search-seconds 30] [--connections 100] [--stream-seconds 60] [--streams 200]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { AnswerStreamDocument, type AnswerStreamSubscription } from '../test/generated/graphql.ts';
import { writeConfigFile } from '../test/support/config-file.ts';
import { startOpenAIStandin } from '../test/support/openai-standin.ts';
import { temporaryDataDir } from '../test/support/ragql-instance.ts';
import { spawnRagql } from '../test/support/ragql-process.ts';
import { type SubscriptionClient, subscriptionClient } from '../test/support/subscription-clients.ts';
import { type BeirDocument, type BeirQuery, corpusPath, readJsonLines } from './support/beir.ts';
import { summarizeLatencies } from './support/latency.ts';

const streamTokens = Array.from({ length: 40 }, (_, index) => ` w${index}`);
const subscriptionsPerSocket = 10;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dataset: { type: 'string', default: '../shared/datasets/scifact' },
      documents: { type: 'string', default: '2000' },
      'search-seconds': { type: 'string', default: '30' },
      connections: { type: 'string', default: '100' },
      'stream-seconds': { type: 'string', default: '60' },
      streams: { type: 'string', default: '200' },
    },
  });
  const standin = await startOpenAIStandin();
  standin.setDefaultChatScript({ tokens: streamTokens, tokenDelayMs: 10 });
  const dataDir = temporaryDataDir();
  const ragql = await spawnRagql({
    RAGQL_DATA_DIR: dataDir.path,
    RAGQL_GENERATOR: 'openai',
    RAGQL_CHAT_MODEL: 'gpt-4o-mini',
    OPENAI_BASE_URL: standin.baseURL,
    RAGQL_ANSWER_CACHE: 'off',
    // The anonymous caller's tier, without limits: the load is the point.
    RAGQL_CONFIG_FILE: writeConfigFile(dataDir.path, {
      tiers: { enterprise: { requestsPerMinute: 1e9, tokensPerDay: 1e12, concurrentStreams: 1e6 } },
    }),
    LOG_LEVEL: 'warn',
  });
  const yoga = await startPlainYoga();
  try {
    const queries = await ingestCorpus(ragql.url, values.dataset, Number(values.documents));
    console.log(
      `bench:load: ${values.documents} SciFact documents, ${queries.length} distinct search queries, node ${process.version}`,
    );
    const seconds = Number(values['search-seconds']);
    const connections = Number(values.connections);
    const ceiling = await cannonade(yoga.url, [{ query: '{ hello }' }], connections, seconds, yoga.child);
    const search = await cannonade(
      ragql.url,
      queries.map((query) => ({
        query: '{ search(query: $q, limit: 10) { hits { score chunk { id document { id title } } } } }',
        q: query,
      })),
      connections,
      seconds,
      ragql.child,
    );
    printCannonade('plain graphql-yoga, { hello }', ceiling);
    printCannonade('ragql search (limit 10, with documents)', search);

    const streams = await streamLoad(
      ragql.url,
      queries,
      Number(values.streams),
      Number(values['stream-seconds']),
      ragql.child,
    );
    const ttft = summarizeLatencies(streams.firstTokenMs);
    const total = summarizeLatencies(streams.totalMs);
    console.log(
      `\n${values.streams} concurrent answer streams for ${values['stream-seconds']} s (${streamTokens.length} tokens 10 ms apart each, graphql-ws, ${subscriptionsPerSocket} per socket):`,
    );
    console.log(
      `  streams ${streams.completed} completed (${(streams.completed / Number(values['stream-seconds'])).toFixed(1)}/s, ${((streams.completed * streamTokens.length) / Number(values['stream-seconds'])).toFixed(0)} tokens/s), errors ${streams.errors}, lost or reordered tokens ${streams.broken}`,
    );
    console.log(
      `  first token p50 ${ttft.p50.toFixed(1)} ms p99 ${ttft.p99.toFixed(1)} ms; whole stream p50 ${total.p50.toFixed(0)} ms p99 ${total.p99.toFixed(0)} ms; ragql peak RSS ${streams.peakRssMb.toFixed(0)} MB`,
    );
  } finally {
    ragql.child.kill('SIGTERM');
    yoga.child.kill('SIGTERM');
    await standin.close();
    dataDir.remove();
  }
}

/** A plain graphql-yoga with one trivial field, in a process of its own like ragql's. */
async function startPlainYoga(): Promise<{ child: ChildProcess; url: string }> {
  const script = `
    import { createServer } from 'node:http';
    import { createSchema, createYoga } from 'graphql-yoga';
    const yoga = createYoga({ schema: createSchema({ typeDefs: 'type Query { hello: String }', resolvers: { Query: { hello: () => 'world' } } }), logging: false });
    const server = createServer(yoga);
    server.listen(0, '127.0.0.1', () => console.log('http://127.0.0.1:' + server.address().port + '/graphql'));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: process.cwd() });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.once('data', (chunk: Buffer) => resolve(String(chunk).trim()));
    child.once('exit', () => reject(new Error('plain yoga exited')));
  });
  return { child, url };
}

async function ingestCorpus(url: string, dataset: string, count: number): Promise<string[]> {
  let batch: BeirDocument[] = [];
  let ingested = 0;
  const flush = async () => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: 'mutation($d: [DocumentInput!]!) { ingestDocuments(documents: $d) { created } }',
        variables: {
          d: batch.map((document) => ({ id: document._id, title: document.title, content: document.text })),
        },
      }),
    });
    const body = (await response.json()) as { errors?: unknown };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    ingested += batch.length;
    batch = [];
  };
  for await (const document of readJsonLines<BeirDocument>(corpusPath(dataset))) {
    batch.push(document);
    if (batch.length === 500) await flush();
    if (ingested + batch.length === count) break;
  }
  if (batch.length > 0) await flush();
  const queries: string[] = [];
  for await (const query of readJsonLines<BeirQuery>(`${dataset}/queries.jsonl`)) {
    queries.push(query.text);
    if (queries.length === 50) break;
  }
  return queries;
}

interface CannonadeResult {
  result: autocannon.Result;
  peakRssMb: number;
}

/** autocannon against `url`, cycling through the requests; the server's RSS is sampled meanwhile. */
async function cannonade(
  url: string,
  bodies: { query: string; q?: string }[],
  connections: number,
  seconds: number,
  server: ChildProcess,
): Promise<CannonadeResult> {
  const sampler = rssSampler(server);
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    // A saturated server accepts the last of 100 new connections seconds late, and their first
    // requests wait that long: latency (`max` reports it), not failure.
    timeout: 30,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    requests: bodies.map((body) => ({
      method: 'POST',
      body: JSON.stringify(
        body.q === undefined
          ? { query: body.query }
          : { query: `query($q: String!) ${body.query}`, variables: { q: body.q } },
      ),
    })),
  });
  return { result, peakRssMb: sampler.stop() };
}

function printCannonade(label: string, { result, peakRssMb }: CannonadeResult): void {
  const failures = result.errors + result.non2xx;
  console.log(
    `\n${label}: ${result.connections} connections, ${result.duration} s\n  ${result.requests.average.toFixed(0)} requests/s, latency p50 ${result.latency.p50} ms p99 ${result.latency.p99} ms max ${result.latency.max} ms, errors ${failures} (of ${result.requests.total}: ${result.non2xx} non-2xx, ${result.timeouts} timeouts, ${result.errors - result.timeouts} other), peak RSS ${peakRssMb.toFixed(0)} MB`,
  );
}

/** Samples a process's resident memory every 200 ms; `stop` returns the largest, in MB. */
function rssSampler(child: ChildProcess): { stop(): number } {
  let peak = 0;
  const sample = () => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      peak = Math.max(peak, kb / 1024);
    } catch {
      // The process is gone, or /proc is not there (not Linux): no sample.
    }
  };
  sample();
  const timer = setInterval(sample, 200);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}

type StreamEvent = AnswerStreamSubscription['answerStream'];

/** `count` subscriptions at all times for `seconds`, each checked whole and in order. */
async function streamLoad(
  url: string,
  questions: string[],
  count: number,
  seconds: number,
  server: ChildProcess,
) {
  const sampler = rssSampler(server);
  const sockets: SubscriptionClient[] = Array.from(
    { length: Math.ceil(count / subscriptionsPerSocket) },
    () => subscriptionClient('websocket', url),
  );
  const figures = {
    completed: 0,
    errors: 0,
    broken: 0,
    firstTokenMs: [] as number[],
    totalMs: [] as number[],
  };
  const expected = streamTokens.join('');
  const end = performance.now() + seconds * 1000;
  const worker = async (socket: SubscriptionClient, index: number) => {
    while (performance.now() < end) {
      const started = performance.now();
      let firstToken: number | null = null;
      const events: StreamEvent[] = [];
      try {
        for await (const result of socket.subscribe(AnswerStreamDocument, {
          question: questions[index % questions.length] as string,
        })) {
          if (result.errors?.length || !result.data) throw new Error(JSON.stringify(result.errors));
          const event = result.data.answerStream;
          if (event.__typename === 'AnswerToken') firstToken ??= performance.now() - started;
          events.push(event);
        }
      } catch {
        figures.errors++;
        continue;
      }
      const tokens = events.flatMap((event) => (event.__typename === 'AnswerToken' ? [event] : []));
      const last = events.at(-1);
      const inOrder = tokens.every((token, position) => token.index === position);
      const whole = tokens.map((token) => token.text).join('') === expected;
      if (last?.__typename !== 'AnswerCompleted') figures.errors++;
      else if (!inOrder || !whole || last.text !== expected) figures.broken++;
      else {
        figures.completed++;
        figures.firstTokenMs.push(firstToken ?? Number.NaN);
        figures.totalMs.push(performance.now() - started);
      }
    }
  };
  await Promise.all(
    Array.from({ length: count }, (_, index) =>
      worker(sockets[Math.floor(index / subscriptionsPerSocket)] as SubscriptionClient, index),
    ),
  );
  await Promise.all(sockets.map((socket) => socket.dispose()));
  return { ...figures, peakRssMb: sampler.stop() };
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
