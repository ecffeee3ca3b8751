import { z } from 'zod';

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

const environmentSchema = z
  .object({
    HOST: z.string().trim().min(1).default('127.0.0.1'),
    PORT: z.coerce.number().int().min(0).max(65535).default(4000),
    RAGQL_DATA_DIR: z.string().trim().min(1).default('./data'),
    RAGQL_STORE: z.enum(['embedded']).default('embedded'),
    RAGQL_EMBEDDER: z.enum(['none', 'openai', 'cohere']).default('none'),
    RAGQL_EMBEDDING_MODEL: optionalText,
    RAGQL_EMBEDDING_DIMENSIONS: positiveInteger.optional(),
    RAGQL_EMBEDDING_BATCH_SIZE: positiveInteger.default(64),
    RAGQL_GENERATOR: z.enum(['extractive']).default('extractive'),
    RAGQL_CHAT_MODEL: optionalText,
    RAGQL_CHUNK_SIZE: positiveInteger.default(400),
    RAGQL_CHUNK_OVERLAP: z.coerce.number().int().min(0).default(60),
    RAGQL_MAX_DOCUMENT_BYTES: positiveInteger.default(5 * 1024 * 1024),
    RAGQL_MAX_DOCUMENTS_PER_REQUEST: positiveInteger.default(1000),
    OPENAI_API_KEY: optionalText,
    OPENAI_BASE_URL: z.url().optional(),
    CO_API_KEY: optionalText,
    COHERE_BASE_URL: z.url().optional(),
    REDIS_URL: optionalText,
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .superRefine((env, context) => {
    if (env.RAGQL_CHUNK_OVERLAP >= env.RAGQL_CHUNK_SIZE) {
      context.addIssue({
        code: 'custom',
        path: ['RAGQL_CHUNK_OVERLAP'],
        message: `must be smaller than RAGQL_CHUNK_SIZE (${env.RAGQL_CHUNK_SIZE})`,
      });
    }
    if (env.RAGQL_EMBEDDER === 'openai' && !env.OPENAI_API_KEY && !env.OPENAI_BASE_URL) {
      context.addIssue({
        code: 'custom',
        path: ['OPENAI_API_KEY'],
        message: 'is required when RAGQL_EMBEDDER=openai (or set OPENAI_BASE_URL to a local server)',
      });
    }
    if (env.RAGQL_EMBEDDER === 'cohere' && !env.CO_API_KEY && !env.COHERE_BASE_URL) {
      context.addIssue({
        code: 'custom',
        path: ['CO_API_KEY'],
        message: 'is required when RAGQL_EMBEDDER=cohere (or set COHERE_BASE_URL to a compatible server)',
      });
    }
  });

export type Environment = z.infer<typeof environmentSchema>;

export interface RagqlConfig {
  host: string;
  port: number;
  dataDir: string;
  store: 'embedded';
  embedder:
    | { kind: 'none' }
    | {
        kind: 'openai' | 'cohere';
        /** Absent: the provider's default model. */
        model?: string;
        /** Absent: the model's known dimensions, else one probe call at start-up. */
        dimensions?: number;
        apiKey?: string;
        baseUrl?: string;
      };
  embeddingBatchSize: number;
  generator: { kind: 'extractive' };
  chunking: { chunkSize: number; chunkOverlap: number };
  limits: { maxDocumentBytes: number; maxDocumentsPerRequest: number };
  redisUrl?: string;
  logLevel: Environment['LOG_LEVEL'];
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and validates the configuration; throws a ConfigError listing every bad variable. */
export function loadConfig(environment: NodeJS.ProcessEnv = process.env): RagqlConfig {
  const parsed = environmentSchema.safeParse(environment);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
  }
  const env = parsed.data;
  return {
    host: env.HOST,
    port: env.PORT,
    dataDir: env.RAGQL_DATA_DIR,
    store: env.RAGQL_STORE,
    embedder:
      env.RAGQL_EMBEDDER === 'none'
        ? { kind: 'none' }
        : {
            kind: env.RAGQL_EMBEDDER,
            model: env.RAGQL_EMBEDDING_MODEL,
            dimensions: env.RAGQL_EMBEDDING_DIMENSIONS,
            apiKey: env.RAGQL_EMBEDDER === 'openai' ? env.OPENAI_API_KEY : env.CO_API_KEY,
            baseUrl: env.RAGQL_EMBEDDER === 'openai' ? env.OPENAI_BASE_URL : env.COHERE_BASE_URL,
          },
    embeddingBatchSize: env.RAGQL_EMBEDDING_BATCH_SIZE,
    generator: { kind: env.RAGQL_GENERATOR },
    chunking: { chunkSize: env.RAGQL_CHUNK_SIZE, chunkOverlap: env.RAGQL_CHUNK_OVERLAP },
    limits: {
      maxDocumentBytes: env.RAGQL_MAX_DOCUMENT_BYTES,
      maxDocumentsPerRequest: env.RAGQL_MAX_DOCUMENTS_PER_REQUEST,
    },
    redisUrl: env.REDIS_URL,
    logLevel: env.LOG_LEVEL,
  };
}
