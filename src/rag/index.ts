/** What the GraphQL layer and the CLI may use of the RAG pipeline. */
import type { Authenticator } from '../gateway/api-keys.ts';
import type { RateLimits } from '../gateway/rate-limits.ts';
import type { Tier } from '../gateway/tiers.ts';
import type { UsageLedger } from '../gateway/usage-ledger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { PluginRegistry } from '../plugins/registry.ts';
import type { VectorStore } from '../ports.ts';
import type { AnswerService } from './answer.ts';
import type { IngestService } from './ingest.ts';
import type { SearchService } from './search.ts';

export type {
  AnswerCache,
  AnswerEvent,
  AnswerLatency,
  AnswerQuery,
  AnswerRecord,
  AnswerUsage,
  CachedAnswer,
  ChatRouter,
  Citation,
  CompletedAnswer,
  FallbackRecord,
  ModelChoice,
  PreparedAnswer,
  RouteRequest,
  Routing,
} from './answer.ts';
export { AnswerService, costOf, singleModelRouter } from './answer.ts';
export type { DocumentInput } from './document-input.ts';
export type { FilterConditionInput } from './filter.ts';
export { parseFilter } from './filter.ts';
export type { IngestedDocument, IngestReport, IngestStatus } from './ingest.ts';
export { IngestService } from './ingest.ts';
export type { SearchMode, SearchQuery, SearchResult } from './search.ts';
export { SearchService } from './search.ts';

/** What the server reports about itself. */
export interface ServerInfo {
  version: string;
  store: string;
  /** `provider/model`, or null when running keyword-only. */
  embedder: string | null;
  generator: string;
}

/** The application services one ragql process runs, built by the composition root. */
export interface RagqlServices {
  store: VectorStore;
  ingest: IngestService;
  search: SearchService;
  answers: AnswerService;
  /** The retrievers and rerankers requests may choose. */
  plugins: PluginRegistry;
  /** Who may call, and as which tenant. */
  auth: Authenticator;
  /** What each tier allows, by name. */
  tiers: Readonly<Record<string, Tier>>;
  /** What each caller's tier allows. */
  rateLimits: RateLimits;
  /** What /metrics serves. */
  metrics: Metrics;
  /** Each tenant's tokens and cost by day. */
  usage: UsageLedger;
  info: ServerInfo;
  /** Closes the store and the caches' connections. */
  close(): Promise<void>;
}
