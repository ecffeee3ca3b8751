import type { Embedder } from '../ports.ts';
import {
  createCohereEmbedder,
  knownCohereDimensions,
  probeCohereDimensions,
} from '../providers/cohere-embedder.ts';
import {
  createOpenAIEmbedder,
  knownOpenAIDimensions,
  probeOpenAIDimensions,
} from '../providers/openai-embedder.ts';
import type { RagqlConfig } from './config.ts';

/** Local OpenAI-compatible servers (Ollama, llama.cpp) check no key, but the SDK needs one. */
export const placeholderApiKey = 'no-key-configured';

/**
 * The configured embedder, or null for keyword-only. Its dimensions come from the configuration,
 * else from the model's known size, else from one probe call (for models ragql does not know).
 */
export async function createEmbedder(config: RagqlConfig['embedder']): Promise<Embedder | null> {
  if (config.kind === 'none') return null;
  const requestDimensions = config.dimensions !== undefined;
  if (config.kind === 'openai') {
    const connection = {
      apiKey: config.apiKey ?? placeholderApiKey,
      baseURL: config.baseUrl,
      model: config.model,
    };
    const dimensions =
      config.dimensions ??
      knownOpenAIDimensions[config.model ?? 'text-embedding-3-small'] ??
      (await probeOpenAIDimensions(connection));
    return createOpenAIEmbedder({ ...connection, dimensions, requestDimensions });
  }
  const connection = { token: config.apiKey ?? '', baseUrl: config.baseUrl, model: config.model };
  const dimensions =
    config.dimensions ??
    knownCohereDimensions[config.model ?? 'embed-v4.0'] ??
    (await probeCohereDimensions(connection));
  return createCohereEmbedder({ ...connection, dimensions, requestDimensions });
}
