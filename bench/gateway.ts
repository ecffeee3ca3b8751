/**
 * What the gateway saves and what it costs, measured in one run.
 *
 * 1. Caches off, then the exact caches on, then the similar-answer cache on too: a SciFact corpus
 *    is ingested twice (the second time under new ids) and a workload of questions, 30% of them
 *    exact repeats and 20% rewordings of earlier ones, is answered. The OpenAI stand-in counts the
 *    embedding and chat calls that reach the provider; cost is the answers' reported usage at
 *    gpt-4o-mini's list price plus the embedded tokens at text-embedding-3-small's. A rewording
 *    here is the question's words in another order, which the stand-in's bag-of-words embedding
 *    scores 1.0: the semantic layer's figure is what it saves when it recognises every rewording,
 *    an upper bound for a real embedding model.
 * 2. Overhead: the same trivial query through ragql's full server (API key, rate limits, query
 *    cost, metrics) and through a bare Yoga over the same schema and services, interleaved.
 *
 * It prints, it does not assert.
 *
 *   npm run bench:gateway -- [--dataset ../shared/datasets/scifact] [--documents 300]
 *     [--questions 200] [--requests 3000] [--redis redis://127.0.0.1:6379]
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createYoga } from 'graphql-yoga';
import { createApiKey } from '../src/access/api-keys.ts';
import { loadConfig } from '../src/composition/config.ts';
import type { RagqlServices } from '../src/composition/services.ts';
import { createServices } from '../src/composition/services.ts';
import { createLogger } from '../src/observability/logger.ts';
import { defaultTenant } from '../src/ports.ts';
import { schema } from '../src/schema/index.ts';
import { startServer } from '../src/server.ts';
import { countTokens } from '../src/text/token-count.ts';
import { writeConfigFile } from '../test/support/config-file.ts';
import { type OpenAIStandin, startOpenAIStandin } from '../test/support/openai-standin.ts';
import { temporaryDataDir } from '../test/support/ragql-instance.ts';
import { type BeirDocument, type BeirQuery, corpusPath, readJsonLines } from './support/beir.ts';
import { summarizeLatencies } from './support/latency.ts';
import { closeConnections, postJson } from './support/post-json.ts';

/** text-embedding-3-small's list price, US dollars per million tokens. */
const embeddingUsdPerMillion = 0.02;
const repeatedShare = 0.3;
const rewordedShare = 0.2;
const documentsPerCall = 100;
const logger = createLogger('silent');

interface WorkloadFigures {
  embeddingCalls: number;
  embeddedTexts: number;
  embeddingCostUsd: number;
  chatCalls: number;
  answerCostUsd: number;
  seconds: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dataset: { type: 'string', default: '../shared/datasets/scifact' },
      documents: { type: 'string', default: '300' },
      questions: { type: 'string', default: '200' },
      requests: { type: 'string', default: '3000' },
      redis: { type: 'string' },
    },
  });
  const documents = await readCorpus(values.dataset, Number(values.documents));
  const questions = await workload(values.dataset, Number(values.questions));
  const standin = await startOpenAIStandin();
  try {
    console.log(
      `bench:gateway: ${documents.length} SciFact documents ingested twice, ${questions.length} questions (${Math.round(repeatedShare * 100)}% exact repeats, ${Math.round(rewordedShare * 100)}% rewordings), caches ${values.redis ? `in process + Redis (${values.redis})` : 'in process'}, node ${process.version}`,
    );
    const off = await runWorkload(standin, documents, questions, { caches: 'off' });
    const exact = await runWorkload(standin, documents, questions, {
      caches: 'exact',
      redisUrl: values.redis,
    });
    const similar = await runWorkload(standin, documents, questions, {
      caches: 'similar',
      redisUrl: values.redis,
    });
    printWorkload(off, exact, similar);
    await measureOverhead(standin, Number(values.requests), values.redis);
  } finally {
    await standin.close();
    closeConnections();
  }
}

async function readCorpus(dataset: string, count: number): Promise<BeirDocument[]> {
  const documents: BeirDocument[] = [];
  for await (const document of readJsonLines<BeirDocument>(corpusPath(dataset))) {
    documents.push(document);
    if (documents.length === count) break;
  }
  return documents;
}

/**
 * Questions in a fixed order: unique SciFact queries, and after them, spread among them, exact
 * repeats and rewordings (the same words, the first moved to the end) of earlier ones.
 */
