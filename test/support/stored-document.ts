/**
 * Documents as the ingest pipeline hands them to a store, for the tests that write to stores
 * directly: one chunk per text, the content being the texts joined by blank lines, every hash the
 * SHA-256 the pipeline would compute, and each chunk's vector the deterministic embedding of its
 * text, so a test can compute the similarity a store should report.
 */
import { createHash } from 'node:crypto';
import type { ChunkRecord, DocumentToStore, Metadata } from '../../src/ports.ts';
import { deterministicEmbedding } from './deterministic-embedding.ts';

export interface StoredDocumentSpec {
  id: string;
  /** One chunk per text. */
  texts: readonly string[];
  /** The dimensions of the chunks' vectors: those of the store's space; 0 for chunks without one. */
  dimensions: number;
  /** Tells two versions of a document apart, in its revision hash. @default '1' */
  revision?: string;
  /** @default `${id} ${revision}` */
  title?: string | null;
  /** @default null */
  source?: string | null;
  /** @default { revision } */
  metadata?: Metadata;
  /** Each chunk's pages and section path, by position. @default no pages and no section */
  locations?: readonly Partial<Pick<ChunkRecord, 'pages' | 'sectionPath'>>[];
}

export function storedDocument(spec: StoredDocumentSpec): DocumentToStore {
  const revision = spec.revision ?? '1';
  const separator = '\n\n';
  let offset = 0;
  const chunks = spec.texts.map((text, index) => {
    const startOffset = offset;
    offset += text.length + separator.length;
    return {
      id: `${spec.id}#${index}`,
      documentId: spec.id,
      index,
      content: text,
      startOffset,
      endOffset: startOffset + text.length,
      contentHash: sha256(text),
      pages: spec.locations?.[index]?.pages ?? null,
      sectionPath: spec.locations?.[index]?.sectionPath ?? [],
      ...(spec.dimensions > 0
        ? { embedding: Float32Array.from(deterministicEmbedding(text, spec.dimensions)) }
        : {}),
    };
  });
  return {
    id: spec.id,
    title: spec.title === undefined ? `${spec.id} ${revision}` : spec.title,
    source: spec.source ?? null,
    metadata: spec.metadata ?? { revision },
    contentHash: sha256(spec.texts.join(separator)),
    revisionHash: sha256(`${spec.id} revision ${revision}`),
    chunkCount: chunks.length,
    chunks,
  };
}

/** The content hash of a text, as the ingest pipeline computes it. */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
