/**
 * Plugin model calls, fuzzed: retrievers nested in any order and depth with any options (some of
 * them wrong), for three tiers, against a real ragql and the OpenAI stand-in. Whatever is asked,
 * no request brings more than `maxPluginModelCalls` calls to the model, nesting past
 * `maxPluginDepth` is refused before any call, every refusal is BAD_USER_INPUT or RATE_LIMITED
 * naming its limit, a tier's day never ends over its token budget by more than the one
 * reservation that crossed it (and no call starts once the usage ledger shows it spent), and a
 * tier allowed only `extractive` never reaches the model.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/access/api-keys.ts';
import { maxPluginDepth, maxPluginModelCalls } from '../../src/rag/retrieval.ts';
import { countMessageTokens } from '../../src/text/token-count.ts';
import { IngestDocumentsDocument, PluginSearchDocument, UsageDocument } from '../generated/graphql.ts';
import { fuzzSeed } from '../support/arbitraries.ts';
import { dataOf, type GraphQLErrorPayload, graphqlClient } from '../support/graphql-client.ts';
import { withAuthentication } from '../support/ragql-environment.ts';
import { useRagql } from '../support/use-ragql.ts';
import { useOpenAIStandin } from '../support/use-standin.ts';

const chatModel = 'standin-chat';
const documents = Array.from({ length: 12 }, (_, index) => ({
  id: `tides-${index}`,
  content: `The moon pulls the tides, note ${index}. The harbour freezes in winter.`,
}));

interface RetrieverRef {
  name: string;
  options?: Record<string, unknown>;
}
/** One level of a nested retriever: its plugin and options, and whether they are valid. */
interface Level {
  ref: RetrieverRef;
  valid: boolean;
}

/** Valid options, mostly; sometimes a value or a key the plugin's schema refuses. */
const optionsOf = (
  valid: fc.Arbitrary<Record<string, unknown>>,
  invalid: fc.Arbitrary<Record<string, unknown>>,
) =>
  fc.oneof(
    { arbitrary: valid.map((options) => ({ options, valid: true })), weight: 30 },
    { arbitrary: invalid.map((options) => ({ options, valid: false })), weight: 1 },
  );

/** The innermost retriever: one that runs no other. */
const leaf: fc.Arbitrary<Level> = fc.oneof(
  {
    arbitrary: optionsOf(fc.constant({}), fc.constant({ unknownOption: true })).map(({ options, valid }) => ({
      ref: { name: 'hybrid', options },
      valid,
    })),
    weight: 3,
  },
  {
    arbitrary: optionsOf(
      fc.record({ queryCount: fc.integer({ min: 1, max: 10 }) }, { requiredKeys: [] }),
      fc.record({ queryCount: fc.constantFrom(0, 11, 2.5, 'three') }),
    ).map(({ options, valid }) => ({ ref: { name: 'multi-query', options }, valid })),
    weight: 3,
  },
  {
    arbitrary: optionsOf(
      fc.record(
        { window: fc.integer({ min: 0, max: 3 }), wholeDocument: fc.boolean() },
        { requiredKeys: [] },
      ),
      fc.record({ window: fc.constantFrom(-1, 21) }),
    ).map(({ options, valid }) => ({ ref: { name: 'parent-document', options }, valid })),
    weight: 3,
  },
  // A reranker, or no plugin at all, where a retriever belongs.
  {
    arbitrary: fc.constantFrom('mmr', 'no-such-retriever').map((name) => ({ ref: { name }, valid: false })),
    weight: 1,
  },
);

/** Options of one contextual-compression level (its `base` is the level inside it). */
const compression = optionsOf(
  fc.record(
    {
      method: fc.constantFrom('auto', 'llm', 'embeddings'),
      threshold: fc.double({ min: -1, max: 1, noNaN: true }),
    },
    { requiredKeys: [] },
  ),
  fc.oneof(
    fc.record({ method: fc.constantFrom('magic', 'LLM') }),
    fc.record({ threshold: fc.constantFrom(1.5, -2) }),
  ),
);

