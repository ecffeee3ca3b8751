/**
 * Moving to a new embedding model without downtime, on every store that keeps generations (the
 * embedded store, PostgreSQL + pgvector, Weaviate), with the OpenAI stand-in's embeddings (the real
 * openai SDK): a running server switches while searches run, none of them failing, and the
 * searches after it embed with the new model and score the new model's vectors; documents written
 * and deleted during the build are in the new space as they are in the old; `ragql reembed`
 * killed mid-way resumes where it stopped. Operators only.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/access/api-keys.ts';
import { loadConfig } from '../../src/composition/config.ts';
import { storeGenerationsFor } from '../../src/composition/configured-store.ts';
import { createServices } from '../../src/composition/services.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { cosineSimilarity } from '../../src/ranking/vector-math.ts';
import { deterministicEmbedding } from '../support/deterministic-embedding.ts';
import type { PineconeStandin } from '../support/pinecone-standin.ts';
import { usePostgres } from '../support/postgres.ts';
import { withAuthentication } from '../support/ragql-environment.ts';
import { temporaryDataDir } from '../support/ragql-instance.ts';
import { ragqlCli } from '../support/ragql-process.ts';
import { useRagql } from '../support/use-ragql.ts';
import { useOpenAIStandin, usePineconeStandin } from '../support/use-standin.ts';
import { describeWithWeaviate, uniqueCollectionName, type WeaviateEndpoint } from '../support/weaviate.ts';

const run = promisify(execFile);
const newModel = 'standin-embedding-2';

/** The server's embedder: the stand-in's first model, 32 dimensions; the new one has 16 where the store can hold them. */
function embeddingsFrom(
  baseURL: string,
  model = 'standin-embedding',
  dimensions = 32,
): Record<string, string> {
  return {
    RAGQL_EMBEDDER: 'openai',
    RAGQL_EMBEDDING_MODEL: model,
    RAGQL_EMBEDDING_DIMENSIONS: String(dimensions),
    OPENAI_API_KEY: 'sk-test',
    OPENAI_BASE_URL: baseURL,
    RAGQL_EMBEDDING_BATCH_SIZE: '16',
  };
}

const search = `query ($query: String!) {
  search(query: $query, alpha: 1, limit: 3) { hits { scores { vector } chunk { id content } } }
}`;
const reembed = `mutation ($model: String!, $dimensions: Int) {
  reembed(model: $model, dimensions: $dimensions) { reembedding { state model } activeGeneration }
}`;
const operations = `{ storeOperations {
  reembedding { state model copied message } activeGeneration retiredGenerations
} }`;
const ingest =
  'mutation ($documents: [DocumentInput!]!) { ingestDocuments(documents: $documents) { created } }';

const facts = Array.from({ length: 30 }, (_, index) => ({
  id: `fact-${String(index).padStart(2, '0')}`,
  content: `Harbour fact number ${index}: boat ${index} moors at quay ${index % 7}.`,
}));

/** Where each store's documents are, as environment variables; called once its service runs. */
type StoreEnvironment = () => Record<string, string>;

/**
 * Cases on every store that keeps generations, each in its describe block with its environment
 * and the new model's width: 16 where the store can hold it, the old 32 on Pinecone, whose index
 * keeps its width.
 */
function onEveryStore(
  title: string,
  cases: (storeEnvironment: StoreEnvironment, newDimensions: number) => void,
) {
  describe(`${title}, on the embedded store`, () => cases(() => ({}), 16));
  describe(`${title}, on PostgreSQL + pgvector`, () => {
    const postgres = usePostgres();
    cases(() => ({ RAGQL_STORE: 'postgres', DATABASE_URL: postgres.url }), 16);
  });
  describeWithWeaviate(`${title}, on Weaviate`, (endpoint) => {
    const prefix = uniqueCollectionName('Reembed');
    cases(() => weaviateEnvironment(endpoint, prefix), 16);
  });
  describe(`${title}, on Pinecone`, () => {
    const pinecone = usePineconeStandin({ dimension: 32 });
    cases(() => pineconeEnvironment(pinecone), 32);
  });
}

onEveryStore('re-embedding a running server', runningServerCases);

