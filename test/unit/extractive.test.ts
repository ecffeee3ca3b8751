import { describe, expect, it } from 'vitest';
import type { ChatRequest, ChatStreamPart, GroundingSource } from '../../src/ports.ts';
import { createExtractiveModel, noAnswerText } from '../../src/providers/extractive.ts';

const sources: GroundingSource[] = [
  {
    marker: 1,
    title: 'Solar power',
    source: null,
    text:
      'Photovoltaic panels convert sunlight into electricity. Their efficiency drops as the panels get hot.\n' +
      'Inverters turn direct current into alternating current.',
  },
  {
    marker: 2,
    title: 'Wind power',
    source: null,
    text: 'Wind turbines turn moving air into electricity. Offshore turbines produce steadier power.',
  },
  {
    marker: 3,
    title: 'Baking',
    source: null,
    text: 'Sourdough bread rises because wild yeast ferments the flour.',
  },
];

function requestFor(question: string, signal?: AbortSignal): ChatRequest {
  return { messages: [{ role: 'user', content: question }], grounding: { question, sources }, signal };
}

async function collect(stream: AsyncIterable<ChatStreamPart>): Promise<ChatStreamPart[]> {
  const parts: ChatStreamPart[] = [];
  for await (const part of stream) parts.push(part);
  return parts;
}

function answerText(parts: ChatStreamPart[]): string {
  return parts.map((part) => (part.type === 'text-delta' ? part.text : '')).join('');
}

describe('the extractive model', () => {
  it('states what it is and that it takes any amount of context', () => {
    const model = createExtractiveModel();
    expect(model).toMatchObject({ specificationVersion: 'v1', provider: 'ragql', modelId: 'extractive' });
    expect(model.contextWindow).toBe(Number.POSITIVE_INFINITY);
  });

  it('answers with the best-matching sentence followed by its source marker', async () => {
    const parts = await collect(createExtractiveModel().stream(requestFor('What do inverters do?')));
    expect(answerText(parts)).toBe('Inverters turn direct current into alternating current. [1]');
  });

  it('streams one sentence per text part, best match first, separated by spaces', async () => {
    // Six candidate sentences. Question terms: hot (in 1 sentence), panel (2), electr (2), so
    // weight(hot) = ln(1 + 6/1) = 1.95 and weight(panel) = weight(electr) = ln(1 + 6/2) = 1.39.
    //   "Their efficiency drops as the panels get hot."  panel + hot    = 3.33
    //   "Photovoltaic panels convert sunlight ..."       panel + electr = 2.77
    //   "Wind turbines turn moving air into electricity." electr        = 1.39
    const parts = await collect(
      createExtractiveModel().stream(requestFor('Do hot panels make less electricity?')),
    );
    const texts = parts.flatMap((part) => (part.type === 'text-delta' ? [part.text] : []));
    expect(texts).toEqual([
      'Their efficiency drops as the panels get hot. [1]',
      ' Photovoltaic panels convert sunlight into electricity. [1]',
      ' Wind turbines turn moving air into electricity. [2]',
    ]);
  });

  it('quotes at most maxSentences sentences', async () => {
    const question = 'Which turbines, panels and inverters turn sunlight, air or current into electricity?';
    const three = await collect(createExtractiveModel().stream(requestFor(question)));
    expect(three.filter((part) => part.type === 'text-delta')).toHaveLength(3);
    const one = await collect(createExtractiveModel({ maxSentences: 1 }).stream(requestFor(question)));
    expect(one.filter((part) => part.type === 'text-delta')).toHaveLength(1);
  });

  it('quotes a sentence that appears in two sources only once', async () => {
    const repeated = 'Tides follow the moon.';
    const parts = await collect(
      createExtractiveModel().stream({
        messages: [],
        grounding: {
          question: 'What do tides follow?',
          sources: [
            { marker: 1, title: null, source: null, text: repeated },
            { marker: 2, title: null, source: null, text: repeated },
          ],
        },
      }),
    );
    expect(answerText(parts)).toBe('Tides follow the moon. [1]');
  });

  it('says noAnswerText when no sentence shares a term with the question', async () => {
    const parts = await collect(createExtractiveModel().stream(requestFor('quantum chromodynamics')));
    expect(parts[0]).toEqual({ type: 'text-delta', text: noAnswerText });
    expect(answerText(parts)).toBe(noAnswerText);
  });

  it('says noAnswerText when there are no sources', async () => {
    const parts = await collect(
      createExtractiveModel().stream({
        messages: [],
        grounding: { question: 'What do inverters do?', sources: [] },
      }),
    );
    expect(answerText(parts)).toBe(noAnswerText);
  });

  it('ends with exactly one finish part reporting no tokens', async () => {
    for (const question of ['What do inverters do?', 'quantum chromodynamics']) {
      const parts = await collect(createExtractiveModel().stream(requestFor(question)));
      expect(parts.filter((part) => part.type === 'finish')).toHaveLength(1);
      expect(parts.at(-1)).toEqual({
        type: 'finish',
        usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0 },
      });
    }
  });

  it('refuses a request without grounding sources', async () => {
    const stream = createExtractiveModel().stream({ messages: [{ role: 'user', content: 'Hi' }] });
    await expect(collect(stream)).rejects.toThrow(/grounding/);
  });

  it('stops when the request is aborted mid-stream', async () => {
    const controller = new AbortController();
    const iterator = createExtractiveModel()
      .stream(requestFor('Do hot panels make less electricity?', controller.signal))
      [Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.value).toMatchObject({ type: 'text-delta' });
    controller.abort(new Error('client went away'));
    await expect(iterator.next()).rejects.toThrow('client went away');
  });

  it('yields nothing when the request was aborted before it started', async () => {
    const controller = new AbortController();
    controller.abort();
    const stream = createExtractiveModel().stream(requestFor('What do inverters do?', controller.signal));
    await expect(collect(stream)).rejects.toMatchObject({ name: 'AbortError' });
  });
});
