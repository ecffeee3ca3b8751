/** What the GraphQL layer and the CLI may use of the RAG pipeline. */

export { AnswerService, singleModelRouter } from './answer.ts';
export type {
  AnswerEvent,
  AnswerLatency,
  AnswerQuery,
  AnswerRecord,
  AnswerUsage,
  CacheMatch,
  Citation,
  CompletedAnswer,
  FallbackRecord,
  PreparedAnswer,
  Routing,
} from './answer-types.ts';
export { costOf } from './answer-usage.ts';
export type { DocumentInput, DocumentLabel } from './document-input.ts';
export { maxIdLength, nothingIngested } from './document-input.ts';
export type { DocumentLayout, SectionStart } from './document-layout.ts';
export type { FilterConditionInput } from './filter.ts';
export { parseFilter } from './filter.ts';
export type { IngestedDocument, IngestReport, IngestStatus } from './ingest.ts';
export { IngestService } from './ingest.ts';
export type { ReembeddingStatus, ReembedProgress, ReembedReport } from './reembedding.ts';
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
