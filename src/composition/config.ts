import { z } from 'zod';
import { isCidrRange } from '../files/address-policy.ts';
import { defaultFetchTimeoutMs } from '../files/page-fetcher.ts';
import { defaultParsingLimits, type ParsingLimits } from '../files/parsing-thread.ts';
import { defaultResilience, type ResilienceSettings } from '../gateway/resilient-chat-model.ts';
import { defaultIdleTimeoutMs } from '../providers/upstream-chat-stream.ts';
import { defaultAnswerLimits } from '../rag/answer.ts';
import { defaultChunkingOptions } from '../rag/chunking.ts';
import { defaultCandidateFactor, defaultPluginTimeoutMs } from '../rag/retrieval.ts';
import { defaultGrpcAddress } from '../stores/weaviate/weaviate-connection.ts';
import { defaultCollectionPrefix } from '../stores/weaviate/weaviate-store.ts';
import { validationProblems } from '../validation-problems.ts';

/**
 * ragql's one typed configuration, read from environment variables once at start-up.
 * A bad value stops the process with a message naming the variable and what it accepts.
 */
const optionalText = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

const positiveInteger = z.coerce.number().int().positive();

type Vendor = 'openai' | 'cohere';

/** The variables that say how to reach each vendor, shared by the embedder and the generator. */
const vendorVariables = {
  openai: { apiKey: 'OPENAI_API_KEY', baseUrl: 'OPENAI_BASE_URL', alternative: 'a local server' },
  cohere: { apiKey: 'CO_API_KEY', baseUrl: 'COHERE_BASE_URL', alternative: 'a compatible server' },
} as const satisfies Record<
  Vendor,
  { apiKey: keyof Environment; baseUrl: keyof Environment; alternative: string }
>;

/** How to reach a vendor: its key and base URL, when set. */
export interface VendorConnection {
  apiKey?: string;
  baseUrl?: string;
}

