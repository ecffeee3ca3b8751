import type { TenantStore } from '../ports.ts';

/**
 * A tenant store whose calls wait for the store they go to: one opened on first use (a tenant's
 * file, the serving generation), handed back synchronously by `forTenant`.
 */
export function deferredTenantStore(store: () => Promise<TenantStore>): TenantStore {
  return {
    getDocuments: async (ids) => (await store()).getDocuments(ids),
    listDocuments: async (request) => (await store()).listDocuments(request),
    getChunks: async (documentId) => (await store()).getChunks(documentId),
    getChunkEmbeddings: async (documentId) => (await store()).getChunkEmbeddings(documentId),
    upsertDocuments: async (documents) => (await store()).upsertDocuments(documents),
    deleteDocument: async (id) => (await store()).deleteDocument(id),
    search: async (request) => (await store()).search(request),
  };
}
