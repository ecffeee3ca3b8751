import { randomUUID } from 'node:crypto';
import weaviate, { Filters, type FilterValue } from 'weaviate-client';
import { RagqlError } from '../../errors.ts';
import type { DocumentToStore, EmbeddingSpace } from '../../ports.ts';
import { metadataPropertiesOf } from './filter-properties.ts';
import {
  chunkObject,
  documentKey,
  documentObject,
  documentUuid,
  type StoredRecord,
  type WeaviateObject,
} from './objects.ts';
import { type ObjectFailure, pageLimit, type TenantAccess, type TenantCollections } from './tenant-access.ts';

/**
 * Writing documents to Weaviate, which has no transactions, so that each document is stored whole
 * or not at all and readers see its old version or its new one, never a mix:
 *
 * 1. The new revision's chunks are written under a write id of their own (a random one per call;
 *    see objects.ts), beside the chunks readers use. Readers ignore them: a chunk counts only when
 *    its write is the one its document record names (see search.ts and tenant-store.ts).
 * 2. The document records are written, naming the new write: this switches each document to its
 *    new revision.
 * 3. The chunks of the writes they replaced are deleted.
 *
 * If step 1 or 2 fails, the records are put back as they were and this call's chunks removed,
 * and the error is UPSTREAM_FAILED (or UPSTREAM_UNAVAILABLE) naming what failed. Once step 2 has
 * succeeded the write stands: a failure in step 3 leaves the replaced chunks behind, invisible to
 * readers until the document is deleted, and is only logged.
 *
 * Two writes to one document must not interleave, so writes run one at a time per tenant in this
 * process (SerialQueues). Step 3 deletes by the replaced write rather than "anything but the new
 * one", so even writers in two processes never delete each other's live chunks.
 *
 * When Weaviate goes down mid-write, the write gives up at once and its rollback fails too: what
 * remains is consistent (each record names chunks that exist), and the requests given up on are
 * aborted (see weaviate-connection.ts), so none of them lands later.
 *
 * Why a write id, not the revision: a Weaviate 1.38 node killed during a batch can come back with
 * some of its objects stored but missing from the filter indexes, and writing the same objects
 * again does not repair them (Weaviate skips the index of a property whose value is unchanged). A
 * retry of the same revision under the same ids would then leave a document whose chunks cannot
 * all be found. Under a new write id the retry stores new objects, indexed whole; what the cut
 * write left stays invisible to readers, and the objects that filters cannot find cannot be
 * deleted by document either: they remain as unused space.
 */

/** Objects per batch write, and ids per delete condition. */
const objectsPerBatch = 200;
/** Documents per deleteMany condition. */
const documentsPerDelete = 100;

export async function writeDocuments(
  access: TenantAccess,
  documents: readonly DocumentToStore[],
): Promise<void> {
  if (documents.length === 0) return;
  const space = await access.context.space();
  for (const document of documents) checkVectors(document, space);
  await access.context.writes.run(access.tenant, () => writeInOrder(access, documents, space));
}

async function writeInOrder(
  access: TenantAccess,
  documents: readonly DocumentToStore[],
  space: EmbeddingSpace | null,
): Promise<void> {
  const previous = await access.records(documents.map((document) => document.id));
  // A document whose record already names this revision has exactly these chunks stored.
  const changed = documents.filter(
    (document) => previous.get(document.id)?.revisionHash !== document.revisionHash,
  );
  if (changed.length === 0) return;
  await addMetadataProperties(access, changed);

  const now = new Date();
  const writeId = randomUUID();
  const chunks = changed.flatMap((document) =>
    document.chunks.map((chunk) => chunkObject(access.tenant, document, chunk, space, writeId)),
  );
  const records = changed.map((document) => {
    const { chunks: documentChunks, ...fields } = document;
    const createdAt = document.createdAt ?? previous.get(document.id)?.createdAt ?? now;
    return documentObject(access.tenant, {
      ...fields,
      writeId,
      chunkCount: documentChunks.length,
      createdAt,
      updatedAt: document.updatedAt ?? now,
    });
  });

  try {
    await insertInBatches(access, 'chunks', chunks);
  } catch (error) {
    await undo(access, chunks, [], error);
    throw error;
  }
  try {
    await insertInBatches(access, 'documents', records);
  } catch (error) {
    const restore = changed.map((document) => ({
      id: document.id,
      record: previous.get(document.id) ?? null,
    }));
    await undo(access, chunks, restore, error);
    throw error;
  }
  await deleteReplacedChunks(access, changed, previous);
}

/** The embedded store's rule: with an embedding space, every chunk has a vector of its size. */
function checkVectors(document: DocumentToStore, space: EmbeddingSpace | null): void {
  if (!space) return;
  for (const chunk of document.chunks) {
    if (!chunk.embedding || chunk.embedding.length !== space.dimensions) {
      throw new Error(
        `Chunk ${chunk.id} has ${chunk.embedding ? `${chunk.embedding.length} dimensions` : 'no embedding'}; the store expects ${space.dimensions}.`,
      );
    }
  }
}

