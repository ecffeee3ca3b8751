import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Distinct operation names recorded before the rest count as `other`: clients choose them. */
const maxOperationNames = 200;
const operationNamePattern = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/**
 * ragql's Prometheus metrics (served at /metrics), one registry per server so that tests and
 * several servers in one process never mix their counts.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly operations = new Counter({
    name: 'ragql_graphql_operations_total',
    help: 'GraphQL operations by name, type and outcome (success, error).',
    labelNames: ['operation', 'type', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly operationSeconds = new Histogram({
    name: 'ragql_graphql_operation_duration_seconds',
    help: 'Time from the start of an operation to its result (for subscriptions: to the end of the stream).',
    labelNames: ['operation', 'type', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly activeSubscriptions = new Gauge({
    name: 'ragql_active_subscriptions',
    help: 'Subscriptions streaming now.',
    registers: [this.registry],
  });
  readonly cacheLookups = new Counter({
    name: 'ragql_cache_lookups_total',
    help: 'Cache lookups by cache and result (memory_hit, shared_hit, miss).',
    labelNames: ['cache', 'result'] as const,
    registers: [this.registry],
  });
  readonly rateLimitRejections = new Counter({
    name: 'ragql_rate_limit_rejections_total',
    help: 'Operations refused by a rate limit, by tier and limit (requests, streams).',
    labelNames: ['tier', 'limit'] as const,
    registers: [this.registry],
  });
  private readonly operationNames = new Set<string>();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'ragql_' });
  }

  /** The label for a client's operation name: bounded in form and in number. */
  operationLabel(name: string | null | undefined): string {
    if (!name || !operationNamePattern.test(name)) return 'anonymous';
    if (this.operationNames.has(name)) return name;
    if (this.operationNames.size >= maxOperationNames) return 'other';
    this.operationNames.add(name);
    return name;
  }
}
