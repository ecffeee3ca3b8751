import type { Caller } from '../access/api-keys.ts';
import type { UsageDay } from '../access/usage-ledger.ts';
import type { PluginKind } from '../plugin-api/api.ts';
import type { PluginInfo } from '../plugin-api/registry.ts';
import type { ChunkRecord, DocumentPageRequest, DocumentRecord } from '../ports.ts';
import type {
  AnswerEvent,
  AnswerQuery,
  CompletedAnswer,
  DocumentInput,
  IngestReport,
  PreparedAnswer,
  ReembeddingStatus,
  SearchQuery,
  SearchResult,
  ServerInfo,
} from '../rag/index.ts';

/** What every resolver receives: the caller, its services, and the request's id and abort signal. */
export interface RagqlContext {
  /**
   * What resolvers may do, already bound to the caller: its tenant's documents, its tier's models
   * and its budget. Nothing here reaches another tenant's data.
   */
  services: CallerServices;
  /** Who is calling (from the API key; the anonymous caller when authentication is off). */
  caller: Caller;
  /** Whose documents the request reads and writes: the caller's tenant. */
  tenant: string;
  requestId: string;
  signal?: AbortSignal;
}

/** A search or an answer as a resolver asks for it; whose it is and who pays come from the caller. */
export type CallerSearchQuery = Omit<SearchQuery, 'tenant' | 'caller'>;
export type CallerAnswerQuery = Omit<AnswerQuery, 'tenant' | 'caller' | 'tier' | 'budget'>;

/** The application's services for one caller (built per request by the composition root). */
export interface CallerServices {
  search(query: CallerSearchQuery): Promise<SearchResult>;
  answer(query: CallerAnswerQuery): Promise<CompletedAnswer>;
  /** Checks the question and retrieves its sources; `generateAnswer` then streams the answer. */
  prepareAnswer(query: CallerAnswerQuery): Promise<PreparedAnswer>;
  generateAnswer(prepared: PreparedAnswer, signal?: AbortSignal): AsyncIterable<AnswerEvent>;
  ingest(documents: readonly DocumentInput[], signal?: AbortSignal): Promise<IngestReport>;
  /** Uploaded files parsed into documents (named by their file names), then ingested. */
  ingestFiles(files: readonly File[], signal?: AbortSignal): Promise<IngestReport>;
  /** Pages fetched by URL (each the id and source of its document), parsed by type, then ingested. */
  ingestUrls(urls: readonly string[], signal?: AbortSignal): Promise<IngestReport>;
  /** One site's pages, from its sitemap or links, within robots.txt, up to `maxPages`. */
  crawlSite(url: string, maxPages: number, signal?: AbortSignal): Promise<CrawlResult>;
  documents: CallerDocuments;
  /** The tenant's token usage and cost for the UTC days from `from` to `to` (YYYY-MM-DD). */
  usage(from: string, to: string): Promise<UsageDay[]>;
  plugins(kind?: PluginKind): PluginInfo[];
  /** Operations on the whole store, for operator keys only (FORBIDDEN otherwise). */
  operations: CallerOperations;
  readonly info: ServerInfo;
}

/** A crawl's ingestion, and the pages it found but could not store, each with why. */
export interface CrawlResult extends IngestReport {
  refused: { url: string; reason: string }[];
}

/** What an operator may do to the whole store. */
export interface CallerOperations {
  /** Starts building `model`'s embedding space and switching to it; returns at once, with the status. */
  reembed(model: string, dimensions?: number | null): Promise<OperationsStatus>;
  status(): Promise<OperationsStatus>;
  /** Deletes the spaces earlier switches left behind; returns their generations. */
  dropRetiredSpaces(): Promise<number[]>;
  /** Deletes a build that stopped before its switch; returns its generation, null when there was none. */
  abandonReembedding(): Promise<number | null>;
}

export interface OperationsStatus {
  reembedding: ReembeddingStatus;
  /** The generation that serves, and those retired and not yet dropped. */
  activeGeneration: number;
  retiredGenerations: number[];
}

/** The caller's tenant's stored documents. */
export interface CallerDocuments {
  get(ids: readonly string[]): Promise<(DocumentRecord | null)[]>;
  list(request: DocumentPageRequest): Promise<DocumentRecord[]>;
  chunks(documentId: string): Promise<ChunkRecord[]>;
  delete(id: string, signal?: AbortSignal): Promise<boolean>;
}
