import { afterAll, beforeAll } from 'vitest';
import { type CohereStandin, type CohereStandinOptions, startCohereStandin } from './cohere-standin.ts';
import { type OpenAIStandin, type OpenAIStandinOptions, startOpenAIStandin } from './openai-standin.ts';

/**
 * One OpenAI stand-in for the tests of the calling describe block: started in a beforeAll, closed
 * in an afterAll. Call it before `useRagql`, so that the server's environment function can read
 * `baseURL` and the stand-in outlives the server (vitest runs after-hooks in reverse order).
 */
export function useOpenAIStandin(options: OpenAIStandinOptions = {}): OpenAIStandin {
  return useStandin('the OpenAI stand-in', () => startOpenAIStandin(options));
}

/** One Cohere stand-in for the tests of the calling describe block, as `useOpenAIStandin`. */
export function useCohereStandin(options: CohereStandinOptions = {}): CohereStandin {
  return useStandin('the Cohere stand-in', () => startCohereStandin(options));
}

/**
 * A handle on the stand-in that runs now. It exists before the stand-in does (the describe block
 * hands it to hooks at collection time), so each read goes to the running one, and a read outside
 * the hooks and tests throws instead of giving `undefined`.
 */
function useStandin<Standin extends { close(): Promise<void> }>(
  name: string,
  start: () => Promise<Standin>,
): Standin {
  let running: Standin | undefined;
  beforeAll(async () => {
    running = await start();
  });
  afterAll(async () => {
    const closing = running;
    running = undefined;
    await closing?.close();
  });
  return new Proxy({} as Standin, {
    get(_handle, field) {
      if (!running) throw new Error(`${name} is not running: it starts in a beforeAll, and was closed`);
      return Reflect.get(running, field);
    },
  });
}