/** A retriever nested 1 to maxPluginDepth + 2 deep: compressions around compressions around a leaf. */
const nestedRetriever = fc
  .tuple(leaf, fc.array(compression, { maxLength: maxPluginDepth + 1 }))
  .map(([inner, wrappers]) => {
    // levels[0] is the outermost retriever, the one the request names.
    const levels: Level[] = [inner];
    for (const { options, valid } of wrappers) {
      const base = levels[0] as Level;
      levels.unshift({
        ref: {
          name: 'contextual-compression',
          options: {
            ...options,
            base: base.ref.name,
            ...(base.ref.options ? { baseOptions: base.ref.options } : {}),
          },
        },
        valid,
      });
    }
    return levels;
  });

/** What ragql reserved from the caller's budget before a call: its prompt and its most output. */
function reservedFor(body: Record<string, unknown>): number {
  const messages = body.messages as { content: string }[];
  return countMessageTokens(messages) + Number(body.max_completion_tokens ?? 0);
}

describe('plugin model calls, fuzzed (the OpenAI stand-in)', () => {
  const callers = {
    metered: { key: createApiKey(), tokensPerDay: 1_000_000, llm: true },
    tight: { key: createApiKey(), tokensPerDay: 1_000, llm: true },
    frugal: { key: createApiKey(), tokensPerDay: 1_000_000, llm: false },
  };
  type CallerName = keyof typeof callers;
  const standin = useOpenAIStandin();
  const as = (caller: CallerName) => graphqlClient(ragql.server.graphqlUrl, callers[caller].key.key);
  /** The chat calls the stand-in received for one request, known by the marker in its query. */
  const callsFor = (marker: string) =>
    standin.chatStreams.filter((call) => JSON.stringify(call.body.messages).includes(marker));
  /** The tokens the usage ledger shows the caller's tenant spent with the chat model today (UTC). */
  const spentToday = async (caller: CallerName) => {
    const today = new Date().toISOString().slice(0, 10);
    const { usage } = dataOf(await as(caller)(UsageDocument, { from: today, to: today }));
    return usage[0]?.models.find((entry) => entry.model === chatModel)?.totalTokens ?? 0;
  };

  const tier = { requestsPerMinute: 100_000, concurrentStreams: 5, maxQueryCost: 1_000_000 };
  const ragql = useRagql((dataDir) => ({
    ...withAuthentication(dataDir, {
      tiers: Object.fromEntries(
        Object.entries(callers).map(([name, { tokensPerDay, llm }]) => [
          name,
          { ...tier, tokensPerDay, ...(llm ? {} : { models: ['extractive'] }) },
        ]),
      ),
      apiKeys: Object.entries(callers).map(([name, { key }]) => ({
        tenant: name,
        tier: name,
        hash: key.hash,
      })),
    }),
    RAGQL_ANSWER_CACHE: 'off',
    RAGQL_EMBEDDER: 'openai',
    RAGQL_EMBEDDING_MODEL: 'standin-embedding',
    RAGQL_EMBEDDING_DIMENSIONS: '64',
    RAGQL_GENERATOR: 'openai',
    RAGQL_CHAT_MODEL: chatModel,
    OPENAI_API_KEY: 'sk-test',
    OPENAI_BASE_URL: standin.baseURL,
  }));
  beforeAll(async () => {
    for (const caller of Object.keys(callers) as CallerName[]) {
      dataOf(await as(caller)(IngestDocumentsDocument, { documents }));
    }
  });

  it('never lets plugins past their call and depth limits, a tier past its budget, or extractive to a model', async () => {
    let request = 0;
    const outcomes = new Map<string, number>();
    /** The largest reservation any call of each caller made: how far a day may overshoot its budget. */
    const largestReservation: Record<CallerName, number> = { metered: 0, tight: 0, frugal: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...(Object.keys(callers) as CallerName[])),
        nestedRetriever,
        fc.integer({ min: 1, max: 10 }),
        fc.constantFrom(0, 0.5),
        async (caller, levels, limit, alpha) => {
          const marker = `probe${request++}q`;
          const spentBefore = await spentToday(caller);
          const response = await as(caller)(PluginSearchDocument, {
            query: `${marker} tides`,
            limit,
            alpha,
            retriever: levels[0]?.ref,
          });
          // A refused request ends while calls it let through may still be connecting.
          await sleep(20);
          const calls = callsFor(marker);
          const label = JSON.stringify({
            caller,
            retriever: levels[0]?.ref,
            limit,
            alpha,
            calls: calls.length,
          });
          for (const call of calls) {
            largestReservation[caller] = Math.max(largestReservation[caller], reservedFor(call.body));
          }

          expect(calls.length, label).toBeLessThanOrEqual(maxPluginModelCalls);
          if (!callers[caller].llm) expect(calls, label).toEqual([]);
          const { tokensPerDay } = callers[caller];
          if (spentBefore >= tokensPerDay) expect(calls, label).toEqual([]);
          expect(await spentToday(caller), label).toBeLessThanOrEqual(
            tokensPerDay + largestReservation[caller],
          );

          // Options are checked level by level as each runs its base; the depth limit stops the
          // level below maxPluginDepth from running its base at all.
          const firstInvalid = levels.findIndex((level) => !level.valid);
          const refusedOptions = firstInvalid !== -1 && firstInvalid < maxPluginDepth;
          const tooDeep = !refusedOptions && levels.length > maxPluginDepth;
          const error = response.errors?.[0];
          outcomes.set(outcomeOf(error), (outcomes.get(outcomeOf(error)) ?? 0) + 1);
          if (refusedOptions || tooDeep) {
            expect(calls, label).toEqual([]);
            expect(error?.extensions, label).toMatchObject(
              tooDeep
                ? { code: 'BAD_USER_INPUT', maxPluginDepth }
                : { code: 'BAD_USER_INPUT', problems: expect.any(Array) },
            );
            return;
          }
          if (!error) {
            expect(calls.length, label).toBe(modelCallsIn(response.data?.search.trace ?? []));
            return;
          }
          expect(response.errors, label).toHaveLength(1);
          expect(refusalProblems(error, caller), `${label} ${JSON.stringify(error)}`).toEqual([]);
        },
      ),
      { numRuns: 120, seed: fuzzSeed },
    );
    // Every outcome was exercised: answers and each kind of refusal.
    expect([...outcomes.keys()].sort(), JSON.stringify([...outcomes])).toEqual([
      'BAD_USER_INPUT:maxPluginDepth',
      'BAD_USER_INPUT:option',
      'BAD_USER_INPUT:problems',
      'RATE_LIMITED:pluginModelCalls',
      'RATE_LIMITED:tokens',
      'ok',
    ]);
  });
});

