import { randomUUID } from 'node:crypto';
import type { RecordMetadata, RecordSparseValues } from '@pinecone-database/pinecone';
import { badInput } from '../../errors.ts';
import { sha256Hex } from '../../hash.ts';
import type { ChunkRecord, ChunkToStore, DocumentRecord, DocumentToStore, Metadata } from '../../ports.ts';
import { filterFields } from './filter-mapping.ts';

/**
 * ragql's documents and chunks as Pinecone records, and back. A tenant is a namespace; in it:
 *
 * - a document record per document, `d:<ordered id>`, naming the write whose chunks are current;
 * - a chunk record per chunk and write, `c:<document key>:<write id>:<index>`, its content and
 *   the document's filterable fields in its metadata (Pinecone filters before it ranks, so every
 *   field a search filters on must be on the chunk);
 * - the tenant's BM25 statistics (term-statistics.ts), `s:…`.
 *
 * Every record needs a dense vector (the index is dense): records that are not chunks, and the
 * chunks of a keyword-only store, carry `placeholderVector`, and every search names the kind of
 * record it wants.
 */

export const recordKind = { document: 'document', chunk: 'chunk', statistics: 'statistics' } as const;

/** Pinecone's longest record id (docs: identifier limits). */
const longestRecordId = 512;
const documentPrefix = 'd:';

/** A document record with the write that names its current chunks. */
export interface StoredDocument extends DocumentRecord {
  writeId: string;
}

/** A chunk record as a search returns it: the chunk, and which write of its document made it. */
export interface StoredChunk {
  chunk: ChunkRecord;
  writeId: string;
  /** What the stored unit vector is multiplied by to give the vector written (1 for a unit one). */
  scale: number;
  /** The sparse vector's terms: what the statistics drop when the chunk goes. */
  termIds: number[];
  length: number;
}

export function newWriteId(): string {
  return randomUUID().replaceAll('-', '');
}

/**
 * The record id of a document: its id's UTF-8 bytes in an ASCII form that keeps their order, so
 * that Pinecone's listing (in byte order) lists documents in id order. Bytes from `"` to `}` stand
 * for themselves; a lower byte is `!` and two hex digits (below every byte kept), a higher one `~`
 * and two (above every byte kept).
 */
export function documentRecordId(documentId: string): string {
  let encoded = documentPrefix;
  for (const byte of Buffer.from(documentId, 'utf8')) {
    if (byte >= 0x22 && byte <= 0x7d) encoded += String.fromCharCode(byte);
    else encoded += (byte < 0x22 ? '!' : '~') + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  if (encoded.length > longestRecordId) {
    throw badInput(
      `Document id "${documentId.slice(0, 80)}" is too long for the Pinecone store: record ids hold ${longestRecordId} ASCII characters, and each byte of a non-ASCII character takes 3. Use ids of at most 170 non-ASCII or 510 ASCII characters.`,
    );
  }
  return encoded;
}

/** The document id a document record id stands for (the inverse of `documentRecordId`). */
export function documentIdOf(recordId: string): string {
  const bytes: number[] = [];
  const encoded = recordId.slice(documentPrefix.length);
  for (let position = 0; position < encoded.length; position++) {
    const character = encoded[position];
    if (character === '!' || character === '~') {
      bytes.push(Number.parseInt(encoded.slice(position + 1, position + 3), 16));
      position += 2;
    } else {
      bytes.push(encoded.charCodeAt(position));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

export const documentRecordPrefix = documentPrefix;

/** The part of chunk ids that names the document; a hash, so one document's is never a prefix of another's. */
function documentKey(documentId: string): string {
  return sha256Hex(documentId).slice(0, 32);
}

export function chunkRecordId(documentId: string, writeId: string, index: number): string {
  return `c:${documentKey(documentId)}:${writeId}:${index}`;
}

/** The ids of the chunks a document record names. */
export function chunkRecordIds(document: StoredDocument): string[] {
  return Array.from({ length: document.chunkCount }, (_, index) =>
    chunkRecordId(document.id, document.writeId, index),
  );
}

/** The dense vector of records that have none of their own: Pinecone refuses an all-zero one. */
export function placeholderVector(dimensions: number): number[] {
  return Array.from({ length: dimensions }, (_, index) => (index === 0 ? 1 : 0));
}

export function documentMetadata(
  document: DocumentToStore,
  writeId: string,
  createdAt: Date,
  updatedAt: Date,
): RecordMetadata {
  return {
    kind: recordKind.document,
    doc: document.id,
    w: writeId,
    meta: JSON.stringify(document.metadata),
    contentHash: document.contentHash,
    revisionHash: document.revisionHash,
    chunkCount: document.chunkCount,
    createdAt: createdAt.getTime(),
    updatedAt: updatedAt.getTime(),
    ...filterFields(document),
  };
}

export function storedDocumentOf(metadata: RecordMetadata | undefined): StoredDocument | null {
  if (metadata?.kind !== recordKind.document) return null;
  return {
    id: String(metadata.doc),
    title: typeof metadata.title === 'string' ? metadata.title : null,
    source: typeof metadata.source === 'string' ? metadata.source : null,
    metadata: JSON.parse(String(metadata.meta)) as Metadata,
    contentHash: String(metadata.contentHash),
    revisionHash: String(metadata.revisionHash),
    chunkCount: Number(metadata.chunkCount),
    createdAt: new Date(Number(metadata.createdAt)),
    updatedAt: new Date(Number(metadata.updatedAt)),
    writeId: String(metadata.w),
  };
}

export interface ChunkRecordParts {
  document: DocumentToStore;
  chunk: ChunkToStore;
  writeId: string;
  scale: number;
  sparse: RecordSparseValues | null;
  length: number;
}

export function chunkMetadata({
  document,
  chunk,
  writeId,
  scale,
  sparse,
  length,
}: ChunkRecordParts): RecordMetadata {
  return {
    kind: recordKind.chunk,
    doc: document.id,
    w: writeId,
    i: chunk.index,
    content: chunk.content,
    start: chunk.startOffset,
    end: chunk.endOffset,
    hash: chunk.contentHash,
    scale,
    len: length,
    // The keyword search asks for chunks holding one of its terms: a sparse score of 0 is no hit.
    t: (sparse?.indices ?? []).map(String),
    ...filterFields(document),
  };
}

export function storedChunkOf(metadata: RecordMetadata | undefined): StoredChunk | null {
  if (metadata?.kind !== recordKind.chunk) return null;
  const documentId = String(metadata.doc);
  const index = Number(metadata.i);
  return {
    chunk: {
      id: `${documentId}#${index}`,
      documentId,
      index,
      content: String(metadata.content),
      startOffset: Number(metadata.start),
      endOffset: Number(metadata.end),
      contentHash: String(metadata.hash),
    },
    writeId: String(metadata.w),
    scale: Number(metadata.scale),
    termIds: Array.isArray(metadata.t) ? metadata.t.map(Number) : [],
    length: Number(metadata.len),
  };
}