async function workload(dataset: string, count: number): Promise<string[]> {
  const uniqueCount = Math.round(count * (1 - repeatedShare - rewordedShare));
  const unique: string[] = [];
  for await (const query of readJsonLines<BeirQuery>(`${dataset}/queries.jsonl`)) {
    unique.push(query.text);
    if (unique.length === uniqueCount) break;
  }
  let seed = 7;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const pick = (from: readonly string[]) => from[Math.floor(random() * from.length)] as string;
  const others = [
    ...Array.from({ length: Math.round(count * repeatedShare) }, () => (asked: string[]) => pick(asked)),
    ...Array.from(
      { length: count - uniqueCount - Math.round(count * repeatedShare) },
      () => (asked: string[]) => reworded(pick(asked)),
    ),
  ].sort(() => random() - 0.5);
  const questions: string[] = [];
  const asked: string[] = [];
  for (const question of unique) {
    questions.push(question);
    asked.push(question);
    // The others after the unique questions they can draw on, at the share that spreads them evenly.
    while (others.length > 0 && random() < (count - uniqueCount) / count)
      questions.push((others.pop() as (asked: string[]) => string)(asked));
  }
  for (const other of others) questions.push(other(asked));
  return questions;
}

/** The question's words with the first moved to the end: the same bag of words. */
function reworded(question: string): string {
  const words = question.replace(/[.?!]+$/, '').split(' ');
  return `${[...words.slice(1), words[0]?.toLowerCase()].join(' ')}?`;
}

async function runWorkload(
  standin: OpenAIStandin,
  corpus: BeirDocument[],
  questions: string[],
  options: { caches: 'off' | 'exact' | 'similar'; redisUrl?: string | undefined },
): Promise<WorkloadFigures> {
  const dataDir = temporaryDataDir();
  const cache = options.caches === 'off' ? 'off' : 'on';
  const config = loadConfig({
    RAGQL_DATA_DIR: dataDir.path,
    RAGQL_EMBEDDER: 'openai',
    RAGQL_EMBEDDING_MODEL: 'text-embedding-3-small',
    RAGQL_EMBEDDING_DIMENSIONS: '64',
    RAGQL_GENERATOR: 'openai',
    RAGQL_CHAT_MODEL: 'gpt-4o-mini',
    OPENAI_BASE_URL: standin.baseURL,
    RAGQL_EMBEDDING_CACHE: cache,
    RAGQL_ANSWER_CACHE: cache,
    RAGQL_SIMILAR_ANSWER_CACHE: options.caches === 'similar' ? 'on' : 'off',
    ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
    LOG_LEVEL: 'silent',
  });
  const services = await createServices(config, logger);
  const requestsBefore = standin.requests.length;
  const started = performance.now();
  let answerCostUsd = 0;
  try {
    // A run of its own in Redis too: the second phase must not find the first one's entries.
    const runId = `${Date.now().toString(36)}-${options.caches}`;
    for (const prefix of ['a', 'b']) {
      for (let start = 0; start < corpus.length; start += documentsPerCall) {
        const batch = corpus.slice(start, start + documentsPerCall).map((document) => ({
          id: `${prefix}-${document._id}`,
          title: document.title ?? null,
          content: `${document.text}\n\n(${runId})`,
        }));
        await services.ingest.ingest(defaultTenant, batch);
      }
    }
    for (const question of questions) {
      const answer = await services.answers.answer({
        tenant: defaultTenant,
        question: `${question} (${runId})`,
      });
      answerCostUsd += answer.usage.costUsd ?? 0;
    }
  } finally {
    await services.close();
    dataDir.remove();
  }
  const requests = standin.requests.slice(requestsBefore);
  const embeddingInputs = requests
    .filter((request) => request.path === '/v1/embeddings')
    .map((request) => (request.body as { input: string[] }).input);
  const embeddedTokens = embeddingInputs.flat().reduce((sum, text) => sum + countTokens(text), 0);
  return {
    embeddingCalls: embeddingInputs.length,
    embeddedTexts: embeddingInputs.flat().length,
    embeddingCostUsd: (embeddedTokens * embeddingUsdPerMillion) / 1e6,
    chatCalls: requests.filter((request) => request.path === '/v1/chat/completions').length,
    answerCostUsd,
    seconds: (performance.now() - started) / 1000,
  };
}

