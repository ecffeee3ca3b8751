import type { ConsistencyLevel, WeaviateClient } from 'weaviate-client';
import { RagqlError } from '../../errors.ts';
import {
  type EmbeddingSpace,
  type StoreEngine,
  type StoreReadiness,
  sameSpace,
  type TenantStore,
} from '../../ports.ts';
import { spaceMismatch } from '../embedding-space-guard.ts';
import { SerialQueues } from '../serial-queues.ts';
import { assertTenantName } from '../tenant-name.ts';
import {
  CollectionSchema,
  chunkCollectionConfig,
  chunkLocationProperty,
  collectionNames,
  documentCollectionConfig,
} from './collections.ts';
import { describeCollectionSpace, spaceOfDescription } from './embedding-space.ts';
import type { StoreContext, WarningLogger } from './tenant-access.ts';
import { WeaviateTenantStore } from './tenant-store.ts';
import { WeaviateConnection } from './weaviate-connection.ts';

/** The collections' prefix unless told: `RagqlChunks` and `RagqlDocuments`. */
export const defaultCollectionPrefix = 'Ragql';

export interface WeaviateStoreOptions {
  /** Weaviate's HTTP address, e.g. `http://127.0.0.1:8080`. */
  httpUrl: string;
  /** Weaviate's gRPC address, `host:port`. @default `defaultGrpcAddress(httpUrl)` */
  grpcAddress?: string | undefined;
  apiKey?: string | undefined;
  /** Names the collections `<prefix>Chunks` and `<prefix>Documents`. @default `defaultCollectionPrefix` */
  collectionPrefix?: string | undefined;
  /** Applied to every read and write. @default Weaviate's own (QUORUM) */
  consistencyLevel?: ConsistencyLevel | undefined;
  /** Copies of each tenant's shard, when ragql creates the collections. @default Weaviate's own (1) */
  replicationFactor?: number | undefined;
  /** Told about writes that succeeded but left unused chunks behind, or could not be undone. */
  logger?: WarningLogger | undefined;
}

/**
 * The scale-out store: documents and chunks in Weaviate, each tenant in its own shard of two
 * multi-tenant collections (see collections.ts), vectors supplied by ragql, keyword search on
 * ragql's own analysis of the text. It connects on first use and survives Weaviate being down:
 * requests then fail at once with UPSTREAM_UNAVAILABLE, readiness says why, and both recover by
 * themselves when Weaviate is back (see weaviate-connection.ts).
 */
export class WeaviateStore implements StoreEngine {
  readonly kind = 'weaviate';
  private readonly connection: WeaviateConnection;
  private readonly context: StoreContext;
  private readonly settings: { replicationFactor: number | undefined };
  /** The space bindEmbeddingSpace set; until then, the one the collection records. */
  private boundSpace: EmbeddingSpace | null | undefined;
  /** The space asked for, and its check against the collection's once Weaviate answers. */
  private binding: { space: EmbeddingSpace | null; checked: Promise<void> | undefined } | undefined;
  private recordedSpace: Promise<EmbeddingSpace | null | undefined> | undefined;
  private preparing: Promise<void> | undefined;

  constructor(options: WeaviateStoreOptions) {
    this.connection = new WeaviateConnection(options);
    const names = collectionNames(options.collectionPrefix ?? defaultCollectionPrefix);
    this.settings = { replicationFactor: options.replicationFactor };
    this.context = {
      connection: this.connection,
      names,
      schemas: {
        chunks: new CollectionSchema(names.chunks),
        documents: new CollectionSchema(names.documents),
      },
      consistencyLevel: options.consistencyLevel,
      logger: options.logger,
      writes: new SerialQueues(),
      prepare: () => this.ready(),
      space: async () =>
        this.boundSpace !== undefined ? this.boundSpace : ((await this.spaceOnRecord()) ?? null),
    };
  }

  /**
   * Binds the space, checking it against the one Weaviate records. When Weaviate cannot be
   * reached this throws UPSTREAM_UNAVAILABLE but keeps the binding: the check runs before the
   * first request that reaches Weaviate, so ragql can start while Weaviate is down.
   */
  bindEmbeddingSpace(space: EmbeddingSpace | null): Promise<void> {
    this.binding = { space, checked: undefined };
    return this.checkedBinding();
  }

  /** The collections exist and the bound space is checked: what every request waits for. */
  private async ready(): Promise<void> {
    await this.prepare();
    await this.checkedBinding();
  }

  /** The binding's check, run once; again after Weaviate was unreachable, never after a mismatch. */
  private checkedBinding(): Promise<void> {
    const binding = this.binding;
    if (!binding) return Promise.resolve();
    if (!binding.checked) {
      const checked = this.applyBinding(binding.space);
      binding.checked = checked;
      checked.catch((error: unknown) => {
        const unreachable = error instanceof RagqlError && error.code === 'UPSTREAM_UNAVAILABLE';
        if (unreachable && binding.checked === checked) binding.checked = undefined;
      });
    }
    return binding.checked;
  }