describe('a server on the embedded store another process re-embedded', () => {
  const shared = temporaryDataDir();
  afterAll(() => shared.remove());
  laggingServerCases(() => ({ RAGQL_DATA_DIR: shared.path }));
});

describe('a replica on PostgreSQL + pgvector another replica re-embedded', () => {
  const postgres = usePostgres();
  laggingServerCases(() => ({ RAGQL_STORE: 'postgres', DATABASE_URL: postgres.url }));
});

/**
 * Servers on one store: one re-embeds it. Another must not write into the retired space, and
 * follows the switch by itself: when it finds itself retired (a write, /readyz), or, serving
 * reads only, within its check interval.
 */
function laggingServerCases(storeEnvironment: StoreEnvironment): void {
  const standin = useOpenAIStandin();
  /** Each other server's own stand-in, to tell which model its searches embed with. */
  const laggingStandin = useOpenAIStandin();
  const readingStandin = useOpenAIStandin();
  const switching = useRagql(() => ({ ...storeEnvironment(), ...embeddingsFrom(standin.baseURL) }));
  // It never checks by itself in this test: only what it notices prompts it to follow.
  const lagging = useRagql(() => ({
    ...storeEnvironment(),
    ...embeddingsFrom(laggingStandin.baseURL),
    RAGQL_SWITCH_CHECK_MS: '600000',
  }));
  const reading = useRagql(() => ({
    ...storeEnvironment(),
    ...embeddingsFrom(readingStandin.baseURL),
    RAGQL_SWITCH_CHECK_MS: '100',
  }));
  const on = (server: typeof switching) => (query: string, variables?: Record<string, unknown>) =>
    graphqlAt(server.server.graphqlUrl, query, variables);
  /** The model of the last embedding request a stand-in received. */
  const lastModelAsked = (of: typeof standin) =>
    (of.requests.filter((request) => request.path === '/v1/embeddings').at(-1)?.body as { model?: string })
      ?.model;

  it('refuses a write the retired space would lose, then follows: its writes land in the new space, its searches embed with the new model; a server that only reads follows too', async () => {
    expect((await on(lagging)(ingest, { documents: facts.slice(0, 5) })).errors).toBeUndefined();
    expect((await on(lagging)(search, { query: 'boat moors' })).errors).toBeUndefined();
    expect((await on(reading)(search, { query: 'boat moors' })).errors).toBeUndefined();
    expect(lastModelAsked(readingStandin)).toBe('standin-embedding');
    expect((await on(switching)(reembed, { model: newModel, dimensions: 16 })).errors).toBeUndefined();
    await expect
      .poll(async () => (await on(switching)(operations)).data?.storeOperations, { timeout: 30_000 })
      .toMatchObject({ reembedding: { state: 'DONE' }, activeGeneration: 1 });

    const refused = await on(lagging)(ingest, { documents: [{ id: 'stray', content: 'A stray boat.' }] });
    expect(refused.errors?.[0]?.extensions.code).toBe('EMBEDDING_SPACE_MISMATCH');
    expect(refused.errors?.[0]?.message).toMatch(
      /^Another ragql process re-embedded this store: generation 1 serves, not this process's 0\..* moved to generation 1, which it does by itself within seconds/,
    );
    const served = switching.services.store.forTenant('default');
    expect(await served.getDocuments(['stray'])).toEqual([null]);

    // The refusal prompted it to follow; once it has, it is ready again.
    await expect
      .poll(async () => (await fetch(new URL('/readyz', lagging.server.graphqlUrl))).status, {
        timeout: 30_000,
      })
      .toBe(200);
    const written = await on(lagging)(ingest, { documents: [{ id: 'stray', content: 'A stray boat.' }] });
    expect(written.errors).toBeUndefined();
    expect(await served.getDocuments(['stray'])).toEqual([expect.objectContaining({ id: 'stray' })]);
    const read = await on(lagging)(search, { query: 'stray boat' });
    expect(read.errors).toBeUndefined();
    expect(lastModelAsked(laggingStandin)).toBe(newModel);
    const hits = (read.data as unknown as { search: { hits: { chunk: { id: string } }[] } }).search.hits;
    expect(hits[0]?.chunk.id).toBe('stray#0');
    expect((await fetch(new URL('/readyz', switching.server.graphqlUrl))).status).toBe(200);

    // The server that only reads follows within its check interval: searches do not read the
    // record, so only its own check moves it.
    await expect
      .poll(
        async () => {
          expect((await on(reading)(search, { query: 'boat moors' })).errors).toBeUndefined();
          return lastModelAsked(readingStandin);
        },
        { timeout: 30_000 },
      )
      .toBe(newModel);
  });
}

