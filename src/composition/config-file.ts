import { resolve } from 'node:path';
import { z } from 'zod';
import type { ApiKeyEntry } from '../access/api-keys.ts';
import {
  defaultFallbacks,
  defaultMaxQueryCost,
  defaultTiers,
  type Tier,
  type TierSettings,
} from '../access/tiers.ts';
import type { RoutingRule } from '../gateway/model-router.ts';
import { type ClassifierSettings, defaultClassifierTimeoutMs } from '../gateway/question-classifier.ts';
import { importDefaultExport } from '../module-default-export.ts';
import type { PluginDefinition } from '../plugin-api/api.ts';
import { type ChatPricing, tenantNamePattern } from '../ports.ts';
import { validationProblems } from '../validation-problems.ts';

/**
 * The optional config file (`RAGQL_CONFIG_FILE`): a module whose default export is
 * `defineConfig({ ... })`. Code rather than JSON, because it holds plugin definitions; the
 * environment variables stay the place for everything else.
 */
export interface ConfigFileContents {
  /** Plugins to register beside the built-ins and the plugins folder. */
  plugins?: PluginDefinition[];
  /** Tiers by name; absent: free, pro and enterprise (src/access/tiers.ts). */
  tiers?: Record<string, TierSettings>;
  /** API keys, as `ragql keys create` prints them: hashes only. */
  apiKeys?: ApiKeyEntry[];
  /** Chat models besides RAGQL_GENERATOR's, reached with their vendor's variables (e.g. OPENAI_API_KEY). */
  models?: ChatModelEntry[];
  /** Prices by model id, in US dollars per million tokens; they override ragql's catalog. */
  pricing?: Record<string, ChatPricing>;
  /** Routing rules, tried in order; a question no rule matches goes to RAGQL_GENERATOR's model. */
  routing?: RoutingRule[];
  /**
   * Routes the questions no rule takes by their complexity: each label's model, e.g.
   * `{ labels: { simple: 'gpt-4o-mini', complex: 'gpt-4o' } }`. A tier's `classifierModel` labels
   * its questions; without one, a heuristic gives `simple`, `medium` or `complex`.
   */
  classifier?: { labels: Record<string, string>; timeoutMs?: number };
}

/** A chat model the router may choose; its name is its model id. */
export interface ChatModelEntry {
  provider: 'openai' | 'cohere';
  model: string;
  /** Tokens of prompt plus answer; absent: the catalog's, else 8192. */
  contextWindow?: number;
}

/** A loaded config file: its plugins as given (the registry checks them), the rest validated. */
export interface ConfigFile {
  plugins: unknown[];
  tiers: Record<string, Tier>;
  apiKeys: ApiKeyEntry[];
  models: ChatModelEntry[];
  pricing: Record<string, ChatPricing>;
  routing: RoutingRule[];
  classifier: ClassifierSettings | null;
}

/** Declares a config file's contents; the identity function, there for the types. */
export function defineConfig(config: ConfigFileContents): ConfigFileContents {
  return config;
}

const positiveInteger = z.number().int().positive();
const nonNegative = z.number().nonnegative();
const regularExpression = z.string().refine((pattern) => {
  try {
    new RegExp(pattern, 'iu');
    return true;
  } catch {
    return false;
  }
}, 'must be a valid regular expression');
const fileSchema = z
  .object({
    plugins: z.array(z.unknown()).default([]),
    tiers: z
      .record(
        z.string().min(1),
        z.strictObject({
          requestsPerMinute: positiveInteger,
          tokensPerDay: positiveInteger,
          concurrentStreams: positiveInteger,
          maxQueryCost: positiveInteger.default(defaultMaxQueryCost),
          models: z.array(z.string().min(1)).optional(),
          fallbacks: z.array(z.string().min(1)).default([...defaultFallbacks]),
          classifierModel: z.string().min(1).optional(),
        }),
      )
      .default({ ...defaultTiers }),
    apiKeys: z
      .array(
        z.strictObject({
          hash: z
            .string()
            .regex(
              /^sha256:[0-9a-f]{64}$/,
              'must be sha256:<64 hex digits>, as `ragql keys create` prints it',
            ),
          tenant: z.string().regex(tenantNamePattern, 'must be 1 to 64 letters, digits, - or _'),
          tier: z.string().min(1),
          name: z.string().optional(),
          operator: z.boolean().optional(),
        }),
      )
      .default([]),
    models: z
      .array(
        z.strictObject({
          provider: z.enum(['openai', 'cohere']),
          model: z.string().trim().min(1),
          contextWindow: positiveInteger.optional(),
        }),
      )
      .default([]),
    pricing: z
      .record(
        z.string().min(1),
        z.strictObject({ inputUsdPerMillion: nonNegative, outputUsdPerMillion: nonNegative }),
      )
      .default({}),
    routing: z
      .array(
        z.strictObject({
          name: z.string().min(1),
          model: z.string().min(1),
          minQuestionTokens: z.number().int().nonnegative().optional(),
          maxQuestionTokens: z.number().int().nonnegative().optional(),
          pattern: regularExpression.optional(),
        }),
      )
      .default([]),
    classifier: z
      .strictObject({
        labels: z
          .record(z.string().regex(/^[\p{L}\p{N}_-]+$/u, 'must be one word'), z.string().min(1))
          .refine((labels) => Object.keys(labels).length > 0, 'must name at least one label'),
        timeoutMs: positiveInteger.default(defaultClassifierTimeoutMs),
      })
      .nullable()
      .default(null),
  })
  .superRefine((file, context) => {
    file.apiKeys.forEach((entry, index) => {
      if (!(entry.tier in file.tiers)) {
        context.addIssue({
          code: 'custom',
          path: ['apiKeys', index, 'tier'],
          message: `names no tier; the tiers are ${Object.keys(file.tiers).join(', ')}`,
        });
      }
    });
  });

/** The contents of a server without a config file. */
export const emptyConfigFile: ConfigFile = {
  plugins: [],
  tiers: { ...defaultTiers },
  apiKeys: [],
  models: [],
  pricing: {},
  routing: [],
  classifier: null,
};

/** Loads and checks the config file; an error names the file and every problem in it. */
export async function loadConfigFile(path: string): Promise<ConfigFile> {
  const file = resolve(path);
  const exported = await importDefaultExport(
    file,
    (reason) => new Error(`Cannot load the config file ${file}: ${reason}`),
  );
  if (typeof exported !== 'object' || exported === null) {
    throw new Error(`The config file ${file} must default-export defineConfig({ ... }).`);
  }
  const parsed = fileSchema.safeParse(exported);
  if (!parsed.success) {
    const problems = validationProblems(parsed.error).map((problem) => `  ${problem}`);
    throw new Error(`The config file ${file} is invalid:\n${problems.join('\n')}`);
  }
  return parsed.data;
}
