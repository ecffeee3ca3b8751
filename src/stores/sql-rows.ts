import type { ChunkRecord, DocumentRecord, Metadata } from '../ports.ts';
import { decodeChunkLocation } from './chunk-location.ts';

/**
 * The rows both SQL stores (SQLite, PostgreSQL) read documents and chunks from: the same columns,
 * except that each database hands metadata and times back its own way.
 */

export interface DocumentRow<StoredMetadata, StoredTime> {
  id: string;
  title: string | null;
  source: string | null;
  metadata: StoredMetadata;
  content_hash: string;
  revision_hash: string;
  chunk_count: number;
  created_at: StoredTime;
  updated_at: StoredTime;
}

export interface ChunkRow {
  id: string;
  document_id: string;
  chunk_index: number;
  content: string;
  start_offset: number;
  end_offset: number;
  content_hash: string;
  /** See chunk-location.ts. */
  location: string | null;
}

/** How one database's metadata and time values become the port's. */
export interface RowValues<StoredMetadata, StoredTime> {
  metadata(stored: StoredMetadata): Metadata;
  time(stored: StoredTime): Date;
}

export function documentOfRow<StoredMetadata, StoredTime>(
  row: DocumentRow<StoredMetadata, StoredTime>,
  values: RowValues<StoredMetadata, StoredTime>,
): DocumentRecord {
  return {
    id: row.id,
    title: row.title,
    source: row.source,
    metadata: values.metadata(row.metadata),
    contentHash: row.content_hash,
    revisionHash: row.revision_hash,
    chunkCount: row.chunk_count,
    createdAt: values.time(row.created_at),
    updatedAt: values.time(row.updated_at),
  };
}

export function chunkOfRow(row: ChunkRow): ChunkRecord {
  return {
    id: row.id,
    documentId: row.document_id,
    index: row.chunk_index,
    content: row.content,
    startOffset: row.start_offset,
    endOffset: row.end_offset,
    contentHash: row.content_hash,
    ...decodeChunkLocation(row.location),
  };
}
