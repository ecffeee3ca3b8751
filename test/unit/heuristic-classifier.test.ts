/**
 * The heuristic that labels questions when a tier names no classifier model: short factual
 * questions are simple, long ones asking to explain or compare several things are complex.
 */
import { describe, expect, it } from 'vitest';
import { heuristicLabel } from '../../src/gateway/question-classifier.ts';

describe('the heuristic classifier', () => {
  it.each([
    'What pulls the tides?',
    'Who wrote Hamlet?',
    'When was the harbour built?',
    'What is the boiling point of water?',
  ])('labels a short factual question simple: %s', (question) => {
    expect(heuristicLabel(question)).toBe('simple');
  });

  it.each([
    'How does the moon pull the tides twice a day?',
    'Why does the harbour freeze in winter but not in spring?',
  ])('labels a question asking for one explanation medium: %s', (question) => {
    expect(heuristicLabel(question)).toBe('medium');
  });

  it.each([
    'Why do spring tides and neap tides differ, how do the Sun and the Moon each pull on the oceans, and what explains the delay between the Moon passing overhead and high water?',
    'Compare the trade-offs of replication and sharding for a vector database, and explain when each should be preferred, considering cost, latency and consistency.',
  ])('labels a long question asking to compare or explain several things complex: %s', (question) => {
    expect(heuristicLabel(question)).toBe('complex');
  });

  it('never labels a longer question of the same kind simpler than a shorter one', () => {
    const labels = ['simple', 'medium', 'complex'];
    let previous = 0;
    for (let clauses = 1; clauses <= 8; clauses++) {
      const question = `Why ${Array.from({ length: clauses }, (_, index) => `the tide rises at harbour ${index}`).join(' and ')}?`;
      const rank = labels.indexOf(heuristicLabel(question));
      expect(rank).toBeGreaterThanOrEqual(previous);
      previous = rank;
    }
    expect(previous).toBe(2);
  });
});
