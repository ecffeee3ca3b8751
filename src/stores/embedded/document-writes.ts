import type Database from 'better-sqlite3';
import type { DocumentToStore } from '../../ports.ts';
import { float32Bytes } from '../../ranking/vector-math.ts';
import { analyzeTerms } from '../../text/analysis.ts';
import { encodeChunkLocation } from '../chunk-location.ts';
import { storedVector } from '../stored-vector.ts';

/**
 * What writing documents does to a tenant's tables, run by the write thread inside one
 * transaction (write-thread-handler.ts). `dimensions` is the file's vector width, or null when it
 * keeps no vectors.
 */

/** The chunk rowids a write removed and added, which are the keys of the vector index. */
export interface KeyChanges {
  removed: number[];
  /** The new chunks' rowids, in the order of the documents' chunks; empty without vectors. */
  added: number[];
}

export function writeDocuments(
  database: Database.Database,
  documents: readonly DocumentToStore[],
  dimensions: number | null,
): KeyChanges {
  const changes: KeyChanges = { removed: [], added: [] };
  const upsertDocument = database.prepare(
    `INSERT INTO documents (id, title, source, metadata, content_hash, revision_hash, chunk_count, created_at, updated_at)
     VALUES (@id, @title, @source, @metadata, @contentHash, @revisionHash, @chunkCount, @createdAt, @updatedAt)
     ON CONFLICT (id) DO UPDATE SET title = excluded.title, source = excluded.source, metadata = excluded.metadata,
       content_hash = excluded.content_hash, revision_hash = excluded.revision_hash,
       chunk_count = excluded.chunk_count, updated_at = excluded.updated_at,
       created_at = CASE WHEN @createdAtGiven THEN excluded.created_at ELSE created_at END`,
  );
  const insertChunk = database.prepare(
    `INSERT INTO chunks (id, document_id, chunk_index, content, start_offset, end_offset, content_hash, location)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertTerms = database.prepare('INSERT INTO chunks_fts (rowid, title, body) VALUES (?, ?, ?)');
  const insertVector =
    dimensions === null
      ? undefined
      : database.prepare('INSERT INTO chunk_vectors (rowid, embedding) VALUES (?, ?)');
  for (const document of documents) {
    const now = Date.now();
    deleteChunksOf(database, document.id, dimensions !== null, changes.removed);
    upsertDocument.run({
      id: document.id,
      title: document.title,
      source: document.source,
      metadata: JSON.stringify(document.metadata),
      contentHash: document.contentHash,
      revisionHash: document.revisionHash,
      chunkCount: document.chunks.length,
      createdAt: document.createdAt?.getTime() ?? now,
      createdAtGiven: document.createdAt === undefined ? 0 : 1,
      updatedAt: document.updatedAt?.getTime() ?? now,
    });
    const titleTerms = analyzeTerms(document.title ?? '').join(' ');
    for (const chunk of document.chunks) {
      const { lastInsertRowid } = insertChunk.run(
        chunk.id,
        document.id,
        chunk.index,
        chunk.content,
        chunk.startOffset,
        chunk.endOffset,
        chunk.contentHash,
        encodeChunkLocation(chunk),
      );
      insertTerms.run(
        lastInsertRowid,
        titleTerms,
        chunk.keywordTerms ?? analyzeTerms(chunk.content).join(' '),
      );
      if (insertVector) {
        const vector = storedVector(chunk, dimensions);
        insertVector.run(BigInt(lastInsertRowid), float32Bytes(vector));
        changes.added.push(Number(lastInsertRowid));
      }
    }
  }
  return changes;
}

/** Removes a document and everything of its chunks; `deleted` says whether it was stored. */
export function deleteDocument(
  database: Database.Database,
  id: string,
  hasVectors: boolean,
): KeyChanges & { deleted: boolean } {
  const removed: number[] = [];
  deleteChunksOf(database, id, hasVectors, removed);
  const deleted = database.prepare('DELETE FROM documents WHERE id = ?').run(id).changes > 0;
  return { removed, added: [], deleted };
}

function deleteChunksOf(
  database: Database.Database,
  documentId: string,
  hasVectors: boolean,
  removed: number[],
): void {
  const rowids = database
    .prepare('SELECT rowid FROM chunks WHERE document_id = ?')
    .pluck()
    .all(documentId) as number[];
  if (rowids.length === 0) return;
  const ids = JSON.stringify(rowids);
  database.prepare('DELETE FROM chunks_fts WHERE rowid IN (SELECT value FROM json_each(?))').run(ids);
  if (hasVectors) {
    const deleteVector = database.prepare('DELETE FROM chunk_vectors WHERE rowid = ?');
    for (const rowid of rowids) deleteVector.run(BigInt(rowid));
  }
  removed.push(...rowids);
  database.prepare('DELETE FROM chunks WHERE document_id = ?').run(documentId);
}
