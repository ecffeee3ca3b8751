import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Distinct operation names recorded before the rest count as `other`: clients choose them. */
const maxOperationNames = 200;
const operationNamePattern = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/**
 * The operation label of every operation while names are left out: one series per type and
 * outcome, under the label dashboards already group by.
 */
export const hiddenOperationName = 'hidden';

export interface MetricsOptions {
  /**
   * Label operations with their own names. Clients choose them, so they can carry a tenant's
   * words (a customer's name, a project) to whoever reads /metrics: on only when that is the
   * operator alone, or every client is trusted.
   * @default false
   */
  operationNames?: boolean;
}

/** Seconds a request may take, from a cached search to a long answer: GraphQL operations and MCP tool calls alike. */
const requestBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * ragql's Prometheus metrics (served at /metrics), one registry per server so that tests and
 * several servers in one process never mix their counts.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly operations = new Counter({
    name: 'ragql_graphql_operations_total',
    help: 'GraphQL operations by name (hidden unless RAGQL_METRICS_OPERATION_NAMES=on), type and outcome (success, error, refused).',
    labelNames: ['operation', 'type', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly operationSeconds = new Histogram({
    name: 'ragql_graphql_operation_duration_seconds',
    help: 'Time from the start of an operation to its result or refusal (for subscriptions: to the end of the stream).',
    labelNames: ['operation', 'type', 'outcome'] as const,
    buckets: requestBuckets,
    registers: [this.registry],
  });
  readonly mcpToolCalls = new Counter({
    name: 'ragql_mcp_tool_calls_total',
    help: 'MCP tool calls by tool and outcome (success, error: a refusal or failure the tool reported).',
    labelNames: ['tool', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly mcpToolCallSeconds = new Histogram({
    name: 'ragql_mcp_tool_call_duration_seconds',
    help: 'Time from the start of an MCP tool call to its result.',
    labelNames: ['tool', 'outcome'] as const,
    buckets: requestBuckets,
    registers: [this.registry],
  });
  readonly activeSubscriptions = new Gauge({
    name: 'ragql_active_subscriptions',
    help: 'Subscriptions streaming now.',
    registers: [this.registry],
  });
  readonly documentWritesWaiting = new Gauge({
    name: 'ragql_document_writes_waiting',
    help: 'Ingestions and deletions waiting for an earlier write to the same document to finish.',
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
    help: 'Operations and SSE stream reservations refused by a rate limit, by tier and limit (its extensions.limit: requests, streams, tokens, pluginModelCalls, reservedStreams).',
    labelNames: ['tier', 'limit'] as const,
    registers: [this.registry],
  });
  readonly llmRequests = new Counter({
    name: 'ragql_llm_requests_total',
    help: 'Chat model requests by provider, model and status (ok, cancelled, an HTTP status, or error).',
    labelNames: ['provider', 'model', 'status'] as const,
    registers: [this.registry],
  });
  readonly llmRequestSeconds = new Histogram({
    name: 'ragql_llm_request_duration_seconds',
    help: 'Chat model requests from the call to the end of the stream.',
    labelNames: ['provider', 'model'] as const,
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80],
    registers: [this.registry],
  });
  readonly llmFirstTokenSeconds = new Histogram({
    name: 'ragql_llm_time_to_first_token_seconds',
    help: "Chat model requests from the call to the model's first token.",
    labelNames: ['provider', 'model'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16],
    registers: [this.registry],
  });
  readonly embeddingRequests = new Counter({
    name: 'ragql_embedding_requests_total',
    help: 'Embedding requests to providers (cache misses) by provider, model and status.',
    labelNames: ['provider', 'model', 'status'] as const,
    registers: [this.registry],
  });
  readonly tokens = new Counter({
    name: 'ragql_llm_tokens_total',
    help: 'Tokens of answers by model, tier and kind (prompt, completion).',
    labelNames: ['model', 'tier', 'kind'] as const,
    registers: [this.registry],
  });
  readonly costUsd = new Counter({
    name: 'ragql_llm_cost_usd_total',
    help: 'What answers cost at the configured or list prices, by model (unpriced models count nothing).',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });
  readonly llmRetries = new Counter({
    name: 'ragql_llm_retries_total',
    help: 'Chat requests retried after a transient failure, by provider and model.',
    labelNames: ['provider', 'model'] as const,
    registers: [this.registry],
  });
  readonly llmFallbacks = new Counter({
    name: 'ragql_llm_fallbacks_total',
    help: 'Answers handed to the next model of the fallback chain, by the model that failed and the one that took over.',
    labelNames: ['from', 'to'] as const,
    registers: [this.registry],
  });
  private readonly operationNames = new Set<string>();
  private readonly labelsOperationNames: boolean;

  constructor({ operationNames = false }: MetricsOptions = {}) {
    this.labelsOperationNames = operationNames;
    collectDefaultMetrics({ register: this.registry, prefix: 'ragql_' });
  }

  /** The label for a client's operation name: hidden, or bounded in form and in number. */
  operationLabel(name: string | null | undefined): string {
    if (!this.labelsOperationNames) return hiddenOperationName;
    if (!name || !operationNamePattern.test(name)) return 'anonymous';
    if (this.operationNames.has(name)) return name;
    if (this.operationNames.size >= maxOperationNames) return 'other';
    this.operationNames.add(name);
    return name;
  }
}
