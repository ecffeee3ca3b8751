import weaviate, { type Collection, type ConsistencyLevel, type WeaviateClient } from 'weaviate-client';
import type { EmbeddingSpace, Filter } from '../../ports.ts';
import type { SerialQueues } from '../serial-queues.ts';
import type { CollectionNames, CollectionSchema } from './collections.ts';
import { type MappedFilter, mapFilter } from './filter-mapping.ts';
import {
  documentReturnProperties,
  documentUuid,
  type StoredRecord,
  toStoredRecord,
  vectorName,
  type WeaviateObject,
} from './objects.ts';
import type { RequestOptions, WeaviateConnection } from './weaviate-connection.ts';

/** Where the store reports what went wrong after a write had already succeeded (pino-compatible). */
export interface WarningLogger {
  warn(details: Record<string, unknown>, message: string): void;
}

/** What every tenant's access shares: the store's connection, collections and settings. */
export interface StoreContext {
  readonly connection: WeaviateConnection;
  readonly names: CollectionNames;
  readonly schemas: { readonly chunks: CollectionSchema; readonly documents: CollectionSchema };
  readonly consistencyLevel: ConsistencyLevel | undefined;
  readonly logger: WarningLogger | undefined;
  /** Writes run one at a time per tenant (see document-writer.ts). */
  readonly writes: SerialQueues;
  /** Makes sure the collections exist. */
  prepare(): Promise<void>;
  /** The space the chunks' vectors are in; null when the store is keyword-only. */
  space(): Promise<EmbeddingSpace | null>;
}

export interface TenantCollections {
  chunks: Collection;
  documents: Collection;
}

/** The largest number of objects one read or delete asks for (Weaviate's default query maximum). */
export const pageLimit = 10_000;
/** Ids per `containsAny` condition. */
const idsPerCondition = 1000;

/** An object Weaviate refused to write, by its index in the batch. */
export interface ObjectFailure {
  index: number;
  message: string;
}

/** One object's outcome in the reply of `POST /v1/batch/objects`, in the order sent. */
interface BatchReply {
  result?: { errors?: { error?: { message: string }[] } };
}

/** One tenant's handles on the collections, and the reads both writes and searches need. */
export class TenantAccess {
  readonly context: StoreContext;
  readonly tenant: string;

  constructor(context: StoreContext, tenant: string) {
    this.context = context;
    this.tenant = tenant;
  }

  /** A request on the tenant's shards, after the collections are known to exist. */
  async request<T>(
    description: string,
    operation: (collections: TenantCollections, client: WeaviateClient) => Promise<T>,
    options?: RequestOptions<T>,
  ): Promise<T> {
    await this.context.prepare();
    return this.context.connection.request(
      description,
      (client) => operation(this.collectionsOf(client), client),
      options,
    );
  }

  /**
   * Writes objects to the tenant's shard of one collection in one REST batch, and returns the ones
   * Weaviate refused, by their index in `objects`. REST rather than the client's `insertMany`:
   * weaviate-client 3.12 prepares a batch one object per timer tick and then polls for the result
   * every 500 ms, which held writes near 200 objects a second.
   */
  async insert(
    description: string,
    collection: keyof TenantCollections,
    objects: readonly WeaviateObject[],
  ): Promise<ObjectFailure[]> {
    await this.context.prepare();
    const level = this.context.consistencyLevel;
    const replies = await this.context.connection.rest<BatchReply[]>(description, {
      method: 'POST',
      path: '/batch/objects',
      ...(level ? { query: { consistency_level: level } } : {}),
      body: {
        objects: objects.map((object) => ({
          class: this.context.names[collection],
          tenant: this.tenant,
          id: object.id,
          properties: object.properties,
          ...(object.vectors ? { vectors: { [vectorName]: object.vectors } } : {}),
        })),
      },
    });
    return replies.flatMap((reply, index) => {
      const errors = reply.result?.errors?.error ?? [];
      return errors.length === 0 ? [] : [{ index, message: errors.map((error) => error.message).join('; ') }];
    });
  }

  /** The stored records of the documents with these ids, by id; absent ones are left out. */
  async records(ids: readonly string[]): Promise<Map<string, StoredRecord>> {
    const records = new Map<string, StoredRecord>();
    for (let start = 0; start < ids.length; start += idsPerCondition) {
      const uuids = ids.slice(start, start + idsPerCondition).map((id) => documentUuid(this.tenant, id));
      const page = await this.request(
        'read document records',
        ({ documents }) =>
          documents.query.fetchObjects({
            filters: weaviate.filter.byId().containsAny(uuids),
            limit: uuids.length,
            returnProperties: [...documentReturnProperties],
          }),
        { whenTenantMissing: () => ({ objects: [] }) },
      );
      for (const object of page.objects) {
        const record = toStoredRecord(object.properties);
        records.set(record.id, record);
      }
    }
    return records;
  }

  /**
   * A ragql filter over one collection's properties. When it names a metadata property the cached
   * schema lacks, the schema is read again once, as another process may have added it.
   */
  async filterFor(collection: keyof TenantCollections, filter: Filter): Promise<MappedFilter> {
    if (filter.length === 0) return { kind: 'everything' };
    const schema = this.context.schemas[collection];
    const mapWith = async () => {
      const names = await this.request('read the schema', (_, client) => schema.propertyNames(client));
      let missing = false;
      const mapped = mapFilter(filter, (name) => {
        const known = names.has(name);
        missing ||= !known;
        return known;
      });
      return { mapped, missing };
    };
    const first = await mapWith();
    if (!first.missing) return first.mapped;
    schema.forget();
    return (await mapWith()).mapped;
  }

  private collectionsOf(client: WeaviateClient): TenantCollections {
    const handle = (name: string) => {
      const collection = client.collections.get(name).withTenant(this.tenant);
      const level = this.context.consistencyLevel;
      return level ? collection.withConsistency(level) : collection;
    };
    return { chunks: handle(this.context.names.chunks), documents: handle(this.context.names.documents) };
  }
}
