/** The store port: every tenant's documents, each tenant in its own partition, and their search. */
import type { Embedder } from './embedder.ts';
import type { Filter } from './filter.ts';
import type { Metadata } from './metadata.ts';

export interface DocumentRecord {
  id: string;
  title: string | null;
  source: string | null;
  metadata: Metadata;
  /** sha256 of the content; equal hashes mean equal chunks. */
  contentHash: string;
  /** sha256 of everything stored for the document: content, title, source, metadata, chunking. */
  revisionHash: string;
  chunkCount: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface ChunkRecord {
  /** `<documentId>#<index>`: stable while the document's content is unchanged. */
  id: string;
  documentId: string;
  index: number;
  content: string;
  /** Character offsets into the document's content: `content.slice(start, end) === chunk.content`. */
  startOffset: number;
  endOffset: number;
  /** sha256 of the chunk text; lets an update keep the vectors of chunks that did not change. */
  contentHash: string;
  /** The pages of its file the chunk's text is on, for files that have pages (PDF); otherwise null. */
  pages: PageRange | null;
  /**
   * The headings the chunk starts under, outermost first (a Markdown, HTML or Word document's
   * sections); empty when its file has none.
   */
  sectionPath: readonly string[];
}

/** Pages of a file, numbered from 1: `first` to `last`, both included. */
export interface PageRange {
  first: number;
  last: number;
}

export interface ChunkToStore extends ChunkRecord {
  /** Absent when the store runs without an embedder. */
  embedding?: Float32Array;
  /**
   * The content's keyword terms as src/text/analysis.ts makes them, space-separated, when the
   * caller analysed them already (ingestion does, off the event loop); otherwise the store does.
   */
  keywordTerms?: string;
}

export interface DocumentToStore extends Omit<DocumentRecord, 'createdAt' | 'updatedAt'> {
  chunks: ChunkToStore[];
  /**
   * When the document was first stored and last changed, kept as given by a copy (re-embedding
   * moves documents, it does not change them); without them, the store's own: the first write's
   * time, and this write's.
   */
  createdAt?: Date;
  updatedAt?: Date;
}

export type FusionType = 'ranked' | 'relativeScore';

/** What a search runs: BM25 only, vector similarity only, or both fused by alpha. */
export type SearchMode = 'HYBRID' | 'KEYWORD' | 'VECTOR';

/**
 * The one rule for what a search runs, so the API's reported mode, the plugins' store searches and
 * the stores agree: keyword-only unless vectors can be searched (an embedder, a query vector in the
 * store's space) and alpha is above 0; vector-only from alpha 1.
 */
export function searchMode(alpha: number, canSearchVectors: boolean): SearchMode {
  if (!canSearchVectors || !(alpha > 0)) return 'KEYWORD';
  return alpha >= 1 ? 'VECTOR' : 'HYBRID';
}

export interface SearchRequest {
  /** The query text for keyword search. */
  text: string;
  /** The query embedding; absent means keyword-only. */
  vector?: Float32Array;
  /** 0 = keyword only, 1 = vector only. */
  alpha: number;
  fusion: FusionType;
  limit: number;
  filter: Filter;
}

export interface SearchHit {
  chunk: ChunkRecord;
  /** The score the results are ordered by. */
  score: number;
  /** The raw score of each retriever that found the chunk (BM25 score, cosine similarity). */
  keywordScore: number | null;
  vectorScore: number | null;
}

export interface EmbeddingSpace {
  provider: string;
  modelId: string;
  dimensions: number;
}

/** The space an embedder's vectors are in. */
export function spaceOfEmbedder(
  embedder: Pick<Embedder, 'provider' | 'modelId' | 'dimensions'>,
): EmbeddingSpace {
  return { provider: embedder.provider, modelId: embedder.modelId, dimensions: embedder.dimensions };
}

export function sameSpace(a: EmbeddingSpace | null, b: EmbeddingSpace | null): boolean {
  if (a === null || b === null) return a === b;
  return a.provider === b.provider && a.modelId === b.modelId && a.dimensions === b.dimensions;
}

export function describeSpace(space: EmbeddingSpace | null): string {
  return space
    ? `${space.provider} ${space.modelId} (${space.dimensions} dimensions)`
    : 'no embedder (keyword-only)';
}

/** A page of documents in id order: ids after `after` and before `before`, `limit` of them at most. */
export interface DocumentPageRequest {
  after?: string;
  before?: string;
  limit: number;
  /** Walk the ids from the end (for paging backwards). */
  descending?: boolean;
  filter: Filter;
}

/** A tenant's name: letters, digits, `-` and `_`, 1 to 64 of them (Weaviate's tenant-name rule). */
export const tenantNamePattern = /^[A-Za-z0-9_-]{1,64}$/;

/** The tenant of a server that runs without API keys, and of the CLI. */
export const defaultTenant = 'default';

/**
 * A store engine: the documents of every tenant, each tenant in its own partition (a SQLite file,
 * a Weaviate tenant shard). Nothing crosses partitions: every read and write goes through the
 * `TenantStore` of one tenant.
 */
export interface StoreEngine {
  readonly kind: string;
  /**
   * Binds the store to one embedding space (or none, for keyword-only). Refuses, with an error
   * naming both, a space other than the one the stored vectors were made in.
   */
  bindEmbeddingSpace(space: EmbeddingSpace | null): Promise<void>;
  /** The documents of one tenant (a name matching `tenantNamePattern`); a new tenant starts empty. */
  forTenant(tenant: string): TenantStore;
  /** Whether the store can serve requests now, and why not (for /readyz). */
  readiness(): Promise<StoreReadiness>;
  close(): Promise<void>;
}

export type StoreReadiness = { ready: true } | { ready: false; reason: string };

/** One tenant's documents and chunks. */
export interface TenantStore {
  getDocuments(ids: readonly string[]): Promise<(DocumentRecord | null)[]>;
  listDocuments(request: DocumentPageRequest): Promise<DocumentRecord[]>;
  getChunks(documentId: string): Promise<ChunkRecord[]>;
  /** The stored vectors of a document's chunks, by chunk content hash. */
  getChunkEmbeddings(documentId: string): Promise<Map<string, Float32Array>>;
  /**
   * Writes documents, each replacing all its stored chunks: every document is stored whole or, if
   * anything fails, none of them is.
   */
  upsertDocuments(documents: readonly DocumentToStore[]): Promise<void>;
  deleteDocument(id: string): Promise<boolean>;
  search(request: SearchRequest): Promise<SearchHit[]>;
}
