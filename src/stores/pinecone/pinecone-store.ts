import { RagqlError } from '../../errors.ts';
import {
  describeSpace,
  type EmbeddingSpace,
  type StoreEngine,
  type StoreReadiness,
  sameSpace,
  type TenantStore,
  tenantNamePattern,
} from '../../ports.ts';
import { spaceMismatch } from '../embedding-space-guard.ts';
import { SerialQueues } from '../serial-queues.ts';
import { assertTenantName } from '../tenant-name.ts';
import { PineconeConnection, type PineconeConnectionOptions } from './pinecone-connection.ts';
import { PineconeTenantStore, type WarningLogger } from './pinecone-tenant-store.ts';
import { placeholderVector } from './record-layout.ts';
import { TenantStatistics } from './tenant-statistics.ts';

export interface PineconeStoreOptions extends PineconeConnectionOptions {
  logger?: WarningLogger | undefined;
  /**
   * Put before each of the store's namespaces: a generation's (`ragql.g<n>.`, generations.ts).
   * @default none: a tenant's namespace is its name
   */
  namespacePrefix?: string;
}

/** The namespace of a store's own record, after its prefix; no tenant can have its name (tenant names have no `.`). */
export const storeNamespace = 'ragql.store';
const spaceRecordId = 'embedding-space';

interface Binding {
  dimensions: number;
  space: EmbeddingSpace | null;
}

/**
 * The Pinecone store: every tenant a namespace of one serverless index, which must be dense, use
 * the dotproduct metric (Pinecone scores sparse vectors, ragql's BM25, only there) and have the
 * embedder's dimensions. Records are laid out as record-layout.ts describes. The index is checked
 * once Pinecone answers: ragql starts while Pinecone cannot be reached, and requests fail with
 * UPSTREAM_UNAVAILABLE until it can.
 */
export class PineconeStore implements StoreEngine {
  readonly kind = 'pinecone';
  private readonly connection: PineconeConnection;
  private readonly writes = new SerialQueues();
  private readonly logger: WarningLogger | undefined;
  private readonly namespacePrefix: string;
  /** undefined until bound: keyword-only is null. */
  private space: EmbeddingSpace | null | undefined;
  private binding: Binding | undefined;
  /** The index checked and the space recorded, once; forgotten when it failed, to be tried again. */
  private preparation: Promise<Binding> | undefined;

  constructor(options: PineconeStoreOptions) {
    this.connection = new PineconeConnection(options);
    this.logger = options.logger;
    this.namespacePrefix = options.namespacePrefix ?? '';
  }

  async bindEmbeddingSpace(space: EmbeddingSpace | null): Promise<void> {
    this.space = space;
    this.preparation = undefined;
    this.binding = undefined;
    await this.ready();
  }

  forTenant(tenant: string): TenantStore {
    assertTenantName(tenant);
    const store = this;
    return new PineconeTenantStore(this.tenantNamespace(tenant), {
      ready: () => this.ready(),
      get dimensions() {
        return store.bound().dimensions;
      },
      space: () => store.bound().space,
      writes: this.writes,
      logger: this.logger,
    });
  }

  async readiness(): Promise<StoreReadiness> {
    try {
      await this.ready();
      await this.connection.describe();
      return { ready: true };
    } catch (error) {
      return { ready: false, reason: (error as Error).message };
    }
  }

  async close(): Promise<void> {
    // The SDK holds no connection of its own between requests.
  }

  private tenantNamespace(tenant: string) {
    return this.connection.namespace(this.namespacePrefix + tenant);
  }

  /** The namespace of the store's own record. */
  private ownNamespace() {
    return this.connection.namespace(this.namespacePrefix + storeNamespace);
  }

  private bound(): Binding {
    if (!this.binding) throw new Error('The Pinecone store is used before it is ready.');
    return this.binding;
  }

