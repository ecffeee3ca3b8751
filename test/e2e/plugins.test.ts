/**
 * Retriever and reranker plugins through GraphQL, on a real server: the built-ins against the
 * OpenAI and Cohere stand-ins (deterministic embeddings, scripted chat, word-overlap rerank), the
 * plugins query, option checks, the plugins folder and failure isolation.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  IngestDocumentsDocument,
  PluginAnswerDocument,
  PluginAnswerStreamDocument,
  PluginSearchDocument,
  PluginsDocument,
} from '../generated/graphql.ts';
import { dataOf } from '../support/graphql-client.ts';
import { withStandinChat } from '../support/ragql-environment.ts';
import { temporaryDataDir } from '../support/ragql-instance.ts';
import { collect, subscriptionClient, transports } from '../support/subscription-clients.ts';
import { tinyCrossEncoder } from '../support/tiny-cross-encoder.ts';
import { useRagql } from '../support/use-ragql.ts';
import { useCohereStandin, useOpenAIStandin } from '../support/use-standin.ts';

type Hits = { chunk: { document: { id: string } } }[];
const documentIds = (hits: Hits) => hits.map((hit) => hit.chunk.document.id);

describe('plugins on a keyword-only server with the extractive generator', () => {
  // Chunks of about one sentence, so a parent window spans several.
  const ragql = useRagql(() => ({ RAGQL_CHUNK_SIZE: '10', RAGQL_CHUNK_OVERLAP: '2' }));
  const longText = [
    'Alpha opens the story of the valley.',
    'Bravo tells of the river in spring.',
    'Charlie describes the mill on the river.',
    'Delta recalls the flood of that year.',
    'Echo closes with the harvest feast.',
  ].join(' ');

  beforeAll(async () => {
    dataOf(
      await ragql.execute(IngestDocumentsDocument, {
        documents: [
          { id: 'valley', title: 'Valley', content: longText },
          { id: 'notes', title: 'Notes', content: 'The mill wheel turns. The mill grinds flour.' },
        ],
      }),
    );
  });

  it('lists every built-in, with its options as JSON Schema', async () => {
    const { plugins } = dataOf(await ragql.execute(PluginsDocument, { kind: null }));
    expect(plugins.map((plugin) => `${plugin.kind}:${plugin.name}`)).toEqual([
      'RETRIEVER:contextual-compression',
      'RERANKER:cross-encoder',
      'RETRIEVER:hybrid',
      'RERANKER:mmr',
      'RETRIEVER:multi-query',
      'RETRIEVER:parent-document',
    ]);
    const multiQuery = plugins.find((plugin) => plugin.name === 'multi-query');
    expect(multiQuery?.optionsSchema).toMatchObject({
      type: 'object',
      additionalProperties: false,
      properties: { queryCount: { type: 'integer', default: 3, minimum: 1, maximum: 10 } },
    });
    const rerankers = dataOf(await ragql.execute(PluginsDocument, { kind: 'RERANKER' })).plugins;
    expect(rerankers.map((plugin) => plugin.name)).toEqual(['cross-encoder', 'mmr']);
  });

  it('runs the hybrid retriever by default and reports it in the trace', async () => {
    const { search } = dataOf(await ragql.execute(PluginSearchDocument, { query: 'mill' }));
    expect(search.hits.length).toBeGreaterThan(0);
    expect(search.trace).toEqual([
      expect.objectContaining({
        plugin: 'hybrid',
        kind: 'RETRIEVER',
        candidatesIn: 0,
        candidatesOut: search.hits.length,
      }),
    ]);
    expect(search.trace[0]?.tookMs).toBeGreaterThanOrEqual(0);
  });

  it('refuses an unknown plugin, naming the ones there are', async () => {
    const response = await ragql.execute(PluginSearchDocument, {
      query: 'mill',
      retriever: { name: 'no-such-retriever' },
    });
    expect(response.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(response.errors?.[0]?.message).toContain('hybrid, multi-query, parent-document');
    const reranker = await ragql.execute(PluginSearchDocument, {
      query: 'mill',
      reranker: { name: 'hybrid' },
    });
    expect(reranker.errors?.[0]?.message).toContain('There is no reranker plugin named "hybrid"');
  });

  it('refuses options that do not fit the schema, listing each problem', async () => {
    const response = await ragql.execute(PluginSearchDocument, {
      query: 'mill',
      retriever: { name: 'multi-query', options: { queryCount: 'three', colour: 'red' } },
    });
    const [error] = response.errors ?? [];
    expect(error?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(error?.extensions?.problems).toEqual([
      expect.stringMatching(/^queryCount: /),
      expect.stringMatching(/colour/),
    ]);
  });

  it('multi-query searches the original query alone without an LLM, and says so', async () => {
    const { search } = dataOf(
      await ragql.execute(PluginSearchDocument, { query: 'mill', retriever: { name: 'multi-query' } }),
    );
    expect(new Set(documentIds(search.hits))).toEqual(new Set(['valley', 'notes']));
    expect(search.trace[0]?.details).toMatchObject({
      queries: ['mill'],
      fallback: expect.stringContaining('no LLM'),
    });
  });

  it('parent-document returns each parent once, in best-child order, with the match inside it', async () => {
    const { search } = dataOf(
      await ragql.execute(PluginSearchDocument, {
        query: 'mill river',
        retriever: { name: 'parent-document', options: { window: 1 } },
      }),
    );
    const children = dataOf(await ragql.execute(PluginSearchDocument, { query: 'mill river', limit: 30 }));
    // Parents in the order their best child ranks, each document's window once.
    const firstChildOf = (id: string) => documentIds(children.search.hits).indexOf(id);
    const order = [...new Set(documentIds(search.hits))];
    expect(order).toEqual([...order].sort((a, b) => firstChildOf(a) - firstChildOf(b)));
    expect(new Set(search.hits.map((hit) => hit.chunk.id)).size).toBe(search.hits.length);
    for (const hit of search.hits) {
      const { match, chunk } = hit;
      expect(match).not.toBeNull();
      if (!match) continue;
      expect(match.startOffset).toBeGreaterThanOrEqual(chunk.startOffset);
      expect(match.endOffset).toBeLessThanOrEqual(chunk.endOffset);
      const matched = chunk.content.slice(
        match.startOffset - chunk.startOffset,
        match.endOffset - chunk.startOffset,
      );
      expect(matched).toMatch(/mill|river/i);
    }
    // The valley's best child is about the mill on the river; its parent adds the chunks either side.
    const valley = search.hits.find((hit) => hit.chunk.document.id === 'valley');
    expect(valley?.chunk.content.length).toBeGreaterThan(
      (valley?.match?.endOffset ?? 0) - (valley?.match?.startOffset ?? 0),
    );
    expect(longText.slice(valley?.chunk.startOffset, valley?.chunk.endOffset)).toBe(valley?.chunk.content);

    const whole = dataOf(
      await ragql.execute(PluginSearchDocument, {
        query: 'mill river',
        retriever: { name: 'parent-document', options: { wholeDocument: true } },
      }),
    );
    expect(whole.search.hits.find((hit) => hit.chunk.document.id === 'valley')?.chunk.content).toBe(longText);
    expect(documentIds(whole.search.hits)).toHaveLength(2);
  });

  it('streams an answer from the chosen retriever, over each transport, with its trace', async () => {
    for (const transport of transports) {
      const client = subscriptionClient(transport, ragql.server.graphqlUrl);
      try {
        const events = await collect(
          client.subscribe(PluginAnswerStreamDocument, {
            question: 'What does the mill grind?',
            retriever: { name: 'parent-document' },
          }),
        );
        const payloads = events.map((event) => event.data?.answerStream);
        const sources = payloads.find((payload) => payload?.__typename === 'AnswerSources');
        const completed = payloads.find((payload) => payload?.__typename === 'AnswerCompleted');
        expect(sources && 'trace' in sources ? sources.trace : null).toEqual([
          { plugin: 'parent-document', kind: 'RETRIEVER' },
        ]);
        expect(completed && 'trace' in completed ? completed.trace : null).toEqual([
          { plugin: 'parent-document' },
        ]);
      } finally {
        await client.dispose();
      }
    }
  });

  it('answers from the chosen retriever and reports its trace', async () => {
    const { answer } = dataOf(
      await ragql.execute(PluginAnswerDocument, {
        question: 'What does the mill grind?',
        retriever: { name: 'parent-document', options: { wholeDocument: true } },
      }),
    );
    expect(answer.trace.map((step) => step.plugin)).toEqual(['parent-document']);
    expect(documentIds(answer.sources)).toContain('notes');
  });
});

describe('plugins with an embedder and an LLM (the OpenAI stand-in)', () => {
  const standin = useOpenAIStandin({ dimensions: 64 });
  const ragql = useRagql(() => ({
    RAGQL_EMBEDDER: 'openai',
    RAGQL_EMBEDDING_MODEL: 'standin-embedding',
    RAGQL_EMBEDDING_DIMENSIONS: '64',
    ...withStandinChat(standin),
    RAGQL_PLUGINS_DIR: resolve('plugins/examples'),
  }));

  beforeAll(async () => {
    dataOf(
      await ragql.execute(IngestDocumentsDocument, {
        documents: [
          { id: 'car', title: 'Workshop', content: 'Car mechanics fix engines and brakes.' },
          { id: 'tea', title: 'Tea', content: 'Tea leaves are steamed. The harbour freezes in winter.' },
          { id: 'solar-a', title: 'Panels', content: 'Solar panels convert sunlight into power.' },
          { id: 'solar-b', title: 'Panels', content: 'Solar panels convert sunlight into power.' },
          { id: 'solar-farm', title: 'Farms', content: 'Solar farms need land and sunlight.' },
        ],
      }),
    );
  });

  it('multi-query finds a document that only a rephrasing reaches', async () => {
    const alone = dataOf(await ragql.execute(PluginSearchDocument, { query: 'automobile', alpha: 0 }));
    expect(documentIds(alone.search.hits)).not.toContain('car');

    standin.scriptNextChat({ reply: '1. car mechanics\n2. automobile\n3. vehicle repair' });
    const { search } = dataOf(
      await ragql.execute(PluginSearchDocument, {
        query: 'automobile',
        alpha: 0,
        retriever: { name: 'multi-query', options: { queryCount: 3 } },
      }),
    );
    expect(documentIds(search.hits)).toContain('car');
    // The repeat of the original is dropped; the rest are searched.
    expect(search.trace[0]?.details).toEqual({ queries: ['automobile', 'car mechanics', 'vehicle repair'] });
  });

  it('multi-query falls back to the original query when the model fails, and says so', async () => {
    standin.failNext(400);
    const { search } = dataOf(
      await ragql.execute(PluginSearchDocument, {
        query: 'tea leaves',
        retriever: { name: 'multi-query' },
      }),
    );
    expect(documentIds(search.hits)[0]).toBe('tea');
    expect(search.trace[0]?.details).toMatchObject({
      queries: ['tea leaves'],
      fallback: expect.stringContaining('model failed'),
    });
  });

  it('contextual compression by embeddings keeps the relevant sentence and reports the sizes', async () => {
    const { search } = dataOf(
      await ragql.execute(PluginSearchDocument, {
        query: 'tea leaves steamed',
        limit: 1,
        retriever: { name: 'contextual-compression', options: { method: 'embeddings', threshold: 0.5 } },
      }),
    );
    expect(search.hits.map((hit) => hit.chunk.content)).toEqual(['Tea leaves are steamed.']);
    const compression = search.trace.find((step) => step.plugin === 'contextual-compression');
    expect(search.trace.map((step) => step.plugin)).toEqual(['hybrid', 'contextual-compression']);
    expect(compression?.details).toMatchObject({
      method: 'embeddings',
      charactersBefore: 'Tea leaves are steamed. The harbour freezes in winter.'.length,
      charactersAfter: 'Tea leaves are steamed.'.length,
    });
  });

  it('contextual compression by LLM keeps what the model extracts and drops what it rejects', async () => {
    standin.scriptNextChat({ reply: 'Tea leaves are steamed.' });
    const kept = dataOf(
      await ragql.execute(PluginSearchDocument, {
        query: 'how is tea made',
        limit: 1,
        alpha: 0,
        retriever: { name: 'contextual-compression', options: { method: 'llm' } },
      }),
    );
    expect(kept.search.hits.map((hit) => hit.chunk.content)).toEqual(['Tea leaves are steamed.']);
    const prompt = JSON.stringify(standin.chatStreams.at(-1)?.body);
    expect(prompt).toContain('The harbour freezes in winter.');

    standin.scriptNextChat({ reply: 'NO_OUTPUT' });
    const dropped = dataOf(
      await ragql.execute(PluginSearchDocument, {
        query: 'how is tea made',
        limit: 1,
        alpha: 0,
        retriever: { name: 'contextual-compression', options: { method: 'llm' } },
      }),
    );
    expect(dropped.search.hits).toEqual([]);
    expect(dropped.search.trace.at(-1)?.details).toMatchObject({ dropped: 1, charactersAfter: 0 });
  });

  it('mmr keeps one of two identical documents and brings in a different one', async () => {
    const plain = dataOf(
      await ragql.execute(PluginSearchDocument, {
        query: 'solar panels sunlight',
        limit: 2,
        alpha: 1,
      }),
    );
    expect(new Set(documentIds(plain.search.hits))).toEqual(new Set(['solar-a', 'solar-b']));
    const { search } = dataOf(
      await ragql.execute(PluginSearchDocument, {
        query: 'solar panels sunlight',
        alpha: 1,
        reranker: { name: 'mmr', topN: 2, options: { lambda: 0.5 } },
      }),
    );
    const ids = documentIds(search.hits);
    expect(ids).toHaveLength(2);
    expect(ids.filter((id) => id === 'solar-a' || id === 'solar-b')).toHaveLength(1);
    expect(ids).toContain('solar-farm');
    expect(search.trace.map((step) => [step.plugin, step.candidatesIn, step.candidatesOut])).toEqual([
      ['hybrid', 0, 4],
      ['mmr', 4, 2],
    ]);
  });

  it('loads the HyDE example from the plugins folder and searches with its passage', async () => {
    const { plugins } = dataOf(await ragql.execute(PluginsDocument, { kind: 'RETRIEVER' }));
    expect(plugins.map((plugin) => plugin.name)).toContain('hyde');
    standin.scriptNextChat({ reply: 'Mechanics repair the engines and brakes of a car.' });
    const { search } = dataOf(
      await ragql.execute(PluginSearchDocument, {
        query: 'who looks after my automobile',
        alpha: 1,
        retriever: { name: 'hyde' },
      }),
    );
    expect(documentIds(search.hits)[0]).toBe('car');
    expect(search.trace[0]?.details).toEqual({
      passage: 'Mechanics repair the engines and brakes of a car.',
    });
  });
});

describe('the Cohere reranker against the Cohere stand-in', () => {
  const cohere = useCohereStandin();
  const ragql = useRagql(() => ({ CO_API_KEY: 'co-test', COHERE_BASE_URL: cohere.baseUrl }));

  beforeAll(async () => {
    dataOf(
      await ragql.execute(IngestDocumentsDocument, {
        documents: [
          { id: 'one', content: 'river river river boats' },
          { id: 'two', content: 'river boats sail on the river at dawn with fishermen' },
          { id: 'three', content: 'boats' },
        ],
      }),
    );
  });

  it('is registered when Cohere is configured, and reorders by its scores', async () => {
    const { plugins } = dataOf(await ragql.execute(PluginsDocument, { kind: 'RERANKER' }));
    expect(plugins.map((plugin) => plugin.name)).toEqual(['cohere', 'cross-encoder', 'mmr']);

    const { search } = dataOf(
      await ragql.execute(PluginSearchDocument, {
        query: 'river boats fishermen dawn',
        reranker: { name: 'cohere', topN: 2 },
      }),
    );
    const rerank = cohere.requests.find((request) => request.path === '/v2/rerank');
    const body = rerank?.body as { model: string; documents: string[]; top_n: number };
    expect(body.model).toBe('rerank-v3.5');
    expect(body.top_n).toBe(2);
    expect(body.documents).toHaveLength(3);
    // The stand-in scores word overlap with the query: "two" shares four words.
    expect(documentIds(search.hits)[0]).toBe('two');
    expect(search.hits).toHaveLength(2);
    expect(
      search.trace.map((step) => [step.plugin, step.kind, step.candidatesIn, step.candidatesOut]),
    ).toEqual([
      ['hybrid', 'RETRIEVER', 0, 3],
      ['cohere', 'RERANKER', 3, 2],
    ]);
  });
});

const crossEncoderModel = await tinyCrossEncoder();

describe.skipIf('unavailable' in crossEncoderModel)(
  'the cross-encoder reranker on a tiny local model',
  () => {
    const folder = 'folder' in crossEncoderModel ? crossEncoderModel.folder : '';
    const ragql = useRagql(() => ({ RAGQL_CROSS_ENCODER_MODEL: folder }));
    const documents = [
      { id: 'stuffed', content: 'Capital, capital, capital: the capital of capitals.' },
      { id: 'river', content: 'The capital of France is a city on a river.' },
      { id: 'berlin', content: 'Berlin is the capital city of another country.' },
    ];

    beforeAll(async () => {
      dataOf(await ragql.execute(IngestDocumentsDocument, { documents }));
    });

    it('scores each pair with the model and reorders the candidates by those scores', async () => {
      const query = 'capital of France';
      const retrieved = dataOf(await ragql.execute(PluginSearchDocument, { query }));
      const { search } = dataOf(
        await ragql.execute(PluginSearchDocument, {
          query,
          reranker: { name: 'cross-encoder', topN: 3, options: { batchSize: 2 } },
        }),
      );
      // The same model, run directly on each pair.
      const { AutoModelForSequenceClassification, AutoTokenizer } = await import('@huggingface/transformers');
      const tokenizer = await AutoTokenizer.from_pretrained(folder, { local_files_only: true });
      const model = await AutoModelForSequenceClassification.from_pretrained(folder, {
        local_files_only: true,
        dtype: 'fp32',
      });
      const expected = await Promise.all(
        documents.map(async (document) => {
          const inputs = tokenizer([query], { text_pair: [document.content], truncation: true });
          const { logits } = (await model(inputs)) as { logits: { data: ArrayLike<number> } };
          return { id: document.id, score: logits.data[0] ?? Number.NaN };
        }),
      );
      expected.sort((a, b) => b.score - a.score);

      expect(documentIds(search.hits)).toEqual(expected.map((entry) => entry.id));
      search.hits.forEach((hit, position) => {
        expect(hit.score).toBeCloseTo(expected[position]?.score ?? Number.NaN, 4);
      });
      // BM25 puts the one document with both query terms first; this model prefers the stuffed one.
      expect(documentIds(retrieved.search.hits)[0]).toBe('river');
      expect(documentIds(search.hits)[0]).toBe('stuffed');
      expect(search.trace.map((step) => [step.plugin, step.candidatesIn, step.candidatesOut])).toEqual([
        ['hybrid', 0, 3],
        ['cross-encoder', 3, 3],
      ]);
    });
  },
);

describe('a plugin that fails', () => {
  const folder = temporaryDataDir();
  const api = resolve('src/plugin-api/index.ts');
  const ragql = useRagql(() => {
    const plugins = join(folder.path, 'plugins');
    mkdirSync(plugins, { recursive: true });
    writeFileSync(
      join(plugins, 'faulty.ts'),
      `import { definePlugin, z } from ${JSON.stringify(api)};
export default [
  definePlugin({
    name: 'throws', kind: 'retriever', version: '1', description: 'Always throws.', options: z.object({}),
    create: () => ({ retrieve: async () => { throw new Error('secret-token-123 exploded'); } }),
  }),
  definePlugin({
    name: 'hangs', kind: 'retriever', version: '1', description: 'Never answers.', options: z.object({}),
    create: () => ({ retrieve: () => new Promise(() => {}) }),
  }),
  definePlugin({
    name: 'garbage', kind: 'reranker', version: '1', description: 'Returns nonsense.', options: z.object({}),
    create: () => ({ rerank: async () => ({ hits: 'nope' }) }),
  }),
];
`,
    );
    return { RAGQL_PLUGINS_DIR: plugins, RAGQL_PLUGIN_TIMEOUT_MS: '300' };
  });
  afterAll(() => folder.remove());

  beforeAll(async () => {
    dataOf(
      await ragql.execute(IngestDocumentsDocument, {
        documents: [{ id: 'doc', content: 'The lighthouse keeper trims the wick.' }],
      }),
    );
  });

  it('fails only its request, with PLUGIN_FAILED naming it and nothing of its error', async () => {
    const cases: [Record<string, { name: string }>, string][] = [
      [{ retriever: { name: 'throws' } }, 'The retriever plugin "throws" failed'],
      [{ retriever: { name: 'hangs' } }, 'The retriever plugin "hangs" did not finish within 300 ms'],
      [{ reranker: { name: 'garbage' } }, 'The reranker plugin "garbage" failed'],
    ];
    for (const [request, message] of cases) {
      const response = await ragql.execute(PluginSearchDocument, { query: 'lighthouse', ...request });
      const [error] = response.errors ?? [];
      expect(error?.extensions?.code).toBe('PLUGIN_FAILED');
      expect(error?.message).toContain(message);
      expect(JSON.stringify(response)).not.toContain('secret-token-123');
    }
    const { search } = dataOf(await ragql.execute(PluginSearchDocument, { query: 'lighthouse' }));
    expect(documentIds(search.hits)).toEqual(['doc']);
  });
});
