import { randomUUID } from 'node:crypto';
import type { RecordMetadata, RecordSparseValues } from '@pinecone-database/pinecone';
import { badInput } from '../../errors.ts';
import { sha256Hex } from '../../hash.ts';
import type { ChunkRecord, ChunkToStore, DocumentRecord, DocumentToStore, Metadata } from '../../ports.ts';
import { decodeChunkLocation, encodeChunkLocation } from '../chunk-location.ts';
import { filterFields } from './filter-mapping.ts';

/**
 * ragql's documents and chunks as Pinecone records, and back. A tenant is a namespace; in it:
 *
 * - a document record per document, `d:<ordered id>`, naming the write whose chunks are current;
 * - a chunk record per chunk and write, `c:<document key>:<write id>:<index>`, its content, its
 *   location in its file (`loc`, see ../chunk-location.ts: absent for a chunk on no page and in no
 *   section, as on every chunk written before ragql kept locations) and the document's filterable
 *   fields in its metadata (Pinecone filters before it ranks, so every field a search filters on
 *   must be on the chunk);
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
 * Document record ids keep their ids' order in ASCII, so that Pinecone's listing (in byte order)
 * lists documents in id order. Each code point becomes a code whose first character says its tier,
 * the tiers and the codes within each in code point order (which is UTF-8 byte order):
 *
 * - `"` to `z` stand for themselves;
 * - a lower one (space, `!`) is `!` and one digit;
 * - `{` to U+231E are `{` and two digits (Latin, Greek, Cyrillic, Hebrew, Arabic, Indic, Thai…);
 * - the next 94³ are `}` and three (CJK, Hangul, emoji, most of the supplementary planes);
 * - the rest, to U+10FFFF, `~` and three.
 *
 * Digits are the 94 printable characters `!` to `~`, in ASCII order.
 */
const digitBase = 94;
const firstDigit = 0x21;
const firstLiteral = 0x22;
const lastLiteral = 0x7a;
/** The tiers above the literals, in order: each tier's code points follow the one before. */
const upperTiers = [
  { mark: '{', width: 2, first: lastLiteral + 1 },
  { mark: '}', width: 3, first: lastLiteral + 1 + digitBase ** 2 },
  { mark: '~', width: 3, first: lastLiteral + 1 + digitBase ** 2 + digitBase ** 3 },
] as const;

function digits(value: number, width: number): string {
  let text = '';
  for (let place = width - 1; place >= 0; place--) {
    text += String.fromCharCode(firstDigit + (Math.floor(value / digitBase ** place) % digitBase));
  }
  return text;
}

function digitsValue(text: string): number {
  return [...text].reduce((value, digit) => value * digitBase + digit.charCodeAt(0) - firstDigit, 0);
}

/** A document id in that order-keeping ASCII form, of any length (cursors are compared in it). */
export function orderedKey(documentId: string): string {
  let encoded = documentPrefix;
  for (const character of documentId) {
    const codePoint = character.codePointAt(0) ?? 0;
    if (codePoint < firstLiteral) encoded += `!${digits(codePoint, 1)}`;
    else if (codePoint <= lastLiteral) encoded += character;
    else {
      const tier = upperTiers.findLast((candidate) => codePoint >= candidate.first) ?? upperTiers[0];
      encoded += tier.mark + digits(codePoint - tier.first, tier.width);
    }
  }
  return encoded;
}

/** The record id of a document; BAD_USER_INPUT for an id too long for Pinecone. */
export function documentRecordId(documentId: string): string {
  const encoded = orderedKey(documentId);
  if (encoded.length > longestRecordId) {
    throw badInput(
      `Document id "${documentId.slice(0, 80)}" is too long for the Pinecone store, whose record ids hold ${longestRecordId} ASCII characters: an id takes at most 510 ASCII characters, 170 of most other alphabets, or 127 CJK characters or emoji.`,
    );
  }
  return encoded;
}

/** The document id a document record id stands for (the inverse of `documentRecordId`). */
export function documentIdOf(recordId: string): string {
  const encoded = recordId.slice(documentPrefix.length);
  let decoded = '';
  for (let position = 0; position < encoded.length; ) {
    const mark = encoded[position] ?? '';
    const tier = upperTiers.find((candidate) => candidate.mark === mark);
    if (mark === '!') {
      decoded += String.fromCodePoint(digitsValue(encoded.slice(position + 1, position + 2)));
      position += 2;
    } else if (tier) {
      decoded += String.fromCodePoint(
        tier.first + digitsValue(encoded.slice(position + 1, position + 1 + tier.width)),
      );
      position += 1 + tier.width;
    } else {
      decoded += mark;
      position += 1;
    }
  }
  return decoded;
}

/** Every document record id starts with it; a listing of documents lists ids with this prefix. */
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
  /** The document's `filterFields`, made once for all its chunks. */
  documentFields: RecordMetadata;
  chunk: ChunkToStore;
  writeId: string;
  scale: number;
  sparse: RecordSparseValues | null;
  length: number;
}

export function chunkMetadata({
  document,
  documentFields,
  chunk,
  writeId,
  scale,
  sparse,
  length,
}: ChunkRecordParts): RecordMetadata {
  // Pinecone's metadata holds no null: a chunk with no location has no field.
  const location = encodeChunkLocation(chunk);
  return {
    kind: recordKind.chunk,
    doc: document.id,
    w: writeId,
    i: chunk.index,
    content: chunk.content,
    start: chunk.startOffset,
    end: chunk.endOffset,
    hash: chunk.contentHash,
    ...(location !== null && { loc: location }),
    scale,
    len: length,
    // The keyword search asks for chunks holding one of its terms: a sparse score of 0 is no hit.
    t: (sparse?.indices ?? []).map(String),
    ...documentFields,
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
      ...decodeChunkLocation(typeof metadata.loc === 'string' ? metadata.loc : null),
    },
    writeId: String(metadata.w),
    scale: Number(metadata.scale),
    termIds: Array.isArray(metadata.t) ? metadata.t.map(Number) : [],
    length: Number(metadata.len),
  };
}