async function addMetadataProperties(access: TenantAccess, documents: readonly DocumentToStore[]) {
  const needed = new Map(documents.flatMap((document) => [...metadataPropertiesOf(document.metadata)]));
  if (needed.size === 0) return;
  const { schemas } = access.context;
  await access.request('add metadata properties', async (_, client) => {
    await schemas.chunks.addMissing(client, needed);
    await schemas.documents.addMissing(client, needed);
  });
}

async function insertInBatches(
  access: TenantAccess,
  collection: keyof TenantCollections,
  objects: readonly WeaviateObject[],
): Promise<void> {
  const what = collection === 'chunks' ? 'chunks' : 'document records';
  for (let start = 0; start < objects.length; start += objectsPerBatch) {
    const batch = objects.slice(start, start + objectsPerBatch);
    const failures = await access.insert(`store ${what}`, collection, batch);
    if (failures.length > 0) throw refused(what, batch, failures);
  }
}

/** Weaviate refused some objects: the error names the first, and keeps Weaviate's reasons as its cause. */
function refused(
  what: string,
  batch: readonly WeaviateObject[],
  failures: readonly ObjectFailure[],
): RagqlError {
  const first = failures[0] && batch[failures[0].index]?.properties;
  const subject =
    first === undefined
      ? 'an object'
      : 'chunkId' in first
        ? `chunk ${String(first.chunkId)}`
        : `the record of document ${String(first.documentId)}`;
  const error = new RagqlError(
    'UPSTREAM_FAILED',
    `Weaviate refused ${failures.length} of ${batch.length} ${what} (the first: ${subject}); nothing of this call was kept.`,
  );
  error.cause = new Error(failures.map(({ index, message }) => `#${index}: ${message}`).join('\n'));
  return error;
}

/**
 * Puts the records back and removes this call's chunks, records first: a record must never name a
 * revision whose chunks are gone. What cannot be undone stays consistent (a document at its new
 * revision, or chunks no record names) and is logged.
 */
async function undo(
  access: TenantAccess,
  chunks: readonly WeaviateObject[],
  restore: readonly { id: string; record: StoredRecord | null }[],
  cause: unknown,
): Promise<void> {
  try {
    const previous = restore.flatMap(({ record }) => (record ? [documentObject(access.tenant, record)] : []));
    await insertInBatches(access, 'documents', previous);
    const created = restore
      .filter(({ record }) => record === null)
      .map(({ id }) => documentUuid(access.tenant, id));
    await deleteByIds(access, 'documents', created);
    await deleteByIds(
      access,
      'chunks',
      chunks.map((chunk) => chunk.id),
    );
  } catch (error) {
    access.context.logger?.warn(
      { err: error, cause, tenant: access.tenant, documents: restore.map(({ id }) => id) },
      'Could not undo a failed Weaviate write; readers still see whole documents, and unused chunks may remain',
    );
  }
}

async function deleteByIds(
  access: TenantAccess,
  collection: keyof TenantCollections,
  ids: readonly string[],
) {
  for (let start = 0; start < ids.length; start += objectsPerBatch) {
    const part = ids.slice(start, start + objectsPerBatch);
    await access.request(
      'remove objects',
      async (collections) => {
        await collections[collection].data.deleteMany(weaviate.filter.byId().containsAny(part));
      },
      { whenTenantMissing: () => undefined },
    );
  }
}

async function deleteReplacedChunks(
  access: TenantAccess,
  documents: readonly DocumentToStore[],
  previous: ReadonlyMap<string, StoredRecord>,
): Promise<void> {
  // One write id may cover several documents: each condition names the document too.
  const replaced: FilterValue[] = documents.flatMap((document) => {
    const writeId = previous.get(document.id)?.writeId;
    if (writeId === undefined) return [];
    return [
      Filters.and(
        weaviate.filter.byProperty('documentKey').equal(documentKey(document.id)),
        weaviate.filter.byProperty('writeId').equal(writeId),
      ),
    ];
  });
  try {
    for (let start = 0; start < replaced.length; start += documentsPerDelete) {
      const part = replaced.slice(start, start + documentsPerDelete);
      const condition = part.length === 1 && part[0] ? part[0] : Filters.or(...part);
      await deleteMatching(access, condition);
    }
  } catch (error) {
    access.context.logger?.warn(
      { err: error, tenant: access.tenant, documents: documents.map((document) => document.id) },
      'Documents were updated in Weaviate, but the chunks of their previous revisions could not be removed; readers ignore them',
    );
  }
}

/** Deletes the tenant's chunks that match, in as many calls as Weaviate's per-call maximum needs. */
export async function deleteMatching(access: TenantAccess, condition: FilterValue): Promise<number> {
  let deleted = 0;
  for (;;) {
    const result = await access.request(
      'remove chunks',
      (collections) => collections.chunks.data.deleteMany(condition),
      { whenTenantMissing: () => ({ failed: 0, matches: 0, successful: 0, objects: undefined }) },
    );
    deleted += result.successful;
    if (result.failed > 0) {
      throw new RagqlError('UPSTREAM_FAILED', `Weaviate failed to remove ${result.failed} chunks.`);
    }
    if (result.matches < pageLimit) return deleted;
  }
}
