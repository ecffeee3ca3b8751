import { sha256Hex } from '../hash.ts';
import type {
  ChunkToStore,
  DocumentRecord,
  DocumentToStore,
  Embedder,
  StoreEngine,
  TenantStore,
} from '../ports.ts';
import type { ChunkingOptions } from './chunking.ts';
import type { ChunkPreparer } from './chunking-thread.ts';
import {
  type DocumentInput,
  type DocumentLabel,
  type IngestLimits,
  type ValidDocument,
  validateDocuments,
} from './document-input.ts';
import { placeOfChunk } from './document-layout.ts';
import { whileWritingDocuments } from './document-locks.ts';
import { embedInBatches } from './embed-in-batches.ts';
import type { KeyedLocks } from './keyed-locks.ts';
import { canonicalMetadata } from './metadata.ts';

export type IngestStatus = 'CREATED' | 'UPDATED' | 'UNCHANGED';

export interface IngestedDocument {
  id: string;
  status: IngestStatus;
  chunkCount: number;
}

export interface IngestReport {
  documents: IngestedDocument[];
  created: number;
  updated: number;
  unchanged: number;
  /**
   * Chunks this call sent to the embedding model: not those whose stored vector was reused, nor
   * those the embedding cache held.
   */
  embeddedChunks: number;
}

export interface IngestServiceOptions {
  store: StoreEngine;
  /** null: keyword-only, no vectors are made. */
  embedder: Embedder | null;
  chunking: ChunkingOptions;
  /** Cuts, hashes and analyses each changed document's text, off the event loop. */
  chunks: ChunkPreparer;
  /** Texts per embedding call, capped by the embedder's own limit. @default 64 */
  embeddingBatchSize: number;
  limits: IngestLimits;
  /**
   * Whose turn it is to write a document: ingestions and deletions of one tenant's document run
   * one at a time, in this process.
   */
  documentLocks: KeyedLocks;
}

/** A document that needs writing, with the chunks it will have. */
interface PlannedWrite {
  document: ValidDocument;
  status: 'CREATED' | 'UPDATED';
  contentHash: string;
  revisionHash: string;
  chunks: ChunkToStore[];
}

/**
 * Ingestion: validate the whole batch, skip documents whose stored revision is identical, chunk the
 * rest, embed only the chunks no stored vector covers, then write every changed document in one
 * transaction. A failure anywhere before the write stores nothing.
 *
 * Each ingestion and deletion holds its documents' locks from before it reads them until its write
 * is done. Otherwise two ingestions of one new id both read "no such document", both report
 * CREATED, and the one written first is replaced without anyone being told; and an ingestion that
 * read a document before a deletion could report it UNCHANGED after the deletion reported it gone.
 */
export class IngestService {
  private readonly options: IngestServiceOptions;

  constructor(options: IngestServiceOptions) {
    this.options = options;
  }

  /**
   * Ingests into one tenant's documents. When the signal aborts (the client is gone) before the
   * write begins, nothing is written; a write that has begun completes. `labelOf` names a document
   * in the problems of a refused batch (the file it came from); by default, its position.
   */
  async ingest(
    tenant: string,
    inputs: readonly DocumentInput[],
    signal?: AbortSignal,
    labelOf?: DocumentLabel,
  ): Promise<IngestReport> {
    const documents = validateDocuments(inputs, this.options.limits, labelOf);
    return whileWritingDocuments(
      this.options.documentLocks,
      tenant,
      documents.map((document) => document.id),
      signal,
      () => this.ingestValid(tenant, documents, signal),
    );
  }

