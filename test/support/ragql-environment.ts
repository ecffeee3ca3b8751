/**
 * The environment variables most end-to-end suites give ragql, written once: authentication with a
 * config file of keys (and tiers), and embeddings and answers from the OpenAI stand-in.
 */
import type { ConfigFileContents } from '../../src/composition/config-file.ts';
import { writeConfigFile } from './config-file.ts';
import type { OpenAIStandin } from './openai-standin.ts';

/** Authentication on, with the keys (and tiers) of a config file written into `dataDir`. */
export function withAuthentication(
  dataDir: string,
  contents: Omit<ConfigFileContents, 'plugins'>,
): Record<string, string> {
  return { RAGQL_AUTH: 'on', RAGQL_CONFIG_FILE: writeConfigFile(dataDir, contents) };
}

/** Embeddings of `dimensions` from the stand-in, through the real openai SDK. */
export function withStandinEmbeddings(standin: OpenAIStandin, dimensions: number): Record<string, string> {
  return {
    RAGQL_EMBEDDER: 'openai',
    RAGQL_EMBEDDING_MODEL: 'standin-embedding',
    RAGQL_EMBEDDING_DIMENSIONS: String(dimensions),
    OPENAI_BASE_URL: standin.baseURL,
  };
}

/** Answers from the stand-in's chat model, through the real openai SDK. */
export function withStandinChat(standin: OpenAIStandin): Record<string, string> {
  return {
    RAGQL_GENERATOR: 'openai',
    RAGQL_CHAT_MODEL: 'standin-chat',
    OPENAI_API_KEY: 'sk-test',
    OPENAI_BASE_URL: standin.baseURL,
  };
}

/**
 * The chat gateway on the stand-in, as the gateway suites run it: gpt-4o-mini by default (other
 * models come from the config file), usage in the machine's Redis, every question asking a model
 * (no answer cache), and retries without waiting.
 */
export function withStandinGateway(standin: OpenAIStandin): Record<string, string> {
  return {
    RAGQL_GENERATOR: 'openai',
    RAGQL_CHAT_MODEL: 'gpt-4o-mini',
    OPENAI_API_KEY: 'sk-test-key',
    OPENAI_BASE_URL: standin.baseURL,
    REDIS_URL: 'redis://127.0.0.1:6379',
    RAGQL_ANSWER_CACHE: 'off',
    RAGQL_CHAT_RETRY_DELAY_MS: '5',
  };
}
