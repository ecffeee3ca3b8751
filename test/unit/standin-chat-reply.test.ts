/** How the chat stand-ins derive their reply from a prompt, so integration tests can predict it. */
import { describe, expect, it } from 'vitest';
import type { GroundingSource } from '../../src/ports.ts';
import { buildGroundedMessages } from '../../src/rag/prompt.ts';
import { noSourcesReply, replyFromPrompt, splitIntoTokens } from '../support/chat-script.ts';

const source = (marker: number, text: string): GroundingSource => ({
  marker,
  title: 'T',
  source: null,
  text,
});

describe('chat stand-in reply', () => {
  it("is source [1]'s first sentence followed by its marker", () => {
    const messages = buildGroundedMessages('Why?', [
      source(1, 'Panels convert sunlight. They get hot.'),
      source(2, 'Turbines turn wind into power.'),
    ]);
    expect(replyFromPrompt(messages)).toBe('Panels convert sunlight. [1]');
  });

  it('ends a sentence at ! or ? too, but not at a point inside a number', () => {
    const reply = (text: string) => replyFromPrompt(buildGroundedMessages('q', [source(1, text)]));
    expect(reply('Version 2.5 ships today! More later.')).toBe('Version 2.5 ships today! [1]');
    expect(reply('Is it fast? Yes.')).toBe('Is it fast? [1]');
    expect(reply('No full stop at all')).toBe('No full stop at all [1]');
  });

  it('reads the last user message only', () => {
    const earlier = buildGroundedMessages('q', [source(1, 'Old answer.')]);
    const latest = buildGroundedMessages('q', [source(1, 'New answer.')]);
    expect(replyFromPrompt([...earlier, { role: 'assistant', content: 'ok' }, ...latest])).toBe(
      'New answer. [1]',
    );
  });

  it('says it has no sources when the prompt has no source [1]', () => {
    expect(replyFromPrompt(buildGroundedMessages('q', []))).toBe(noSourcesReply);
    expect(replyFromPrompt([{ role: 'user', content: 'plain question' }])).toBe(noSourcesReply);
  });

  it('reads content given as a list of text parts', () => {
    const [system, user] = buildGroundedMessages('q', [source(1, 'Parts work.')]);
    const parts = [{ type: 'text', text: user?.content }];
    expect(
      replyFromPrompt([system ?? { role: 'system', content: '' }, { role: 'user', content: parts }]),
    ).toBe('Parts work. [1]');
  });

  it('splits into tokens that keep the whitespace before each word', () => {
    expect(splitIntoTokens('One  two\nthree [1]')).toEqual(['One', '  two', '\nthree', ' [1]']);
    expect(splitIntoTokens('   ')).toEqual([]);
  });
});