  private async ingestValid(
    tenant: string,
    documents: readonly ValidDocument[],
    signal: AbortSignal | undefined,
  ): Promise<IngestReport> {
    const store = this.options.store.forTenant(tenant);
    const existing = await store.getDocuments(documents.map((document) => document.id));
    const results: IngestedDocument[] = [];
    const writes: PlannedWrite[] = [];
    for (const [position, document] of documents.entries()) {
      const stored = existing[position] ?? null;
      const contentHash = sha256Hex(document.content);
      const revisionHash = this.revisionHash(document, contentHash);
      if (stored?.revisionHash === revisionHash) {
        results.push({ id: document.id, status: 'UNCHANGED', chunkCount: stored.chunkCount });
        continue;
      }
      const sectionStarts = document.layout?.sections?.map((section) => section.start) ?? [];
      const prepared = await this.options.chunks.prepare(
        document.content,
        this.options.chunking,
        sectionStarts,
      );
      const chunks = prepared.map((chunk) => ({
        id: `${document.id}#${chunk.index}`,
        documentId: document.id,
        index: chunk.index,
        content: chunk.content,
        startOffset: chunk.startOffset,
        endOffset: chunk.endOffset,
        contentHash: chunk.contentHash,
        keywordTerms: chunk.keywordTerms,
        ...placeOfChunk(document.layout, chunk.startOffset, chunk.endOffset),
      }));
      const status = stored ? 'UPDATED' : 'CREATED';
      writes.push({ document, status, contentHash, revisionHash, chunks });
      results.push({ id: document.id, status, chunkCount: chunks.length });
    }
    const embeddedChunks = await this.attachEmbeddings(tenant, store, writes, existing, signal);
    // A client gone before the write is told nothing: writing then would change what it last saw
    // without a report to anyone.
    signal?.throwIfAborted();
    await store.upsertDocuments(writes.map(toStoredDocument));
    return {
      documents: results,
      created: results.filter((result) => result.status === 'CREATED').length,
      updated: results.filter((result) => result.status === 'UPDATED').length,
      unchanged: results.filter((result) => result.status === 'UNCHANGED').length,
      embeddedChunks,
    };
  }

  /** Everything that decides what is stored: a change to any of it makes the document UPDATED. */
  private revisionHash(document: ValidDocument, contentHash: string): string {
    return sha256Hex(
      JSON.stringify({
        contentHash,
        title: document.title,
        source: document.source,
        metadata: canonicalMetadata(document.metadata),
        chunking: this.options.chunking,
        // Absent for documents sent as text, so their revisions are what they were before layouts.
        layout: document.layout,
      }),
    );
  }

  /**
   * Gives every chunk its vector: reused from the stored document when a chunk's text is unchanged,
   * computed otherwise (each distinct text once). Returns how many texts the model embedded.
   */
  private async attachEmbeddings(
    tenant: string,
    store: TenantStore,
    writes: PlannedWrite[],
    existing: (DocumentRecord | null)[],
    signal: AbortSignal | undefined,
  ): Promise<number> {
    const embedder = this.options.embedder;
    if (!embedder || writes.length === 0) return 0;
    const known = new Map<string, Float32Array>();
    const storedIds = new Set(existing.flatMap((document) => (document ? [document.id] : [])));
    for (const write of writes) {
      if (!storedIds.has(write.document.id)) continue;
      for (const [hash, vector] of await store.getChunkEmbeddings(write.document.id)) {
        known.set(hash, vector);
      }
    }
    const missing = new Map<string, string>();
    for (const chunk of writes.flatMap((write) => write.chunks)) {
      if (!known.has(chunk.contentHash)) missing.set(chunk.contentHash, chunk.content);
    }
    const { embeddings, cachedTexts } = await embedInBatches(embedder, [...missing.values()], {
      purpose: 'document',
      tenant,
      batchSize: this.options.embeddingBatchSize,
      signal,
    });
    for (const [position, hash] of [...missing.keys()].entries())
      known.set(hash, embeddings[position] as Float32Array);
    for (const chunk of writes.flatMap((write) => write.chunks))
      chunk.embedding = known.get(chunk.contentHash);
    return missing.size - cachedTexts;
  }
}

function toStoredDocument(write: PlannedWrite): DocumentToStore {
  return {
    id: write.document.id,
    title: write.document.title,
    source: write.document.source,
    metadata: write.document.metadata,
    contentHash: write.contentHash,
    revisionHash: write.revisionHash,
    chunkCount: write.chunks.length,
    chunks: write.chunks,
  };
}