/** Every variable ragql reads and its default; README's configuration table is checked against it. */
export const environmentSchema = z
  .object({
    HOST: z.string().trim().min(1).default('127.0.0.1'),
    PORT: z.coerce.number().int().min(0).max(65535).default(4000),
    RAGQL_DATA_DIR: z.string().trim().min(1).default('./data'),
    RAGQL_STORE: z.enum(['embedded', 'weaviate', 'postgres', 'pinecone']).default('embedded'),
    DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
    WEAVIATE_URL: z.url().optional(),
    PINECONE_API_KEY: optionalText,
    PINECONE_INDEX_HOST: z.url({ protocol: /^https?$/ }).optional(),
    WEAVIATE_GRPC_URL: z
      .string()
      .trim()
      .regex(/^[^\s:/]+:\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:50051')
      .optional(),
    WEAVIATE_API_KEY: optionalText,
    RAGQL_WEAVIATE_CONSISTENCY: z.enum(['ONE', 'QUORUM', 'ALL']).optional(),
    RAGQL_WEAVIATE_REPLICATION_FACTOR: positiveInteger.default(1),
    RAGQL_WEAVIATE_COLLECTION_PREFIX: z
      .string()
      .trim()
      .regex(
        /^[A-Z][A-Za-z0-9_]{0,63}$/,
        'must start with a capital letter, then letters, digits or _ (a Weaviate class name)',
      )
      .default(defaultCollectionPrefix),
    RAGQL_EMBEDDER: z.enum(['none', 'openai', 'cohere']).default('none'),
    RAGQL_EMBEDDING_MODEL: optionalText,
    RAGQL_EMBEDDING_DIMENSIONS: positiveInteger.optional(),
    RAGQL_EMBEDDING_BATCH_SIZE: positiveInteger.default(64),
    RAGQL_SWITCH_CHECK_MS: positiveInteger
      .max(2_147_483_647, "must be at most 2147483647 (a timer's longest interval)")
      .default(5000),
    RAGQL_GENERATOR: z.enum(['extractive', 'openai', 'cohere']).default('extractive'),
    RAGQL_CHAT_MODEL: optionalText,
    RAGQL_CHAT_CONTEXT_WINDOW: positiveInteger.optional(),
    RAGQL_CHAT_TIMEOUT_MS: positiveInteger.default(defaultIdleTimeoutMs),
    RAGQL_CHAT_MAX_ATTEMPTS: positiveInteger.default(defaultResilience.maxAttempts),
    RAGQL_CHAT_RETRY_DELAY_MS: positiveInteger.default(defaultResilience.initialDelayMs),
    RAGQL_CHAT_RETRY_MAX_DELAY_MS: positiveInteger.default(defaultResilience.maxDelayMs),
    RAGQL_CHAT_FIRST_TOKEN_TIMEOUT_MS: positiveInteger.default(defaultResilience.firstTokenTimeoutMs),
    RAGQL_CIRCUIT_THRESHOLD: positiveInteger.default(defaultResilience.breakerThreshold),
    RAGQL_CIRCUIT_HALF_OPEN_MS: positiveInteger.default(defaultResilience.breakerHalfOpenAfterMs),
    RAGQL_ANSWER_MAX_TOKENS: positiveInteger.default(defaultAnswerLimits.maxOutputTokens),
    RAGQL_CONTEXT_MAX_TOKENS: positiveInteger.default(defaultAnswerLimits.maxSourceTokens),
    RAGQL_CHUNK_SIZE: positiveInteger.default(defaultChunkingOptions.chunkSize),
    RAGQL_CHUNK_OVERLAP: z.coerce.number().int().min(0).default(defaultChunkingOptions.chunkOverlap),
    RAGQL_MAX_DOCUMENT_BYTES: positiveInteger.default(5 * 1024 * 1024),
    RAGQL_MAX_DOCUMENTS_PER_REQUEST: positiveInteger.default(1000),
    RAGQL_PARSE_TIMEOUT_MS: positiveInteger.default(defaultParsingLimits.timeoutMs),
    RAGQL_PARSE_MAX_HEAP_MB: positiveInteger.default(defaultParsingLimits.maxHeapMb),
    RAGQL_PARSE_MAX_BUFFERS_MB: positiveInteger.default(defaultParsingLimits.maxBuffersMb),
    RAGQL_URL_TIMEOUT_MS: positiveInteger.default(defaultFetchTimeoutMs),
    RAGQL_URL_ALLOW_PRIVATE: optionalText.refine(
      (value) => value === undefined || value.split(',').every((range) => isCidrRange(range.trim())),
      'must be address ranges separated by commas, e.g. 10.0.0.0/8,127.0.0.1/32',
    ),
    RAGQL_CONFIG_FILE: optionalText,
    RAGQL_AUTH: z.enum(['off', 'on']).default('off'),
    RAGQL_INTROSPECTION: z.enum(['on', 'off']).default('on'),
    RAGQL_GRAPHIQL: z.enum(['on', 'off']).default('on'),
    RAGQL_UI: z.enum(['on', 'off']).default('on'),
    RAGQL_CORS_ORIGINS: z
      .string()
      .trim()
      .refine(
        (value) =>
          value === '*' || value === 'none' || value.split(',').every((origin) => isOrigin(origin.trim())),
        'must be *, none, or origins separated by commas, e.g. https://app.example.com,http://localhost:3000',
      )
      .default('*'),
    RAGQL_MAX_BODY_BYTES: positiveInteger.default(64 * 1024 * 1024),
    RAGQL_METRICS_TOKEN: optionalText,
    RAGQL_METRICS_OPERATION_NAMES: z.enum(['off', 'on']).default('off'),
    RAGQL_PLUGINS_DIR: optionalText,
    RAGQL_PLUGIN_TIMEOUT_MS: positiveInteger.default(defaultPluginTimeoutMs),
    RAGQL_RERANK_CANDIDATES: positiveInteger.default(defaultCandidateFactor),
    RAGQL_CROSS_ENCODER_MODEL: z.string().trim().min(1).default('Xenova/ms-marco-MiniLM-L-6-v2'),
    RAGQL_COHERE_RERANK_MODEL: z.string().trim().min(1).default('rerank-v3.5'),
    OPENAI_API_KEY: optionalText,
    OPENAI_BASE_URL: z.url().optional(),
    CO_API_KEY: optionalText,
    COHERE_BASE_URL: z.url().optional(),
    REDIS_URL: optionalText,
    RAGQL_CACHE_REDIS_TIMEOUT_MS: positiveInteger.default(100),
    RAGQL_EMBEDDING_CACHE: z.enum(['on', 'off']).default('on'),
    RAGQL_EMBEDDING_CACHE_TTL_SECONDS: positiveInteger.default(7 * 24 * 3600),
    RAGQL_EMBEDDING_CACHE_ENTRIES: positiveInteger.default(20_000),
    RAGQL_ANSWER_CACHE: z.enum(['on', 'off']).default('on'),
    RAGQL_ANSWER_CACHE_TTL_SECONDS: positiveInteger.default(3600),
    RAGQL_ANSWER_CACHE_ENTRIES: positiveInteger.default(1000),
    RAGQL_SIMILAR_ANSWER_CACHE: z.enum(['on', 'off']).default('off'),
    RAGQL_SIMILAR_ANSWER_THRESHOLD: z.coerce.number().gt(0).max(1).default(0.95),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .superRefine((env, context) => {
    if (env.RAGQL_MAX_BODY_BYTES <= env.RAGQL_MAX_DOCUMENT_BYTES) {
      context.addIssue({
        code: 'custom',
        path: ['RAGQL_MAX_BODY_BYTES'],
        message: `must be larger than RAGQL_MAX_DOCUMENT_BYTES (${env.RAGQL_MAX_DOCUMENT_BYTES}), or no document that large could be sent`,
      });
    }
    if (env.RAGQL_STORE === 'weaviate' && !env.WEAVIATE_URL) {
      context.addIssue({
        code: 'custom',
        path: ['WEAVIATE_URL'],
        message:
          "is required when RAGQL_STORE=weaviate (Weaviate's HTTP address, e.g. http://127.0.0.1:8080)",
      });
    }
    if (env.RAGQL_STORE === 'postgres' && !env.DATABASE_URL) {
      context.addIssue({
        code: 'custom',
        path: ['DATABASE_URL'],
        message:
          'is required when RAGQL_STORE=postgres (a PostgreSQL URL, e.g. postgres://ragql:secret@127.0.0.1:5432/ragql)',
      });
    }
    if (env.RAGQL_STORE === 'pinecone') {
      for (const [variable, what] of [
        ['PINECONE_API_KEY', 'a Pinecone API key'],
        [
          'PINECONE_INDEX_HOST',
          "the index's host, as the Pinecone console shows it, e.g. https://docs-abc123.svc.aped-4627-b74a.pinecone.io",
        ],
      ] as const) {
        if (!env[variable]) {
          context.addIssue({
            code: 'custom',
            path: [variable],
            message: `is required when RAGQL_STORE=pinecone (${what})`,
          });
        }
      }
    }
    if (env.RAGQL_CHUNK_OVERLAP >= env.RAGQL_CHUNK_SIZE) {
      context.addIssue({
        code: 'custom',
        path: ['RAGQL_CHUNK_OVERLAP'],
        message: `must be smaller than RAGQL_CHUNK_SIZE (${env.RAGQL_CHUNK_SIZE})`,
      });
    }
    for (const [variable, secret] of secretsIn(env)) {
      if (secret.length < minimumSecretLength) {
        context.addIssue({
          code: 'custom',
          path: [variable],
          message: `holds a secret of ${secret.length} characters; at least ${minimumSecretLength} are needed to keep it out of the logs (a local server that needs no key: leave the variable unset)`,
        });
      }
    }
    for (const selector of ['RAGQL_EMBEDDER', 'RAGQL_GENERATOR'] as const) {
      const vendor = env[selector];
      if (vendor !== 'openai' && vendor !== 'cohere') continue;
      const { apiKey, baseUrl, alternative } = vendorVariables[vendor];
      if (!env[apiKey] && !env[baseUrl]) {
        context.addIssue({
          code: 'custom',
          path: [apiKey],
          message: `is required when ${selector}=${vendor} (or set ${baseUrl} to ${alternative})`,
        });
      }
    }
  });

export type Environment = z.infer<typeof environmentSchema>;

function connectionTo(vendor: Vendor, env: Environment): VendorConnection {
  return { apiKey: env[vendorVariables[vendor].apiKey], baseUrl: env[vendorVariables[vendor].baseUrl] };
}

/** What the HTTP server exposes and accepts. */
export interface HttpSettings {
  /** Whether clients may introspect the schema (switch off in production if it is private). */
  introspection: boolean;
  /** Whether GET /graphql from a browser serves GraphiQL. */
  graphiql: boolean;
  /** The answer page at `/`. */
  answerPage: boolean;
  /** Origins browsers may call from: `*` any, `none` no CORS headers at all, or a list. */
  corsOrigins: '*' | 'none' | string[];
  /** The largest request body (HTTP, counted as it streams in) or WebSocket message, in bytes. */
  maxBodyBytes: number;
  /** When set, GET /metrics needs `Authorization: Bearer <token>`; absent, /metrics is open. */
  metricsToken?: string;
}

export interface RagqlConfig {
  host: string;
  port: number;
  dataDir: string;
  store:
    | { kind: 'embedded' }
    | {
        kind: 'postgres';
        /** postgres://user:password@host:5432/database */
        connectionString: string;
      }
    | {
        kind: 'pinecone';
        apiKey: string;
        /** The index's data-plane host, e.g. https://docs-abc123.svc.aped-4627-b74a.pinecone.io */
        indexHost: string;
      }
    | {
        kind: 'weaviate';
        /** e.g. http://127.0.0.1:8080 */
        httpUrl: string;
        /** host:port; by default `defaultGrpcAddress` (the HTTP host, on Weaviate's default gRPC port). */
        grpcAddress: string;
        apiKey?: string;
        /** Applied to every read and write; absent: Weaviate's default (QUORUM). */
        consistencyLevel?: 'ONE' | 'QUORUM' | 'ALL';
        /** Copies of each shard when ragql creates its collections. */
        replicationFactor: number;
        collectionPrefix: string;
      };
  embedder:
    | { kind: 'none' }
    | ({
        kind: Vendor;
        /** Absent: the provider's default model. */
        model?: string;
        /** Absent: the model's known dimensions, else one probe call at start-up. */
        dimensions?: number;
      } & VendorConnection);
  embeddingBatchSize: number;
  /** How often a process reads the record of generations, to follow another process's switch. */
  switchCheckMs: number;
  generator:
    | { kind: 'extractive' }
    | ({
        kind: Vendor;
        /** Absent: the provider's default model. */
        model?: string;
        /** Absent: the model's known window, else 8192. */
        contextWindow?: number;
      } & VendorConnection);
  /** How to reach each vendor, for chat models the config file adds beside the generator. */
  vendors: Record<Vendor, VendorConnection>;
  /** Retries, timeouts and circuit breakers around every chat model (src/gateway/). */
  resilience: ResilienceSettings;
  /** Longest wait for any chat model's response (the generator's or the config file's) to start or continue. */
  chatIdleTimeoutMs: number;
  /** Token budgets of one answer: the answer itself, and the sources in its prompt. */
  answers: { maxOutputTokens: number; maxSourceTokens: number };
  chunking: { chunkSize: number; chunkOverlap: number };
  plugins: PluginSettings;
  /** The config file (see src/composition/config-file.ts): plugins, tiers and API keys. */
  configFile?: string;
  /** With `required`, every operation needs an API key from the config file. */
  auth: { required: boolean };
  http: HttpSettings;
  /** What the metrics may say: operation names are the clients' own strings. */
  metrics: MetricsSettings;
  limits: { maxDocumentBytes: number; maxDocumentsPerRequest: number };
  /** Files read into documents (uploads, `ragql ingest`): none larger than a request body may be. */
  files: {
    maxFileBytes: number;
    parsing: ParsingLimits;
    /** Fetching pages by URL: private address ranges fetched nonetheless, and the time limit. */
    urls: { allowedPrivateRanges: string[]; timeoutMs: number };
  };
  redisUrl?: string;
  /** The longest a call to the caches' Redis may take before they carry on without it. */
  cacheRedisTimeoutMs: number;
  /** Vectors already made are reused (in process, and through Redis when REDIS_URL is set). */
  embeddingCache: CacheSettings;
  /** Answers are reused for the same tenant, model and prompt (in process, and through Redis). */
  answerCache: CacheSettings;
  /**
   * Answers are reused for a question this close (cosine) to an earlier one of the same tenant,
   * on the same sources, with the same model; kept as the answer cache keeps answers. Needs an
   * embedder and the answer cache.
   */
  similarAnswers: { enabled: boolean; threshold: number };
  logLevel: Environment['LOG_LEVEL'];
  /** The credentials among these settings, which logs must never contain (see createLogger). */
  secrets: string[];
}

export interface MetricsSettings {
  /** Label operations with their names (else one placeholder): only when every client is trusted. */
  operationNames: boolean;
}

export interface CacheSettings {
  enabled: boolean;
  ttlMs: number;
  /** Entries the in-process layer keeps. */
  maxEntries: number;
}

/** Where plugins come from besides the built-ins, and how they run. */
export interface PluginSettings {
  /** A folder whose modules each default-export a plugin (or a list of plugins). */
  directory?: string;
  /** The longest one plugin step may take. */
  timeoutMs: number;
  /** With a reranker, the retriever fetches this many candidates per hit kept. */
  candidateFactor: number;
  /** The Cohere reranker, registered when Cohere can be reached (CO_API_KEY or COHERE_BASE_URL). */
  cohereRerank: ({ model: string } & VendorConnection) | null;
  /** The cross-encoder reranker's model: a Hugging Face id or a local folder. */
  crossEncoder: { model: string };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and validates the configuration; throws a ConfigError listing every bad variable. */
export function loadConfig(environment: NodeJS.ProcessEnv = process.env): RagqlConfig {
  const parsed = environmentSchema.safeParse(environment);
  if (!parsed.success) {
    const problems = validationProblems(parsed.error).map((problem) => `  ${problem}`);
    throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
  }
  const env = parsed.data;
  return {
    host: env.HOST,
    port: env.PORT,
    dataDir: env.RAGQL_DATA_DIR,
    store:
      env.RAGQL_STORE === 'weaviate' && env.WEAVIATE_URL
        ? {
            kind: 'weaviate',
            httpUrl: env.WEAVIATE_URL,
            grpcAddress: env.WEAVIATE_GRPC_URL ?? defaultGrpcAddress(env.WEAVIATE_URL),
            apiKey: env.WEAVIATE_API_KEY,
            consistencyLevel: env.RAGQL_WEAVIATE_CONSISTENCY,
            replicationFactor: env.RAGQL_WEAVIATE_REPLICATION_FACTOR,
            collectionPrefix: env.RAGQL_WEAVIATE_COLLECTION_PREFIX,
          }
        : env.RAGQL_STORE === 'postgres' && env.DATABASE_URL
          ? { kind: 'postgres', connectionString: env.DATABASE_URL }
          : env.RAGQL_STORE === 'pinecone' && env.PINECONE_API_KEY && env.PINECONE_INDEX_HOST
            ? { kind: 'pinecone', apiKey: env.PINECONE_API_KEY, indexHost: env.PINECONE_INDEX_HOST }
            : { kind: 'embedded' },
    embedder:
      env.RAGQL_EMBEDDER === 'none'
        ? { kind: 'none' }
        : {
            kind: env.RAGQL_EMBEDDER,
            model: env.RAGQL_EMBEDDING_MODEL,
            dimensions: env.RAGQL_EMBEDDING_DIMENSIONS,
            ...connectionTo(env.RAGQL_EMBEDDER, env),
          },
    embeddingBatchSize: env.RAGQL_EMBEDDING_BATCH_SIZE,
    switchCheckMs: env.RAGQL_SWITCH_CHECK_MS,
    generator:
      env.RAGQL_GENERATOR === 'extractive'
        ? { kind: 'extractive' }
        : {
            kind: env.RAGQL_GENERATOR,
            model: env.RAGQL_CHAT_MODEL,
            contextWindow: env.RAGQL_CHAT_CONTEXT_WINDOW,
            ...connectionTo(env.RAGQL_GENERATOR, env),
          },
    vendors: { openai: connectionTo('openai', env), cohere: connectionTo('cohere', env) },
    chatIdleTimeoutMs: env.RAGQL_CHAT_TIMEOUT_MS,
    resilience: {
      maxAttempts: env.RAGQL_CHAT_MAX_ATTEMPTS,
      initialDelayMs: env.RAGQL_CHAT_RETRY_DELAY_MS,
      maxDelayMs: env.RAGQL_CHAT_RETRY_MAX_DELAY_MS,
      firstTokenTimeoutMs: env.RAGQL_CHAT_FIRST_TOKEN_TIMEOUT_MS,
      breakerThreshold: env.RAGQL_CIRCUIT_THRESHOLD,
      breakerHalfOpenAfterMs: env.RAGQL_CIRCUIT_HALF_OPEN_MS,
    },
    answers: { maxOutputTokens: env.RAGQL_ANSWER_MAX_TOKENS, maxSourceTokens: env.RAGQL_CONTEXT_MAX_TOKENS },
    chunking: { chunkSize: env.RAGQL_CHUNK_SIZE, chunkOverlap: env.RAGQL_CHUNK_OVERLAP },
    plugins: {
      directory: env.RAGQL_PLUGINS_DIR,
      timeoutMs: env.RAGQL_PLUGIN_TIMEOUT_MS,
      candidateFactor: env.RAGQL_RERANK_CANDIDATES,
      crossEncoder: { model: env.RAGQL_CROSS_ENCODER_MODEL },
      cohereRerank:
        env.CO_API_KEY || env.COHERE_BASE_URL
          ? { model: env.RAGQL_COHERE_RERANK_MODEL, ...connectionTo('cohere', env) }
          : null,
    },
    configFile: env.RAGQL_CONFIG_FILE,
    auth: { required: env.RAGQL_AUTH === 'on' },
    http: {
      introspection: env.RAGQL_INTROSPECTION === 'on',
      graphiql: env.RAGQL_GRAPHIQL === 'on',
      answerPage: env.RAGQL_UI === 'on',
      corsOrigins:
        env.RAGQL_CORS_ORIGINS === '*' || env.RAGQL_CORS_ORIGINS === 'none'
          ? env.RAGQL_CORS_ORIGINS
          : env.RAGQL_CORS_ORIGINS.split(',').map((origin) => origin.trim()),
      maxBodyBytes: env.RAGQL_MAX_BODY_BYTES,
      metricsToken: env.RAGQL_METRICS_TOKEN,
    },
    metrics: { operationNames: env.RAGQL_METRICS_OPERATION_NAMES === 'on' },
    limits: {
      maxDocumentBytes: env.RAGQL_MAX_DOCUMENT_BYTES,
      maxDocumentsPerRequest: env.RAGQL_MAX_DOCUMENTS_PER_REQUEST,
    },
    files: {
      maxFileBytes: env.RAGQL_MAX_BODY_BYTES,
      parsing: {
        timeoutMs: env.RAGQL_PARSE_TIMEOUT_MS,
        maxHeapMb: env.RAGQL_PARSE_MAX_HEAP_MB,
        maxBuffersMb: env.RAGQL_PARSE_MAX_BUFFERS_MB,
      },
      urls: {
        allowedPrivateRanges: (env.RAGQL_URL_ALLOW_PRIVATE ?? '')
          .split(',')
          .map((range) => range.trim())
          .filter((range) => range !== ''),
        timeoutMs: env.RAGQL_URL_TIMEOUT_MS,
      },
    },
    redisUrl: env.REDIS_URL,
    cacheRedisTimeoutMs: env.RAGQL_CACHE_REDIS_TIMEOUT_MS,
    embeddingCache: {
      enabled: env.RAGQL_EMBEDDING_CACHE === 'on',
      ttlMs: env.RAGQL_EMBEDDING_CACHE_TTL_SECONDS * 1000,
      maxEntries: env.RAGQL_EMBEDDING_CACHE_ENTRIES,
    },
    answerCache: {
      enabled: env.RAGQL_ANSWER_CACHE === 'on',
      ttlMs: env.RAGQL_ANSWER_CACHE_TTL_SECONDS * 1000,
      maxEntries: env.RAGQL_ANSWER_CACHE_ENTRIES,
    },
    similarAnswers: {
      enabled: env.RAGQL_ANSWER_CACHE === 'on' && env.RAGQL_SIMILAR_ANSWER_CACHE === 'on',
      threshold: env.RAGQL_SIMILAR_ANSWER_THRESHOLD,
    },
    logLevel: env.LOG_LEVEL,
    secrets: [...new Set(secretsIn(env).map(([, secret]) => secret))],
  };
}

/**
 * The shortest secret ragql accepts. Secrets are scrubbed from the logs whatever their length, but
 * a one to three character secret, scrubbed wherever it stands as a word, would censor ordinary
 * words and numbers of every line.
 */
export const minimumSecretLength = 4;

/** The variables that hold URLs, whose user info may carry a password. */
const urlVariables = [
  'REDIS_URL',
  'WEAVIATE_URL',
  'DATABASE_URL',
  'OPENAI_BASE_URL',
  'COHERE_BASE_URL',
] as const;

/** Every credential in the configuration, by the variable that holds it. */
function secretsIn(env: Environment): [keyof Environment, string][] {
  const secrets: [keyof Environment, string | undefined][] = [
    ['OPENAI_API_KEY', env.OPENAI_API_KEY],
    ['CO_API_KEY', env.CO_API_KEY],
    ['WEAVIATE_API_KEY', env.WEAVIATE_API_KEY],
    ['PINECONE_API_KEY', env.PINECONE_API_KEY],
    ['RAGQL_METRICS_TOKEN', env.RAGQL_METRICS_TOKEN],
    ...urlVariables.flatMap((variable) =>
      passwordFormsIn(env[variable]).map((password): [keyof Environment, string] => [variable, password]),
    ),
  ];
  return secrets.filter((entry): entry is [keyof Environment, string] => Boolean(entry[1]));
}

/**
 * The password in a URL such as redis://user:password@host, as written (percent-encoded) and
 * decoded, since a log line may quote either; and in its `password` query parameter, which
 * node-postgres reads from a DATABASE_URL too.
 */
function passwordFormsIn(url: string | undefined): string[] {
  if (!url) return [];
  try {
    const parsed = new URL(url);
    const forms = [
      parsed.password,
      decodeURIComponent(parsed.password),
      parsed.searchParams.get('password') ?? '',
    ];
    const query = url.match(/[?&]password=([^&#]*)/)?.[1];
    if (query) forms.push(query);
    return [...new Set(forms.filter(Boolean))];
  } catch {
    return [];
  }
}

/** An origin as browsers send it: scheme, host and optional port, nothing else. */
function isOrigin(value: string): boolean {
  try {
    return new URL(value).origin === value;
  } catch {
    return false;
  }
}