function printWorkload(off: WorkloadFigures, exact: WorkloadFigures, similar: WorkloadFigures): void {
  const ratio = (a: number, b: number) => (b === 0 ? 'n/a' : `${(a / b).toFixed(3)}x`);
  const usd = (value: number) => `$${value.toFixed(6)}`;
  const rows: [string, (figures: WorkloadFigures) => number, (value: number) => string][] = [
    ['embedding calls', (figures) => figures.embeddingCalls, String],
    ['texts embedded', (figures) => figures.embeddedTexts, String],
    ['LLM calls', (figures) => figures.chatCalls, String],
    ['embedding cost', (figures) => figures.embeddingCostUsd, usd],
    ['answer cost', (figures) => figures.answerCostUsd, usd],
    ['total cost', (figures) => figures.embeddingCostUsd + figures.answerCostUsd, usd],
    ['wall time (s)', (figures) => figures.seconds, (value) => value.toFixed(1)],
  ];
  console.log('\n                     caches off    exact caches  + similar   exact/off  +similar/off');
  for (const [label, read, format] of rows) {
    console.log(
      `${label.padEnd(18)} ${format(read(off)).padStart(13)} ${format(read(exact)).padStart(13)} ${format(read(similar)).padStart(11)} ${ratio(read(exact), read(off)).padStart(11)} ${ratio(read(similar), read(off)).padStart(13)}`,
    );
  }
}

/**
 * The per-request cost of authentication, rate limits, query cost and metrics: ragql's server
 * against a bare Yoga with the same schema, services and context, interleaved in blocks.
 */
async function measureOverhead(standin: OpenAIStandin, requests: number, redisUrl: string | undefined) {
  const dataDir = temporaryDataDir();
  const key = createApiKey();
  const config = loadConfig({
    RAGQL_DATA_DIR: dataDir.path,
    OPENAI_BASE_URL: standin.baseURL,
    RAGQL_AUTH: 'on',
    RAGQL_CONFIG_FILE: writeConfigFile(dataDir.path, {
      apiKeys: [{ tenant: 'bench', tier: 'unlimited', hash: key.hash }],
      tiers: {
        unlimited: { requestsPerMinute: 1e9, tokensPerDay: 1e9, concurrentStreams: 1000 },
      },
    }),
    ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
    LOG_LEVEL: 'silent',
  });
  const services = await createServices(config, logger);
  const full = await startServer({ host: '127.0.0.1', port: 0, services, logger, http: config.http });
  const bare = await startBareServer(services);
  const query = { query: '{ serverInfo { version store } }' };
  const headers = { authorization: `Bearer ${key.key}` };
  const samples = { full: [] as number[], bare: [] as number[] };
  const time = async (url: string, withKey: boolean) => {
    const started = performance.now();
    const response = await postJson(url, query, withKey ? headers : {});
    if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${JSON.stringify(response.body)}`);
    return performance.now() - started;
  };
  try {
    for (let warmup = 0; warmup < 200; warmup++) {
      await time(full.graphqlUrl, true);
      await time(bare.url, false);
    }
    const block = 100;
    for (let done = 0; done < requests; done += block) {
      for (let index = 0; index < block; index++) samples.full.push(await time(full.graphqlUrl, true));
      for (let index = 0; index < block; index++) samples.bare.push(await time(bare.url, false));
    }
  } finally {
    await full.close();
    await new Promise((resolve) => bare.server.close(resolve));
    await services.close();
    dataDir.remove();
  }
  const fullSummary = summarizeLatencies(samples.full);
  const bareSummary = summarizeLatencies(samples.bare);
  console.log(
    `\noverhead of API key + rate limits${redisUrl ? ' (Redis)' : ''} + query cost + metrics, ${samples.full.length} requests each, interleaved:`,
  );
  console.log(`  bare Yoga      p50 ${bareSummary.p50.toFixed(3)} ms  p99 ${bareSummary.p99.toFixed(3)} ms`);
  console.log(`  ragql gateway  p50 ${fullSummary.p50.toFixed(3)} ms  p99 ${fullSummary.p99.toFixed(3)} ms`);
  console.log(
    `  added          p50 ${(fullSummary.p50 - bareSummary.p50).toFixed(3)} ms (${(fullSummary.p50 / bareSummary.p50).toFixed(2)}x)`,
  );
}

/** Yoga with ragql's schema and services and the context ragql's server gives a request, and no plugins. */
async function startBareServer(services: RagqlServices): Promise<{ server: Server; url: string }> {
  const caller = { tenant: defaultTenant, tier: 'unlimited', keyId: 'bare', keyName: null };
  const yoga = createYoga({
    schema,
    logging: false,
    context: ({ request }) => ({
      services,
      caller,
      tenant: caller.tenant,
      documents: services.store.forTenant(caller.tenant),
      requestId: 'bare',
      signal: request.signal,
    }),
  });
  const server = createServer(yoga);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql` };
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
