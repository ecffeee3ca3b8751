import type { ChunkRecord, DocumentPageRequest, DocumentRecord, StoreEngine } from '../ports.ts';
import { whileWritingDocuments } from './document-locks.ts';
import type { KeyedLocks } from './keyed-locks.ts';

/**
 * A tenant's stored documents as the API reads and deletes them; ingestion writes them. A deletion
 * waits for any write to the same document in progress, as ingestions wait for each other.
 */
export class DocumentService {
  private readonly store: StoreEngine;
  private readonly documentLocks: KeyedLocks;

  /** @param documentLocks the locks IngestService takes, so a deletion and an ingestion take turns. */
  constructor(store: StoreEngine, documentLocks: KeyedLocks) {
    this.store = store;
    this.documentLocks = documentLocks;
  }

  /** The documents with these ids, in their order; null for an id the tenant does not have. */
  get(tenant: string, ids: readonly string[]): Promise<(DocumentRecord | null)[]> {
    return this.store.forTenant(tenant).getDocuments(ids);
  }

  list(tenant: string, request: DocumentPageRequest): Promise<DocumentRecord[]> {
    return this.store.forTenant(tenant).listDocuments(request);
  }

  chunks(tenant: string, documentId: string): Promise<ChunkRecord[]> {
    return this.store.forTenant(tenant).getChunks(documentId);
  }

  /** Deletes a document and its chunks, after any write to it in progress; false if it was not there. */
  delete(tenant: string, id: string, signal?: AbortSignal): Promise<boolean> {
    return whileWritingDocuments(this.documentLocks, tenant, [id], signal, () =>
      this.store.forTenant(tenant).deleteDocument(id),
    );
  }
}
