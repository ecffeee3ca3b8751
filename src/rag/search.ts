import { badInput } from '../errors.ts';
import type { Embedder, FusionType, SearchHit, VectorStore } from '../ports.ts';
import { type FilterConditionInput, parseFilter } from './filter.ts';

export type SearchMode = 'HYBRID' | 'KEYWORD' | 'VECTOR';

export interface SearchQuery {
  /** Whose documents to search. */
  tenant: string;
  query: string;
  /** Hits to return. @default 10 */
  limit?: number | null;
  /** 0 = keyword only, 1 = vector only. @default 0.75 (Weaviate's default) */
  alpha?: number | null;
  /** @default 'relativeScore' (Weaviate's default) */
  fusion?: FusionType | null;
  filter?: readonly FilterConditionInput[] | null;
  signal?: AbortSignal;
}

export interface SearchResult {
  /** What actually ran: KEYWORD when no embedder is configured, whatever alpha asked for. */
  mode: SearchMode;
  alpha: number;
  hits: SearchHit[];
}

export const searchDefaults = { limit: 10, alpha: 0.75, fusion: 'relativeScore' as FusionType };
/** The most hits one search returns. */
export const maxSearchLimit = 200;
/** The longest query, in characters. */
export const maxQueryLength = 8192;

/** Search: embed the query when vectors take part, then one store call. */
export class SearchService {
  constructor(
    private readonly store: VectorStore,
    private readonly embedder: Embedder | null,
  ) {}

  async search(request: SearchQuery): Promise<SearchResult> {
    const limit = request.limit ?? searchDefaults.limit;
    const alpha = request.alpha ?? searchDefaults.alpha;
    const problems = [
      ...queryProblems(request.query),
      ...(Number.isInteger(limit) && limit >= 1 && limit <= maxSearchLimit
        ? []
        : [`limit must be a whole number from 1 to ${maxSearchLimit}`]),
      ...(Number.isFinite(alpha) && alpha >= 0 && alpha <= 1 ? [] : ['alpha must be between 0 and 1']),
    ];
    if (problems.length > 0) throw badInput(`Invalid search: ${problems.join('; ')}`, { problems });
    const filter = parseFilter(request.filter);
    const mode = this.modeFor(alpha);
    const vector =
      mode === 'KEYWORD' || !this.embedder
        ? undefined
        : (await this.embedder.embed([request.query], { purpose: 'query', signal: request.signal }))
            .embeddings[0];
    const hits = await this.store.forTenant(request.tenant).search({
      text: request.query,
      vector,
      alpha: mode === 'KEYWORD' ? 0 : alpha,
      fusion: request.fusion ?? searchDefaults.fusion,
      limit,
      filter,
    });
    return { mode, alpha, hits };
  }

  private modeFor(alpha: number): SearchMode {
    if (!this.embedder || alpha === 0) return 'KEYWORD';
    return alpha === 1 ? 'VECTOR' : 'HYBRID';
  }
}

function queryProblems(query: string): string[] {
  if (query.trim() === '') return ['query is empty'];
  if (query.length > maxQueryLength) return [`query is longer than ${maxQueryLength} characters`];
  if (!query.isWellFormed()) return ['query is not well-formed Unicode'];
  return [];
}
