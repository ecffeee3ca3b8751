import { type CohereStandin, type CohereStandinOptions, startCohereStandin } from './cohere-standin.ts';
import { type OpenAIStandin, type OpenAIStandinOptions, startOpenAIStandin } from './openai-standin.ts';
import {
  type PineconeStandin,
  type PineconeStandinOptions,
  startPineconeStandin,
} from './pinecone-standin.ts';
import { useRunning } from './use-running.ts';

/**
 * One OpenAI stand-in for the tests of the calling describe block (see `useRunning`). Call it
 * before `useRagql`, so that the server's environment function can read `baseURL` and the stand-in
 * outlives the server.
 */
export function useOpenAIStandin(options: OpenAIStandinOptions = {}): OpenAIStandin {
  return useRunning(
    'the OpenAI stand-in',
    () => startOpenAIStandin(options),
    (standin) => standin.close(),
  );
}

/** One Cohere stand-in for the tests of the calling describe block, as `useOpenAIStandin`. */
export function useCohereStandin(options: CohereStandinOptions = {}): CohereStandin {
  return useRunning(
    'the Cohere stand-in',
    () => startCohereStandin(options),
    (standin) => standin.close(),
  );
}

/** One Pinecone stand-in (an index) for the tests of the calling describe block, as `useOpenAIStandin`. */
export function usePineconeStandin(options: PineconeStandinOptions = {}): PineconeStandin {
  return useRunning(
    'the Pinecone stand-in',
    () => startPineconeStandin(options),
    (standin) => standin.close(),
  );
}