  private ready(): Promise<Binding> {
    if (this.space === undefined) {
      return Promise.reject(new Error('The Pinecone store is used before bindEmbeddingSpace.'));
    }
    const space = this.space;
    this.preparation ??= this.prepare(space).then(
      (binding) => {
        this.binding = binding;
        return binding;
      },
      (error: unknown) => {
        this.preparation = undefined;
        throw error;
      },
    );
    return this.preparation;
  }

  private async prepare(space: EmbeddingSpace | null): Promise<Binding> {
    const { dimension, namespaces } = await this.connection.describe();
    const index = `The Pinecone index at ${this.connection.host}`;
    if (space && space.dimensions !== dimension) {
      throw new RagqlError(
        'EMBEDDING_SPACE_MISMATCH',
        `${index} holds vectors of ${dimension} dimensions, but ragql is configured with ${describeSpace(space)}. A Pinecone index keeps the dimensions it was created with: create one of ${space.dimensions} dimensions with the dotproduct metric and set PINECONE_INDEX_HOST to its host, or configure an embedder of ${dimension} dimensions (RAGQL_EMBEDDER, RAGQL_EMBEDDING_MODEL, RAGQL_EMBEDDING_DIMENSIONS).`,
      );
    }
    const own = this.ownNamespace();
    await this.checkSparseQueries(index, dimension);
    const stored = (await own.fetch([spaceRecordId])).get(spaceRecordId)?.metadata;
    const storedSpace: EmbeddingSpace | null | undefined = !stored
      ? undefined
      : stored.keywordOnly === true
        ? null
        : {
            provider: String(stored.provider),
            modelId: String(stored.modelId),
            dimensions: Number(stored.dimensions),
          };
    if (storedSpace !== undefined && !sameSpace(storedSpace, space)) {
      const tenants = tenantsInNamespaces(Object.keys(namespaces), this.namespacePrefix);
      // Any record of a tenant refuses another space: statistics that drifted cannot let one in.
      const records = tenants.reduce(
        (sum, tenant) => sum + (namespaces[this.namespacePrefix + tenant] ?? 0),
        0,
      );
      let chunkCount = 0;
      for (const tenant of tenants) {
        chunkCount += (await new TenantStatistics(this.tenantNamespace(tenant), () => dimension).corpus())
          .chunks;
      }
      if (records > 0) {
        throw spaceMismatch({
          holder: index,
          stored: storedSpace,
          configured: space,
          chunkCount: chunkCount > 0 ? chunkCount : records,
          freshStart: 'create a new index and set PINECONE_INDEX_HOST to its host',
        });
      }
    }
    if (storedSpace === undefined || !sameSpace(storedSpace, space)) {
      await own.upsert([
        {
          id: spaceRecordId,
          values: placeholderVector(dimension),
          metadata: space
            ? { provider: space.provider, modelId: space.modelId, dimensions: space.dimensions }
            : { keywordOnly: true },
        },
      ]);
    }
    return { dimensions: dimension, space };
  }

  /** Keyword search is a sparse query, which Pinecone answers on dotproduct indexes only. */
  private async checkSparseQueries(index: string, dimension: number): Promise<void> {
    try {
      await this.ownNamespace().query({
        vector: placeholderVector(dimension),
        sparseVector: { indices: [0], values: [1] },
        topK: 1,
      });
    } catch (error) {
      if (!(error instanceof RagqlError) || error.code !== 'UPSTREAM_FAILED') throw error;
      const refusal = new RagqlError(
        'UPSTREAM_FAILED',
        `${index} refuses sparse queries, which ragql's keyword search needs: create the index with the dotproduct metric.`,
      );
      refusal.cause = error;
      throw refusal;
    }
  }
}

/** The tenants whose namespaces, among these, carry the prefix: the rest of the name is a tenant name. */
export function tenantsInNamespaces(namespaces: Iterable<string>, prefix: string): string[] {
  const tenants: string[] = [];
  for (const name of namespaces) {
    const tenant = name.slice(prefix.length);
    if (name.startsWith(prefix) && tenantNamePattern.test(tenant)) tenants.push(tenant);
  }
  return tenants.sort();
}
