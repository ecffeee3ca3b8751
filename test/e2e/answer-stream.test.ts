/**
 * answerStream over every transport, with the default extractive generator: the order and
 * completeness of events, citations, and errors before the stream starts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { AnswerDocument, AnswerStreamDocument, IngestDocumentsDocument } from '../generated/graphql.ts';
import { type AnswerStreamEvent, answerStreamEvents } from '../support/answer-stream-events.ts';
import { dataOf } from '../support/graphql-client.ts';
import { collect, subscriptionClient, transports } from '../support/subscription-clients.ts';
import { useRagql } from '../support/use-ragql.ts';

const documents = [
  {
    id: 'solar',
    title: 'Solar power',
    content:
      'Photovoltaic panels convert sunlight into electricity. Their efficiency drops as the panels get hot. ' +
      'Inverters turn the direct current of the panels into alternating current for the grid.',
  },
  {
    id: 'wind',
    title: 'Wind power',
    content: 'Wind turbines turn the kinetic energy of moving air into electricity through a generator.',
  },
];

describe.each(transports)('answerStream over %s (extractive generator)', (transport) => {
  const ragql = useRagql();
  beforeAll(async () => {
    dataOf(await ragql.execute(IngestDocumentsDocument, { documents }));
  });

  async function streamEvents(variables: { question: string; alpha?: number }): Promise<AnswerStreamEvent[]> {
    const client = subscriptionClient(transport, ragql.server.graphqlUrl);
    try {
      return answerStreamEvents(await collect(client.subscribe(AnswerStreamDocument, variables)));
    } finally {
      await client.dispose();
    }
  }

  it('sends the sources, then every token in order, then the completed answer', async () => {
    const events = await streamEvents({ question: 'What do inverters do?' });
    const [first, ...rest] = events;
    const last = rest.pop();
    if (first?.__typename !== 'AnswerSources' || last?.__typename !== 'AnswerCompleted') {
      throw new Error(`unexpected event order: ${events.map((event) => event.__typename).join(', ')}`);
    }
    const tokens = rest.map((event) => {
      if (event.__typename !== 'AnswerToken') throw new Error(`a ${event.__typename} between tokens`);
      return event;
    });
    expect(tokens.length).toBeGreaterThan(0);
    expect(tokens.map((token) => token.index)).toEqual(tokens.map((_, index) => index));
    expect(tokens.map((token) => token.text).join('')).toBe(last.text);
    expect(last.text).toContain('Inverters turn the direct current');
    expect(last.generator).toBe('extractive');
    expect(last.latency.totalMs).toBeGreaterThanOrEqual(last.latency.firstTokenMs ?? Number.NaN);
    expect(last.latency.firstTokenMs).toBeGreaterThanOrEqual(last.latency.retrievalMs);
    expect(last.usage.costUsd).toBe(0);

    expect(first.sources.length).toBeGreaterThan(0);
    expect(last.citations.length).toBeGreaterThan(0);
    for (const citation of last.citations) {
      expect(last.text).toContain(`[${citation.marker}]`);
      expect(citation.chunk.id).toBe(first.sources[citation.marker - 1]?.chunk.id);
    }
    expect(last.citations[0]?.document).toEqual({ id: 'solar', title: 'Solar power' });
  });

  it('answers without asking the model when retrieval finds nothing', async () => {
    const events = await streamEvents({ question: 'quasar spectroscopy' });
    expect(events.map((event) => event.__typename)).toEqual([
      'AnswerSources',
      'AnswerToken',
      'AnswerCompleted',
    ]);
    const completed = events[2];
    expect(completed?.__typename === 'AnswerCompleted' && completed.citations).toEqual([]);
  });

  it('rejects bad input with a coded error before any event', async () => {
    const client = subscriptionClient(transport, ragql.server.graphqlUrl);
    try {
      const results = await collect(
        client.subscribe(AnswerStreamDocument, { question: 'inverters', alpha: 2 }),
      );
      expect(results).toHaveLength(1);
      expect(results[0]?.data ?? null).toBeNull();
      expect(results[0]?.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    } finally {
      await client.dispose();
    }
  });
});

describe('an answer whose sources outgrow the context budget', () => {
  // Room for the wind document's chunk (about 30 tokens as a source) but not the solar one (about 50).
  const ragql = useRagql({ RAGQL_CONTEXT_MAX_TOKENS: '40' });
  beforeAll(async () => {
    dataOf(await ragql.execute(IngestDocumentsDocument, { documents }));
  });

  it('reports the retrieved sources it left out, and cites only those it kept', async () => {
    const { answer } = dataOf(
      await ragql.execute(AnswerDocument, { question: 'Which turns energy into electricity?', limit: 2 }),
    );
    expect(answer.omittedSources.map((hit) => hit.chunk.id)).toEqual(['solar#0']);
    expect(answer.sources.map((hit) => hit.chunk.id)).toEqual(['wind#0']);
    expect(answer.citations.map((citation) => citation.chunk.id)).toEqual(['wind#0']);
  });
});