describe('re-embedding on Pinecone into a model of another width', () => {
  const standin = useOpenAIStandin();
  const pinecone = usePineconeStandin({ dimension: 32 });
  const ragql = useRagql(() => ({ ...pineconeEnvironment(pinecone), ...embeddingsFrom(standin.baseURL) }));

  it('is refused, naming the way, and leaves no build behind', async () => {
    const refused = await graphqlAt(
      ragql.server.graphqlUrl,
      'mutation { reembed(model: "standin-embedding-2", dimensions: 16) { activeGeneration } }',
    );
    expect(refused.errors?.[0]?.extensions?.code).toBe('EMBEDDING_SPACE_MISMATCH');
    expect(refused.errors?.[0]?.message).toMatch(
      /holds vectors of 32 dimensions.*create one of 16 dimensions with the dotproduct metric and set PINECONE_INDEX_HOST/,
    );
    const operations = await graphqlAt(ragql.server.graphqlUrl, '{ storeOperations { activeGeneration } }');
    expect(operations.data).toEqual({ storeOperations: { activeGeneration: 0 } });
    expect((await graphqlAt(ragql.server.graphqlUrl, 'mutation { abandonReembedding }')).data).toEqual({
      abandonReembedding: null,
    });
  });
});

/** A GraphQL request, with an API key or none (anonymous callers are operators without auth). */
async function graphqlAt(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  key?: string,
): Promise<{ data?: Record<string, never>; errors?: { message: string; extensions: { code: string } }[] }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return response.json() as never;
}

function pineconeEnvironment(pinecone: PineconeStandin): Record<string, string> {
  return { RAGQL_STORE: 'pinecone', PINECONE_API_KEY: pinecone.apiKey, PINECONE_INDEX_HOST: pinecone.host };
}

function weaviateEnvironment(endpoint: WeaviateEndpoint, prefix: string): Record<string, string> {
  return {
    RAGQL_STORE: 'weaviate',
    WEAVIATE_URL: endpoint.httpUrl,
    WEAVIATE_GRPC_URL: endpoint.grpcAddress,
    RAGQL_WEAVIATE_COLLECTION_PREFIX: prefix,
  };
}

/** The generations of the store an environment names, read as another process would. */
async function generationsOf(environment: Record<string, string | undefined>) {
  const generations = storeGenerationsFor(loadConfig(environment), createLogger('silent'));
  if (!generations) throw new Error('this store keeps no generations');
  return generations;
}

