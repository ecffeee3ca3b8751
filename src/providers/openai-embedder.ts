/**
 * Embeddings from OpenAI, or from any server that speaks its API (Ollama, vLLM, LM Studio,
 * llama.cpp), through the `openai` SDK.
 */
import OpenAI, { APIError } from 'openai';
import { RagqlError } from '../errors.ts';
import type { Embedder, EmbedResult } from '../ports.ts';
import { checkedEmbedder, probedDimensions } from './embedding-checks.ts';

/** The vector size each OpenAI model returns when no `dimensions` is requested. */
export const knownOpenAIDimensions: Record<string, number> = {
  'text-embedding-3-small': 1536,
  'text-embedding-3-large': 3072,
  'text-embedding-ada-002': 1536,
};

export interface OpenAIEmbedderOptions {
  /** The API key; servers that check none still need a non-empty string. */
  apiKey: string;
  /**
   * The API's base URL, for any OpenAI-compatible server, e.g. `http://localhost:11434/v1`.
   * @default 'https://api.openai.com/v1'
   */
  baseURL?: string;
  /** @default 'text-embedding-3-small' */
  model?: string;
  /** The vector size the model returns; every vector is checked against it. */
  dimensions: number;
  /**
   * Send `dimensions` to the API so the model shortens its vectors. Only for dimensions the user
   * configured explicitly: many OpenAI-compatible servers reject the parameter.
   */
  requestDimensions: boolean;
  /** @default 2048 */
  maxEmbeddingsPerCall?: number;
  /** Retries of rate-limited, failed or timed-out requests, with backoff. @default 2 */
  maxRetries?: number;
}

export function createOpenAIEmbedder(options: OpenAIEmbedderOptions): Embedder {
  const client = createClient(options);
  const modelId = options.model ?? 'text-embedding-3-small';
  const { dimensions } = options;
  return checkedEmbedder({
    model: { vendor: 'OpenAI', provider: 'openai', modelId },
    dimensions,
    maxEmbeddingsPerCall: options.maxEmbeddingsPerCall ?? 2048,
    request: (texts, { signal }) =>
      requestEmbeddings(client, modelId, texts, {
        dimensions: options.requestDimensions ? dimensions : undefined,
        signal,
      }),
  });
}

/** Embeds one short text to learn the vector size of a model not in `knownOpenAIDimensions`. */
export async function probeOpenAIDimensions(
  options: Omit<OpenAIEmbedderOptions, 'dimensions' | 'requestDimensions'>,
): Promise<number> {
  const modelId = options.model ?? 'text-embedding-3-small';
  const { embeddings } = await requestEmbeddings(createClient(options), modelId, ['dimension probe'], {});
  return probedDimensions({ vendor: 'OpenAI', provider: 'openai', modelId }, embeddings);
}

function createClient(options: Omit<OpenAIEmbedderOptions, 'dimensions' | 'requestDimensions'>): OpenAI {
  // An explicit default keeps the SDK from reading OPENAI_BASE_URL behind the configuration's back.
  return new OpenAI({
    apiKey: options.apiKey,
    baseURL: options.baseURL ?? 'https://api.openai.com/v1',
    maxRetries: options.maxRetries ?? 2,
  });
}

/**
 * The response as the server sent it: base64 strings, as asked, or float arrays, which some
 * compatible servers send regardless; `usage` may be missing.
 */
interface EmbeddingsAsSent {
  data: readonly { index: number; embedding: unknown }[];
  usage?: { total_tokens: number } | undefined;
}

async function requestEmbeddings(
  client: OpenAI,
  modelId: string,
  texts: readonly string[],
  { dimensions, signal }: { dimensions?: number | undefined; signal?: AbortSignal | undefined },
): Promise<EmbedResult> {
  let response: EmbeddingsAsSent;
  try {
    response = await client.embeddings.create(
      {
        model: modelId,
        input: [...texts],
        // Asking for base64 explicitly (the SDK's default) makes the SDK hand the data over as
        // sent: its own decoding would misread the float arrays that some compatible servers
        // return regardless, as a vector a quarter of the size.
        encoding_format: 'base64',
        ...(dimensions === undefined ? {} : { dimensions }),
      },
      { signal },
    );
  } catch (error) {
    throw toUpstreamError(error, modelId, signal);
  }
  if (!Array.isArray(response.data) || response.data.length !== texts.length) {
    throw new RagqlError(
      'UPSTREAM_FAILED',
      `OpenAI embedding model '${modelId}' returned ${Array.isArray(response.data) ? response.data.length : 'no'} vectors for ${texts.length} texts`,
      { provider: 'openai', model: modelId },
    );
  }
  const inInputOrder = [...response.data].sort((a, b) => a.index - b.index);
  return {
    embeddings: inInputOrder.map((item) => decodeEmbedding(item.embedding, modelId)),
    // Some compatible servers omit `usage`.
    tokens: response.usage?.total_tokens,
  };
}

/** A vector as sent: base64 of little-endian float32s, or a plain array of numbers. */
function decodeEmbedding(embedding: unknown, modelId: string): Float32Array {
  if (Array.isArray(embedding)) return Float32Array.from(embedding as number[]);
  if (typeof embedding === 'string') {
    const bytes = Buffer.from(embedding, 'base64');
    if (bytes.byteLength % 4 === 0) {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      return Float32Array.from({ length: bytes.byteLength / 4 }, (_, index) =>
        view.getFloat32(index * 4, true),
      );
    }
  }
  throw new RagqlError(
    'UPSTREAM_FAILED',
    `OpenAI embedding model '${modelId}' returned a vector that is not float32s`,
    {
      provider: 'openai',
      model: modelId,
    },
  );
}

/** The caller's abort reason on abort; HTTP and connection failures as UPSTREAM_FAILED. */
function toUpstreamError(error: unknown, modelId: string, signal: AbortSignal | undefined): unknown {
  if (signal?.aborted) return signal.reason;
  if (!(error instanceof APIError)) return error;
  const wrapped = new RagqlError(
    'UPSTREAM_FAILED',
    // The API's own message stays in `cause` (logged): it can quote the key or the input.
    `OpenAI embedding request for model '${modelId}' failed (${error.status === undefined ? 'no response' : `HTTP ${error.status}`})`,
    {
      provider: 'openai',
      model: modelId,
      ...(error.status === undefined ? {} : { status: error.status }),
    },
  );
  wrapped.cause = error;
  return wrapped;
}
