import { generateUuid5, type WeaviateField } from 'weaviate-client';
import type {
  ChunkRecord,
  ChunkToStore,
  DocumentRecord,
  DocumentToStore,
  EmbeddingSpace,
  Metadata,
} from '../../ports.ts';
import { analyzeTerms } from '../../text/analysis.ts';
import { decodeChunkLocation, encodeChunkLocation } from '../chunk-location.ts';
import type { ChunkProperties, DocumentProperties } from './collections.ts';
import { encodeText, filterableProperties } from './filter-properties.ts';

/**
 * ragql's documents and chunks as Weaviate objects, and back. Object ids are UUIDv5 of what the
 * object is, so writing the same thing twice writes the same object: a document record's id
 * derives from its tenant and document id, a chunk's from its tenant, document, write and index.
 * A write's chunks therefore never overwrite the chunks readers are using, nor what a write cut
 * short left behind (see document-writer.ts).
 */

/** The name Weaviate gives the chunks' one self-provided vector (collections.ts names none). */
export const vectorName = 'default';

export interface WeaviateObject {
  id: string;
  properties: Record<string, WeaviateField>;
  vectors?: number[];
}

export function documentUuid(tenant: string, documentId: string): string {
  return generateUuid5(JSON.stringify(['document', tenant, documentId]));
}

export function chunkUuid(tenant: string, documentId: string, writeId: string, index: number): string {
  return generateUuid5(JSON.stringify(['chunk', tenant, documentId, writeId, index]));
}

/** A document record as the Weaviate store keeps it: which write's chunks are the document's. */
export interface StoredRecord extends DocumentRecord {
  writeId: string;
}

export function documentKey(documentId: string): string {
  return encodeText(documentId);
}

/**
 * A key whose ascending order is the descending order of the ids: each hex digit d of `documentKey`
 * becomes 15 - d, and `~`, above every hex digit, ends it, so that an id sorts before the ids it is
 * a prefix of. Listings sort ascending only, on this key when walking backwards: Weaviate (1.38.11,
 * 1.39.3) returns a wrong page for a descending sort whose filter is a range on the sorted property
 * itself (it cuts the ascending order at the limit, then reverses it).
 */
export function documentKeyDescending(documentId: string): string {
  const digits = Buffer.from(documentId, 'utf8').toString('hex');
  return `x${[...digits].map((digit) => (15 - Number.parseInt(digit, 16)).toString(16)).join('')}~`;
}

export function chunkObject(
  tenant: string,
  document: DocumentToStore,
  chunk: ChunkToStore,
  space: EmbeddingSpace | null,
  writeId: string,
): WeaviateObject {
  // Absent rather than null for a chunk with no location, as on the chunks of older collections.
  const location = encodeChunkLocation(chunk);
  const properties: ChunkProperties = {
    chunkId: chunk.id,
    documentId: document.id,
    documentKey: documentKey(document.id),
    writeId,
    chunkIndex: chunk.index,
    content: chunk.content,
    searchText: [
      ...analyzeTerms(document.title ?? ''),
      chunk.keywordTerms ?? analyzeTerms(chunk.content).join(' '),
    ]
      .filter((terms) => terms !== '')
      .join(' '),
    startOffset: chunk.startOffset,
    endOffset: chunk.endOffset,
    contentHash: chunk.contentHash,
    ...(location === null ? {} : { location }),
  };
  return {
    id: chunkUuid(tenant, document.id, writeId, chunk.index),
    properties: { ...properties, ...filterableProperties(document) },
    ...(space && chunk.embedding ? { vectors: Array.from(chunk.embedding) } : {}),
  };
}

export function documentObject(tenant: string, record: StoredRecord): WeaviateObject {
  const properties: DocumentProperties = {
    documentId: record.id,
    documentKey: documentKey(record.id),
    documentKeyDescending: documentKeyDescending(record.id),
    ...(record.title === null ? {} : { title: record.title }),
    ...(record.source === null ? {} : { source: record.source }),
    metadataJson: JSON.stringify(record.metadata),
    contentHash: record.contentHash,
    revisionHash: record.revisionHash,
    writeId: record.writeId,
    chunkCount: record.chunkCount,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
  return {
    id: documentUuid(tenant, record.id),
    properties: { ...properties, ...filterableProperties(record) },
  };
}

export function toStoredRecord(properties: Record<string, unknown>): StoredRecord {
  const stored = properties as Partial<DocumentProperties>;
  return {
    ...toDocumentRecord(properties),
    writeId: String(stored.writeId),
  };
}

export function toDocumentRecord(properties: Record<string, unknown>): DocumentRecord {
  const stored = properties as Partial<DocumentProperties>;
  return {
    id: String(stored.documentId),
    title: stored.title ?? null,
    source: stored.source ?? null,
    metadata: JSON.parse(stored.metadataJson ?? '{}') as Metadata,
    contentHash: String(stored.contentHash),
    revisionHash: String(stored.revisionHash),
    chunkCount: Number(stored.chunkCount),
    createdAt: new Date(stored.createdAt ?? 0),
    updatedAt: new Date(stored.updatedAt ?? 0),
  };
}

export function toChunkRecord(properties: Record<string, unknown>): ChunkRecord {
  const stored = properties as Partial<ChunkProperties>;
  return {
    id: String(stored.chunkId),
    documentId: String(stored.documentId),
    index: Number(stored.chunkIndex),
    content: String(stored.content),
    startOffset: Number(stored.startOffset),
    endOffset: Number(stored.endOffset),
    contentHash: String(stored.contentHash),
    ...decodeChunkLocation(stored.location),
  };
}

/** The properties a chunk read needs (searchText and the filter copies stay in Weaviate). */
export const chunkReturnProperties = [
  'chunkId',
  'documentId',
  'writeId',
  'chunkIndex',
  'content',
  'startOffset',
  'endOffset',
  'contentHash',
  'location',
] as const;

/** The properties a document record read needs. */
export const documentReturnProperties = [
  'documentId',
  'title',
  'source',
  'metadataJson',
  'contentHash',
  'revisionHash',
  'writeId',
  'chunkCount',
  'createdAt',
  'updatedAt',
] as const;