function runningServerCases(storeEnvironment: StoreEnvironment, newDimensions: number): void {
  const operator = createApiKey();
  const member = createApiKey();
  /** Set by the test: the first request for the new model waits for it, while it writes. */
  let holdFirstNewModelRequest: (() => Promise<void>) | undefined;
  const standin = useOpenAIStandin({
    beforeEmbeddings: async (_texts, model) => {
      const hold = holdFirstNewModelRequest;
      if (model !== newModel || !hold) return undefined;
      holdFirstNewModelRequest = undefined;
      await hold();
      return undefined;
    },
  });
  const ragql = useRagql((dataDir) => ({
    ...storeEnvironment(),
    ...withAuthentication(dataDir, {
      apiKeys: [
        { tenant: 'harbour', tier: 'enterprise', hash: operator.hash, operator: true },
        { tenant: 'harbour', tier: 'enterprise', hash: member.hash },
      ],
    }),
    ...embeddingsFrom(standin.baseURL),
  }));
  const as =
    (key: string) =>
    (query: string, variables: Record<string, unknown> = {}) =>
      graphqlAt(ragql.server.graphqlUrl, query, variables, key);

  beforeAll(async () => {
    expect((await as(member.key)(ingest, { documents: facts })).errors).toBeUndefined();
  });

  it('refuses a key that is not an operator key (FORBIDDEN)', async () => {
    const refused = await as(member.key)(reembed, { model: newModel, dimensions: newDimensions });
    expect(refused.errors?.[0]?.extensions.code).toBe('FORBIDDEN');
    expect((await as(member.key)(operations)).errors?.[0]?.extensions.code).toBe('FORBIDDEN');
  });

  it("switches while searches run, none failing, and then searches with the new model's vectors", async () => {
    // Searches in three loops for as long as the build runs, and a little after.
    let searching = true;
    const failures: unknown[] = [];
    let searches = 0;
    const loop = async () => {
      while (searching) {
        const result = await as(member.key)(search, { query: 'boat moors at quay' });
        if (result.errors) failures.push(result.errors);
        searches++;
      }
    };
    // While the build's first request waits: a document written, another deleted.
    holdFirstNewModelRequest = async () => {
      expect(
        (
          await as(member.key)(ingest, {
            documents: [{ id: 'late', content: 'A late boat moors at quay nine.' }],
          })
        ).errors,
      ).toBeUndefined();
      await as(member.key)('mutation { deleteDocument(id: "fact-00") { deleted } }');
    };
    const [untouched] = await ragql.services.store.forTenant('harbour').getDocuments(['fact-01']);
    const loops = [loop(), loop(), loop()];
    const before = standin.requests.length;
    const started = await as(operator.key)(reembed, { model: newModel, dimensions: newDimensions });
    expect(started.errors).toBeUndefined();
    // One at a time: a second start while the first builds is refused.
    const second = await as(operator.key)(reembed, { model: 'standin-embedding-3', dimensions: 8 });
    expect(second.errors?.[0]?.message).toMatch(/^A re-embedding into standin-embedding-2 runs already/);
    await expect
      .poll(async () => (await as(operator.key)(operations)).data?.storeOperations, {
        timeout: 30_000,
        interval: 100,
      })
      .toMatchObject({
        reembedding: { state: 'DONE', model: newModel },
        activeGeneration: 1,
        retiredGenerations: [0],
      });
    const searchesAtSwitch = searches;
    await expect.poll(() => searches, { timeout: 10_000 }).toBeGreaterThan(searchesAtSwitch + 3);
    searching = false;
    await Promise.all(loops);
    expect(failures).toEqual([]);
    const queryModels = standin.requests
      .slice(before)
      .filter((request) => request.path === '/v1/embeddings')
      .map((request) => (request.body as { model: string; input: unknown }).model);
    // Queries were embedded by the old model during the build, then by the new one.
    expect(queryModels).toContain('standin-embedding');
    expect(queryModels.at(-1)).toBe(newModel);

    const query = 'boat moors at quay';
    const { search: result } = (await as(member.key)(search, { query })).data as unknown as {
      search: { hits: { scores: { vector: number }; chunk: { content: string } }[] };
    };
    expect(result.hits.length).toBeGreaterThan(0);
    for (const hit of result.hits) {
      const expected = cosineSimilarity(
        deterministicEmbedding(query, newDimensions),
        deterministicEmbedding(hit.chunk.content, newDimensions),
      );
      expect(hit.scores.vector).toBeCloseTo(expected, 5);
    }
    const store = ragql.services.store.forTenant('harbour');
    expect(await store.getDocuments(['late', 'fact-00', 'fact-01'])).toEqual([
      expect.objectContaining({ id: 'late' }),
      null,
      // Moved, not changed: its times are those it had.
      expect.objectContaining({
        id: 'fact-01',
        createdAt: untouched?.createdAt,
        updatedAt: untouched?.updatedAt,
      }),
    ]);
    expect((await store.getChunkEmbeddings('late')).values().next().value).toHaveLength(newDimensions);
    const info = await as(member.key)('{ serverInfo { embedder } }');
    expect(info.data).toEqual({ serverInfo: { embedder: `openai/${newModel}` } });
  });

  it('drops the retired space on request, and has no stopped build to abandon', async () => {
    expect((await as(operator.key)('mutation { abandonReembedding }')).data).toEqual({
      abandonReembedding: null,
    });
    const generations = await generationsOf({ ...storeEnvironment(), RAGQL_DATA_DIR: ragql.dataDir });
    try {
      // The embedded store keeps the default tenant's file whatever it holds.
      expect(await generations.tenants(0)).toContain('harbour');
      expect((await as(operator.key)('mutation { dropRetiredSpaces }')).data).toEqual({
        dropRetiredSpaces: [0],
      });
      expect(await generations.tenants(0)).toEqual([]);
      expect(await generations.tenants(1)).toContain('harbour');
    } finally {
      await generations.close();
    }
    expect((await as(operator.key)(operations)).data).toMatchObject({
      storeOperations: { activeGeneration: 1, retiredGenerations: [] },
    });
  });
}

