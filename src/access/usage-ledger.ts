/**
 * Token usage and cost per tenant per day (UTC), for tenants to read through GraphQL. In Redis
 * when configured, shared by every ragql process and kept across restarts; otherwise in process.
 * Recording never fails an answer: a Redis that cannot be reached loses that answer's figures
 * from the ledger (the log line of the answer still has them) and is warned about once.
 */
import type { Logger } from '../observability/logger.ts';
import type { TokenUsage } from '../ports.ts';
import { closeRedis, connectRedis, type RedisConnection } from './redis-connection.ts';

/** One model's share of a day. */
export interface ModelUsage extends TokenUsage {
  model: string;
  answers: number;
  /** The cost of the answers whose price ragql knows. */
  costUsd: number;
  /** Answers of a model without a known price, whose cost is not in `costUsd`. */
  unpricedAnswers: number;
}

/** One tenant's day: totals and the share of each model. */
export interface UsageDay extends Omit<ModelUsage, 'model'> {
  /** YYYY-MM-DD, UTC. */
  date: string;
  models: ModelUsage[];
}

const counters = [
  'answers',
  'promptTokens',
  'completionTokens',
  'totalTokens',
  'costUsd',
  'unpricedAnswers',
] as const;
type Counter = (typeof counters)[number];

/** Days a tenant's figures are kept in Redis. */
const retentionSeconds = 400 * 24 * 3600;
/** The longest span one read may cover. */
export const maxUsageDays = 366;
export const dayMs = 24 * 3600 * 1000;

export class UsageLedger {
  private readonly redis: RedisConnection | null;
  /** In process: day key → `model counter` → value. */
  private readonly memory = new Map<string, Map<string, number>>();
  private readonly logger: Logger;
  private warned = false;

  constructor(options: { redisUrl?: string | undefined; logger: Logger }) {
    this.logger = options.logger;
    this.redis = options.redisUrl
      ? connectRedis(options.redisUrl, options.logger, 'The usage ledger cannot reach Redis')
      : null;
  }

  /**
   * Adds one model call's usage to its tenant's day. An answer counts as one; another call (a
   * plugin's, the router's classifier's) adds its tokens and cost to the answers it served.
   */
  async record(
    tenant: string,
    model: string,
    usage: TokenUsage & { costUsd: number | null },
    { answer, at = new Date() }: { answer: boolean; at?: Date },
  ) {
    const increments: [string, number][] = [
      ...(answer ? [[field(model, 'answers'), 1] as [string, number]] : []),
      [field(model, 'promptTokens'), usage.promptTokens],
      [field(model, 'completionTokens'), usage.completionTokens],
      [field(model, 'totalTokens'), usage.totalTokens],
      ...(usage.costUsd !== null
        ? [[field(model, 'costUsd'), usage.costUsd] as [string, number]]
        : answer
          ? [[field(model, 'unpricedAnswers'), 1] as [string, number]]
          : []),
    ];
    const key = dayKey(tenant, dateOf(at));
    if (!this.redis) {
      const day = this.memory.get(key) ?? new Map<string, number>();
      for (const [name, value] of increments) day.set(name, (day.get(name) ?? 0) + value);
      this.memory.set(key, day);
      return;
    }
    try {
      await this.redis.firstAttempt;
      const transaction = this.redis.client.multi();
      for (const [name, value] of increments) transaction.hIncrByFloat(key, name, value);
      await transaction.expire(key, retentionSeconds).exec();
      this.warned = false;
    } catch (error) {
      if (this.warned) return;
      this.warned = true;
      this.logger.warn({ err: error }, 'Answer usage could not be recorded in Redis');
    }
  }

  /** The tenant's days from `from` to `to` (YYYY-MM-DD, inclusive), the days without answers left out. */
  async days(tenant: string, from: string, to: string): Promise<UsageDay[]> {
    const dates = datesBetween(from, to);
    const hashes = await Promise.all(dates.map((date) => this.read(dayKey(tenant, date))));
    return dates.flatMap((date, index) => {
      const hash = hashes[index];
      return hash && hash.size > 0 ? [summarise(date, hash)] : [];
    });
  }

  async close(): Promise<void> {
    await closeRedis(this.redis);
  }

  private async read(key: string): Promise<Map<string, number>> {
    if (!this.redis) return this.memory.get(key) ?? new Map();
    await this.redis.firstAttempt;
    const hash = await this.redis.client.hGetAll(key);
    return new Map(Object.entries(hash).map(([name, value]) => [name, Number(value)]));
  }
}

/** A model's counter in a day's hash; model ids contain no spaces. */
function field(model: string, counter: Counter): string {
  return `${model} ${counter}`;
}

function dayKey(tenant: string, date: string): string {
  return `ragql:usage:${tenant}:${date}`;
}

/** The UTC date of an instant, YYYY-MM-DD. */
export function dateOf(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/**
 * The dates from `from` to `to`, counted in days: comparing dates as text fails past year 9999,
 * where toISOString writes +010000-01-01, which sorts before 9999-12-31.
 */
function datesBetween(from: string, to: string): string[] {
  const first = Date.parse(`${from}T00:00:00Z`);
  const count = (Date.parse(`${to}T00:00:00Z`) - first) / dayMs + 1;
  if (!(count >= 0 && count <= maxUsageDays)) {
    throw new RangeError(`A usage read covers at most ${maxUsageDays} days; got ${from} to ${to}.`);
  }
  return Array.from({ length: count }, (_, index) => dateOf(new Date(first + index * dayMs)));
}

function summarise(date: string, hash: ReadonlyMap<string, number>): UsageDay {
  const byModel = new Map<string, ModelUsage>();
  for (const [name, value] of hash) {
    const separator = name.lastIndexOf(' ');
    const model = name.slice(0, separator);
    const counter = name.slice(separator + 1) as Counter;
    const usage = byModel.get(model) ?? emptyUsage(model);
    usage[counter] += value;
    byModel.set(model, usage);
  }
  const models = [...byModel.values()].sort((a, b) => a.model.localeCompare(b.model));
  const total = emptyUsage('');
  for (const usage of models) for (const counter of counters) total[counter] += usage[counter];
  const { model: _model, ...totals } = total;
  return { date, ...totals, models };
}

function emptyUsage(model: string): ModelUsage {
  return {
    model,
    answers: 0,
    promptTokens: 0,
    completionTokens: 0,
    totalTokens: 0,
    costUsd: 0,
    unpricedAnswers: 0,
  };
}
