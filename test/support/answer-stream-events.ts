import type { ExecutionResult } from 'graphql';
import type { AnswerStreamSubscription } from '../generated/graphql.ts';

export type AnswerStreamEvent = AnswerStreamSubscription['answerStream'];

/** The events of an answerStream subscription's results; a result with errors throws them. */
export function answerStreamEvents(
  results: readonly ExecutionResult<AnswerStreamSubscription>[],
): AnswerStreamEvent[] {
  return results.map((result) => {
    if (result.errors?.length || !result.data) throw new Error(JSON.stringify(result.errors));
    return result.data.answerStream;
  });
}