onEveryStore('ragql reembed killed mid-way', killedBuildCases);

function killedBuildCases(storeEnvironment: StoreEnvironment, newDimensions: number): void {
  const workspace = temporaryDataDir();
  /** Set by the test: the request for the new model that, when it arrives, is never answered. */
  let stallAt: { count: number; reached: () => void } | undefined;
  let newModelRequests = 0;
  const standin = useOpenAIStandin({
    beforeEmbeddings: async (_texts, model) => {
      if (model !== newModel || !stallAt) return undefined;
      newModelRequests++;
      if (newModelRequests < stallAt.count) return undefined;
      stallAt.reached();
      // The process asking is killed while it waits.
      return new Promise(() => {});
    },
  });
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
    workspace.remove();
  });
  const environment = () => ({
    ...process.env,
    ...storeEnvironment(),
    RAGQL_DATA_DIR: workspace.path,
    LOG_LEVEL: 'silent',
    ...embeddingsFrom(standin.baseURL),
  });
  // Three pages of documents (100 a page): a kill in the second leaves the first copied.
  const documents = Array.from({ length: 250 }, (_, index) => ({
    id: `note-${String(index).padStart(3, '0')}`,
    content: `Tide note ${index}: the water rose ${index} centimetres.`,
  }));

  beforeAll(async () => {
    const services = await createServices(loadConfig(environment()), createLogger('silent'));
    try {
      await services.ingest.ingest('default', documents);
    } finally {
      await services.close();
    }
  });

  it('resumes where it stopped, copying only what it had not, and the server then starts on the new model only', async () => {
    const reached = Promise.withResolvers<void>();
    // Each page of 100 chunks is 7 requests of 16: the 10th is in the second page.
    stallAt = { count: 10, reached: reached.resolve };
    const child = spawn(
      process.execPath,
      [ragqlCli, 'reembed', '--model', newModel, '--dimensions', String(newDimensions)],
      {
        env: environment(),
        stdio: 'ignore',
      },
    );
    children.push(child);
    await reached.promise;
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    stallAt = undefined;
    const generations = await generationsOf(environment());
    try {
      expect(await generations.read()).toMatchObject({
        active: 0,
        building: { generation: 1, space: { modelId: newModel, dimensions: newDimensions } },
      });
      expect(await generations.tenants(1)).toEqual(['default']);
    } finally {
      await generations.close();
    }

    const { stdout } = await run(
      process.execPath,
      [ragqlCli, 'reembed', '--model', newModel, '--dimensions', String(newDimensions)],
      {
        env: environment(),
      },
    );
    const [, copied, skipped] = /(\d+) documents embedded, (\d+) already done/.exec(stdout) ?? [];
    expect(Number(skipped)).toBe(100);
    expect(Number(copied)).toBe(150);
    expect(stdout).toContain(
      `Set RAGQL_EMBEDDING_MODEL=${newModel} and RAGQL_EMBEDDING_DIMENSIONS=${newDimensions}`,
    );

    const onNewModel = await createServices(
      loadConfig({ ...environment(), ...embeddingsFrom(standin.baseURL, newModel, newDimensions) }),
      createLogger('silent'),
    );
    try {
      const store = onNewModel.store.forTenant('default');
      expect((await store.listDocuments({ limit: 300, filter: [] })).length).toBe(250);
      expect((await store.getChunkEmbeddings('note-249')).values().next().value).toHaveLength(newDimensions);
    } finally {
      await onNewModel.close();
    }
    await expect(createServices(loadConfig(environment()), createLogger('silent'))).rejects.toMatchObject({
      code: 'EMBEDDING_SPACE_MISMATCH',
    });
  });
}
