/** Embeddings from Cohere's v2 API through the `cohere-ai` SDK. */
import { type Cohere, CohereClientV2, CohereError, CohereTimeoutError } from 'cohere-ai';
import { RagqlError } from '../errors.ts';
import type { Embedder, EmbeddingPurpose, EmbedResult } from '../ports.ts';
import { checkedEmbedder, probedDimensions } from './embedding-checks.ts';

/** The vector size each Cohere model returns when no `outputDimension` is requested. */
export const knownCohereDimensions: Record<string, number> = {
  'embed-v4.0': 1536,
  'embed-english-v3.0': 1024,
  'embed-multilingual-v3.0': 1024,
  'embed-english-light-v3.0': 384,
  'embed-multilingual-light-v3.0': 384,
};

export interface CohereEmbedderOptions {
  /** The API key (`CO_API_KEY`). An empty string sends no `Authorization` header, for proxies. */
  token: string;
  /**
   * The API's root URL (`COHERE_BASE_URL`), without `/v2`: the SDK appends `v2/embed`.
   * @default 'https://api.cohere.com'
   */
  baseUrl?: string;
  /** @default 'embed-v4.0' */
  model?: string;
  /** The vector size the model returns; every vector is checked against it. */
  dimensions: number;
  /**
   * Send `output_dimension` so the model shortens its vectors. Only for dimensions the user
   * configured explicitly: only some models (embed-v4.0) accept it.
   */
  requestDimensions: boolean;
  /** @default 96 (Cohere's limit per request) */
  maxEmbeddingsPerCall?: number;
  /** Retries of rate-limited (408, 429) and failed (5xx) requests, with backoff. @default 2 */
  maxRetries?: number;
}

const inputTypes = { document: 'search_document', query: 'search_query' } as const satisfies Record<
  EmbeddingPurpose,
  string
>;

export function createCohereEmbedder(options: CohereEmbedderOptions): Embedder {
  const client = createClient(options);
  const modelId = options.model ?? 'embed-v4.0';
  const { dimensions } = options;
  return checkedEmbedder({
    model: { vendor: 'Cohere', provider: 'cohere', modelId },
    dimensions,
    maxEmbeddingsPerCall: options.maxEmbeddingsPerCall ?? 96,
    request: (texts, { purpose, signal }) =>
      requestEmbeddings(client, modelId, texts, {
        purpose,
        dimensions: options.requestDimensions ? dimensions : undefined,
        signal,
      }),
  });
}

/** Embeds one short text to learn the vector size of a model not in `knownCohereDimensions`. */
export async function probeCohereDimensions(
  options: Omit<CohereEmbedderOptions, 'dimensions' | 'requestDimensions'>,
): Promise<number> {
  const modelId = options.model ?? 'embed-v4.0';
  const { embeddings } = await requestEmbeddings(createClient(options), modelId, ['dimension probe'], {
    purpose: 'query',
  });
  return probedDimensions({ vendor: 'Cohere', provider: 'cohere', modelId }, embeddings);
}

function createClient(
  options: Omit<CohereEmbedderOptions, 'dimensions' | 'requestDimensions'>,
): CohereClientV2 {
  return new CohereClientV2({
    token: options.token,
    baseUrl: options.baseUrl ?? 'https://api.cohere.com',
    maxRetries: options.maxRetries ?? 2,
  });
}

async function requestEmbeddings(
  client: CohereClientV2,
  modelId: string,
  texts: readonly string[],
  {
    purpose,
    dimensions,
    signal,
  }: { purpose: EmbeddingPurpose; dimensions?: number | undefined; signal?: AbortSignal | undefined },
): Promise<EmbedResult> {
  let response: Cohere.EmbedByTypeResponse;
  try {
    response = await client.embed(
      {
        model: modelId,
        texts: [...texts],
        inputType: inputTypes[purpose],
        embeddingTypes: ['float'],
        ...(dimensions === undefined ? {} : { outputDimension: dimensions }),
      },
      { abortSignal: signal },
    );
  } catch (error) {
    throw toUpstreamError(error, modelId, signal);
  }
  const vectors = response.embeddings.float;
  if (!Array.isArray(vectors) || vectors.length !== texts.length) {
    throw new RagqlError(
      'UPSTREAM_FAILED',
      `Cohere embedding model '${modelId}' returned ${Array.isArray(vectors) ? vectors.length : 'no'} float vectors for ${texts.length} texts`,
      { provider: 'cohere', model: modelId },
    );
  }
  return {
    embeddings: vectors.map((vector) => Float32Array.from(vector)),
    tokens: response.meta?.billedUnits?.inputTokens,
  };
}

/** The caller's abort reason on abort; HTTP, timeout and connection failures as UPSTREAM_FAILED. */
function toUpstreamError(error: unknown, modelId: string, signal: AbortSignal | undefined): unknown {
  // The SDK reports an abort as a CohereError ("The user aborted a request").
  if (signal?.aborted) return signal.reason;
  if (!(error instanceof CohereError || error instanceof CohereTimeoutError)) return error;
  const status = error instanceof CohereError ? error.statusCode : undefined;
  const wrapped = new RagqlError(
    'UPSTREAM_FAILED',
    // The API's own message stays in `cause` (logged): it can quote the key or the input.
    `Cohere embedding request for model '${modelId}' failed (${status === undefined ? 'no response' : `HTTP ${status}`})`,
    { provider: 'cohere', model: modelId, ...(status === undefined ? {} : { status }) },
  );
  wrapped.cause = error;
  return wrapped;
}