  private async applyBinding(space: EmbeddingSpace | null): Promise<void> {
    await this.prepare();
    this.recordedSpace = undefined;
    const recorded = await this.spaceOnRecord();
    if (recorded !== undefined && !sameSpace(recorded, space)) {
      const chunkCount = await this.countChunks();
      if (chunkCount > 0) {
        throw spaceMismatch({
          holder: `The Weaviate collection ${this.context.names.chunks}`,
          stored: recorded,
          configured: space,
          chunkCount,
          freshStart: 'set RAGQL_WEAVIATE_COLLECTION_PREFIX to a new prefix',
        });
      }
      // Empty in every tenant: start a collection for the new space, whose vectors may differ in size.
      await this.recreateChunkCollection(space);
    } else if (recorded === undefined) {
      await this.connection.request('record the embedding space', (client) =>
        client.collections
          .get(this.context.names.chunks)
          .config.update({ description: describeCollectionSpace(space) }),
      );
    }
    this.recordedSpace = Promise.resolve(space);
    this.boundSpace = space;
  }

  forTenant(tenant: string): TenantStore {
    assertTenantName(tenant);
    return new WeaviateTenantStore(this.context, tenant);
  }

  async readiness(): Promise<StoreReadiness> {
    const reason = await this.connection.unavailability(true);
    if (reason !== null) return { ready: false, reason };
    try {
      await this.ready();
      return { ready: true };
    } catch (error) {
      // For operators: Weaviate's own words (a refused API key, say) are part of the reason.
      const cause =
        error instanceof Error && error.cause instanceof Error
          ? ` (${error.cause.message.slice(0, 300)})`
          : '';
      return { ready: false, reason: `${error instanceof Error ? error.message : String(error)}${cause}` };
    }
  }

  close(): Promise<void> {
    return this.connection.close();
  }

  /**
   * Creates the collections that do not exist yet, and adds to those an older ragql created the
   * properties they lack; once per store (again after a failure).
   */
  private prepare(): Promise<void> {
    if (!this.preparing) {
      const preparing = this.connection.request('create the collections', (client) =>
        this.createMissing(client),
      );
      this.preparing = preparing;
      preparing.catch(() => {
        if (this.preparing === preparing) this.preparing = undefined;
      });
    }
    return this.preparing;
  }

  private async createMissing(client: WeaviateClient): Promise<void> {
    const { names, schemas } = this.context;
    const configs = [
      chunkCollectionConfig(names.chunks, 'ragql chunks', this.settings),
      documentCollectionConfig(names.documents, this.settings),
    ];
    for (const config of configs) {
      if (await client.collections.exists(config.name)) {
        // Each chunk's pages and section path, which chunks collections created before lack.
        if (config.name === names.chunks) await schemas.chunks.addOwnProperty(client, chunkLocationProperty);
        continue;
      }
      try {
        await client.collections.create(config);
      } catch (error) {
        // Another ragql process may have created it meanwhile.
        if (!(await client.collections.exists(config.name))) throw error;
      }
    }
  }

  /** The space the chunks collection records: undefined when it records none. */
  private spaceOnRecord(): Promise<EmbeddingSpace | null | undefined> {
    if (!this.recordedSpace) {
      const reading = this.prepare().then(() =>
        this.connection.request('read the embedding space', async (client) => {
          const config = await client.collections.get(this.context.names.chunks).config.get();
          return spaceOfDescription(config.description);
        }),
      );
      this.recordedSpace = reading;
      reading.catch(() => {
        if (this.recordedSpace === reading) this.recordedSpace = undefined;
      });
    }
    return this.recordedSpace;
  }

  /** Chunks in every tenant, counted tenant by tenant. */
  private countChunks(): Promise<number> {
    return this.connection.request('count chunks', async (client) => {
      const chunks = client.collections.get(this.context.names.chunks);
      const level = this.context.consistencyLevel;
      let total = 0;
      for (const tenant of Object.keys(await chunks.tenants.get())) {
        const shard = chunks.withTenant(tenant);
        total += (await (level ? shard.withConsistency(level) : shard).aggregate.overAll()).totalCount;
      }
      return total;
    });
  }

  private async recreateChunkCollection(space: EmbeddingSpace | null): Promise<void> {
    const { names, schemas } = this.context;
    await this.connection.request('recreate the chunks collection', async (client) => {
      await client.collections.delete(names.chunks);
      await client.collections.create(
        chunkCollectionConfig(names.chunks, describeCollectionSpace(space), this.settings),
      );
    });
    schemas.chunks.forget();
  }
}
