import weaviate, { Filters, type FilterValue, Sorting, type WeaviateField } from 'weaviate-client';
import { RagqlError } from '../../errors.ts';
import type {
  ChunkRecord,
  DocumentPageRequest,
  DocumentRecord,
  DocumentToStore,
  SearchHit,
  SearchRequest,
  TenantStore,
} from '../../ports.ts';
import { deleteMatching, writeDocuments } from './document-writer.ts';
import {
  chunkReturnProperties,
  documentKey,
  documentKeyDescending,
  documentReturnProperties,
  documentUuid,
  toChunkRecord,
  toDocumentRecord,
  vectorName,
} from './objects.ts';
import { searchChunks } from './search.ts';
import type { StoreContext } from './tenant-access.ts';
import { TenantAccess } from './tenant-access.ts';

/** Chunks per read of a document's chunks. */
const chunksPerPage = 1000;
/** Reads of a document's chunks before getChunks gives up because writes keep replacing it. */
const maxChunkReads = 3;

/** One tenant's documents in Weaviate: every request goes to the tenant's own shards. */
export class WeaviateTenantStore implements TenantStore {
  private readonly access: TenantAccess;

  constructor(context: StoreContext, tenant: string) {
    this.access = new TenantAccess(context, tenant);
  }

  async getDocuments(ids: readonly string[]): Promise<(DocumentRecord | null)[]> {
    if (ids.length === 0) return [];
    const records = await this.access.records(ids);
    return ids.map((id) => {
      const stored = records.get(id);
      if (!stored) return null;
      const { writeId: _, ...record } = stored;
      return record;
    });
  }

  /**
   * A page in id order. Weaviate sorts text case-insensitively, so the sort is on the ids' hex keys;
   * and always ascending, on the key for the direction asked (see `documentKeyDescending`).
   */
  async listDocuments(request: DocumentPageRequest): Promise<DocumentRecord[]> {
    const mapped = await this.access.filterFor('documents', request.filter);
    if (mapped.kind === 'nothing') return [];
    const [property, keyOf] = request.descending
      ? ['documentKeyDescending', documentKeyDescending]
      : ['documentKey', documentKey];
    const key = weaviate.filter.byProperty(property);
    // Range operands are typed as numbers, but strings are sent as text and compared byte-wise.
    const bound = (id: string) => keyOf(id) as unknown as number;
    // The key is above the key of the id the page starts after, and below the one it ends before.
    const [above, below] = request.descending
      ? [request.before, request.after]
      : [request.after, request.before];
    const conditions: FilterValue[] = [
      ...(above === undefined ? [] : [key.greaterThan(bound(above))]),
      ...(below === undefined ? [] : [key.lessThan(bound(below))]),
      ...(mapped.kind === 'condition' ? [mapped.filter] : []),
    ];
    const [first, ...rest] = conditions;
    const result = await this.access.request(
      'list documents',
      ({ documents }) =>
        documents.query.fetchObjects({
          filters: first && rest.length > 0 ? Filters.and(first, ...rest) : first,
          sort: sortBy(property, true),
          limit: request.limit,
          returnProperties: [...documentReturnProperties],
        }),
      { whenTenantMissing: () => ({ objects: [] }) },
    );
    return result.objects.map((object) => toDocumentRecord(object.properties));
  }

  async getChunks(documentId: string): Promise<ChunkRecord[]> {
    const chunks = await this.currentChunks(documentId, false);
    return chunks.map(({ chunk }) => chunk);
  }

  async getChunkEmbeddings(documentId: string): Promise<Map<string, Float32Array>> {
    if ((await this.access.context.space()) === null) return new Map();
    const chunks = await this.currentChunks(documentId, true);
    return new Map(
      chunks.flatMap(({ chunk, vector }) => (vector ? [[chunk.contentHash, Float32Array.from(vector)]] : [])),
    );
  }

  upsertDocuments(documents: readonly DocumentToStore[]): Promise<void> {
    return writeDocuments(this.access, documents);
  }

  /** The record first, so the document disappears at once; then every chunk it had, of any revision. */
  deleteDocument(id: string): Promise<boolean> {
    const { access } = this;
    return access.context.writes.run(access.tenant, async () => {
      const deleted = await access.request(
        'delete a document record',
        ({ documents }) =>
          documents.data.deleteMany(weaviate.filter.byId().equal(documentUuid(access.tenant, id))),
        { whenTenantMissing: () => ({ failed: 0, matches: 0, successful: 0, objects: undefined }) },
      );
      await deleteMatching(access, weaviate.filter.byProperty('documentKey').equal(documentKey(id)));
      return deleted.successful > 0;
    });
  }

  search(request: SearchRequest): Promise<SearchHit[]> {
    return searchChunks(this.access, request);
  }

  /**
   * The chunks of the write the document's record names, in order. Only that write's chunks are
   * read, and a later write deletes them only after the record names another, so reads that return
   * all of them (as many as the record counts; pages go on after the last index read, so none is
   * read twice) are the document at that revision, whatever was written meanwhile. When a write
   * deleted some during the reads, the record is read again.
   */
  private async currentChunks(
    documentId: string,
    withVectors: boolean,
  ): Promise<{ chunk: ChunkRecord; vector: number[] | undefined }[]> {
    for (let attempt = 0; attempt < maxChunkReads; attempt++) {
      const record = (await this.access.records([documentId])).get(documentId);
      if (!record) return [];
      const chunks = await this.chunksOfWrite(documentId, record.writeId, withVectors);
      if (chunks.length === record.chunkCount) return chunks;
    }
    throw new RagqlError(
      'UPSTREAM_FAILED',
      `Document ${documentId} changed during each of ${maxChunkReads} reads of its chunks; try again.`,
    );
  }

  private async chunksOfWrite(documentId: string, writeId: string, withVectors: boolean) {
    const chunks: { chunk: ChunkRecord; vector: number[] | undefined }[] = [];
    for (;;) {
      const conditions = [
        weaviate.filter.byProperty('documentKey').equal(documentKey(documentId)),
        weaviate.filter.byProperty('writeId').equal(writeId),
        weaviate.filter.byProperty('chunkIndex').greaterThan(chunks.at(-1)?.chunk.index ?? -1),
      ];
      const page = await this.access.request(
        "read a document's chunks",
        ({ chunks: collection }) =>
          collection.query.fetchObjects({
            filters: Filters.and(...conditions),
            sort: sortBy('chunkIndex', true),
            limit: chunksPerPage,
            returnProperties: [...chunkReturnProperties],
            includeVector: withVectors,
          }),
        { whenTenantMissing: () => ({ objects: [] }) },
      );
      for (const object of page.objects) {
        chunks.push({
          chunk: toChunkRecord(object.properties),
          vector: singleVector(object.vectors[vectorName]),
        });
      }
      if (page.objects.length < chunksPerPage) return chunks;
    }
  }
}

function singleVector(vector: number[] | number[][] | undefined): number[] | undefined {
  return vector?.every((value): value is number => typeof value === 'number') ? vector : undefined;
}

function sortBy(property: string, ascending: boolean): Sorting<Record<string, WeaviateField>> {
  return new Sorting<Record<string, WeaviateField>>().byProperty(property, ascending);
}
