import { badInput } from '../errors.ts';
import type { Candidate } from '../plugin-api/api.ts';
import { type Embedder, type FusionType, type SearchMode, type StoreEngine, searchMode } from '../ports.ts';
import { type FilterConditionInput, parseFilter } from './filter.ts';
import {
  maxCandidates,
  type PluginRef,
  type RerankerRef,
  type RetrievalCaller,
  type RetrievalPipeline,
  type TraceStep,
} from './retrieval.ts';

export type { SearchMode };

export interface SearchQuery {
  /** Whose documents to search. */
  tenant: string;
  /** Who asks, for the plugins' model calls. @default `defaultTier`, unbudgeted */
  caller?: Omit<RetrievalCaller, 'tenant'> | null;
  query: string;
  /** Hits to return. @default 10 */
  limit?: number | null;
  /** 0 = keyword only, 1 = vector only. @default 0.75 (Weaviate's default) */
  alpha?: number | null;
  /** @default 'relativeScore' (Weaviate's default) */
  fusion?: FusionType | null;
  filter?: readonly FilterConditionInput[] | null;
  /** @default the `hybrid` retriever */
  retriever?: PluginRef | null;
  reranker?: RerankerRef | null;
  signal?: AbortSignal;
}

export interface SearchResult {
  /** What actually ran: KEYWORD when no embedder is configured, whatever alpha asked for. */
  mode: SearchMode;
  alpha: number;
  hits: Candidate[];
  /** What each retriever and reranker did, in the order they finished. */
  trace: TraceStep[];
}

/** The tier of callers the server does not know (the CLI, benchmarks): every model, no budget. */
export const defaultTier = 'enterprise';

export const searchDefaults = { limit: 10, alpha: 0.75, fusion: 'relativeScore' as FusionType };
/** The most hits one search returns. */
export const maxSearchLimit = 200;
/** The longest query, in characters. */
export const maxQueryLength = 8192;

/** Search: check the request, then run its retriever (and reranker) over the tenant's documents. */
export class SearchService {
  private readonly store: StoreEngine;
  private readonly embedder: Embedder | null;
  private readonly retrieval: RetrievalPipeline;

  constructor(store: StoreEngine, embedder: Embedder | null, retrieval: RetrievalPipeline) {
    this.store = store;
    this.embedder = embedder;
    this.retrieval = retrieval;
  }

  async search(request: SearchQuery): Promise<SearchResult> {
    const limit = request.limit ?? searchDefaults.limit;
    const alpha = request.alpha ?? searchDefaults.alpha;
    const problems = [
      ...queryProblems(request.query),
      ...countProblems('limit', limit, maxSearchLimit),
      ...(Number.isFinite(alpha) && alpha >= 0 && alpha <= 1 ? [] : ['alpha must be between 0 and 1']),
      ...rerankerProblems(request.reranker),
    ];
    if (problems.length > 0) throw badInput(`Invalid search: ${problems.join('; ')}`, { problems });
    const filter = parseFilter(request.filter);
    const mode = searchMode(alpha, this.embedder !== null);
    const { candidates, trace } = await this.retrieval.run({
      tenant: this.store.forTenant(request.tenant),
      caller: { tier: defaultTier, budget: null, ...request.caller, tenant: request.tenant },
      filter,
      query: {
        text: request.query,
        limit,
        alpha: mode === 'KEYWORD' ? 0 : alpha,
        fusion: request.fusion ?? searchDefaults.fusion,
      },
      retriever: request.retriever,
      reranker: request.reranker,
      signal: request.signal,
    });
    return { mode, alpha, hits: candidates, trace };
  }
}

/** The rule for every count a search takes (hits, reranked hits, candidates): 1 to `max`, whole. */
export function isCountUpTo(value: unknown, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= max;
}

/** Why a count is refused; none when it was not given. */
function countProblems(name: string, value: number | null | undefined, max: number): string[] {
  return value == null || isCountUpTo(value, max) ? [] : [`${name} must be a whole number from 1 to ${max}`];
}

function rerankerProblems(reranker: RerankerRef | null | undefined): string[] {
  const { topN, candidates } = reranker ?? {};
  return [
    ...countProblems('reranker.topN', topN, maxSearchLimit),
    ...countProblems('reranker.candidates', candidates, maxCandidates),
  ];
}

function queryProblems(query: string): string[] {
  if (query.trim() === '') return ['query is empty'];
  if (query.length > maxQueryLength) return [`query is longer than ${maxQueryLength} characters`];
  if (!query.isWellFormed()) return ['query is not well-formed Unicode'];
  return [];
}
