import { setImmediate as nextTurn } from 'node:timers/promises';

/** Chunks a store prepares between two turns of the event loop. */
const chunksPerTurn = 250;

/**
 * For loops over every chunk of a write, which at ragql's limits (a 5 MB document is 7,000
 * chunks) take seconds of CPU: awaiting the function it returns once per chunk gives the event
 * loop a turn every `chunksPerTurn` chunks, so other requests are served meanwhile.
 */
export function eventLoopTurns(): () => Promise<void> {
  let calls = 0;
  return async () => {
    calls += 1;
    if (calls % chunksPerTurn === 0) await nextTurn();
  };
}