/** The kind of outcome, to tell that every kind was exercised. */
function outcomeOf(error: GraphQLErrorPayload | undefined): string {
  if (!error) return 'ok';
  const { code, limit, maxPluginDepth: depth, option, problems } = error.extensions ?? {};
  if (limit) return `${code}:${limit}`;
  if (depth) return `${code}:maxPluginDepth`;
  if (option) return `${code}:option`;
  return problems ? `${code}:problems` : String(code);
}

/** What is wrong with a refusal of a valid retriever: it must name a documented limit. */
function refusalProblems(error: GraphQLErrorPayload, caller: string): string[] {
  const { extensions } = error;
  switch (`${extensions?.code}:${String(extensions?.limit ?? extensions?.option)}`) {
    case 'RATE_LIMITED:pluginModelCalls':
      return extensions?.maxPluginModelCalls === maxPluginModelCalls ? [] : ['maxPluginModelCalls missing'];
    case 'RATE_LIMITED:tokens':
      return Number(extensions?.retryAfter) > 0 ? [] : ['retryAfter missing'];
    // Only a tier without an LLM is told that `method: "llm"` needs one.
    case 'BAD_USER_INPUT:method':
      return caller === 'frugal' && extensions?.plugin === 'contextual-compression' ? [] : ['unexpected'];
    default:
      return ['not a documented refusal'];
  }
}

/** The model calls a successful retrieval's trace says its plugins made. */
function modelCallsIn(
  trace: readonly { plugin: string; candidatesOut: number; details?: unknown }[],
): number {
  return trace.reduce((calls, step) => {
    const details = (step.details ?? {}) as Record<string, unknown>;
    // One call per base hit, those the model found nothing in (dropped) included.
    if (step.plugin === 'contextual-compression' && details.method === 'llm') {
      return calls + step.candidatesOut + Number(details.dropped);
    }
    // One call for the rephrasings, unless there was no model to ask.
    if (step.plugin === 'multi-query') {
      return calls + (String(details.fallback ?? '').startsWith('no LLM') ? 0 : 1);
    }
    return calls;
  }, 0);
}
