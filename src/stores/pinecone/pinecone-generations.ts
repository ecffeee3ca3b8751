import type { GenerationState, StoreGenerations } from '../../ports.ts';
import { firstGenerationState, parseGenerationState } from '../generation-record.ts';
import { PineconeConnection } from './pinecone-connection.ts';
import {
  PineconeStore,
  type PineconeStoreOptions,
  storeNamespace,
  tenantsInNamespaces,
} from './pinecone-store.ts';
import { RecentWrites } from './recent-writes.ts';
import { placeholderVector } from './record-layout.ts';

/** The namespace and id of the record of generations; no tenant's namespace has a `.`. */
const recordNamespace = 'ragql.generations';
const recordId = 'generations';

/**
 * The Pinecone store's generations, all in the one index: generation 0 is the namespaces named by
 * tenant (where every store before generations kept them), generation n the same under the prefix
 * `ragql.g<n>.`. An index has one width, so a new generation keeps it (its store refuses a
 * space of another, naming the way: an index of its own, and a fresh ingest). The record of
 * which serves is one record of `ragql.generations`, replaced whole; Pinecone shows it to other
 * processes once it shows any write, and this process reads its own at once.
 */
export class PineconeGenerations implements StoreGenerations {
  private readonly options: PineconeStoreOptions;
  private readonly connection: PineconeConnection;
  /** Shared with the stores this opens, so that their writes count before Pinecone shows them. */
  private readonly recentWrites = new RecentWrites();

  constructor(options: PineconeStoreOptions) {
    this.options = { ...options, recentWrites: this.recentWrites };
    this.connection = new PineconeConnection(this.options);
  }

  async read(): Promise<GenerationState> {
    const record = (await this.connection.namespace(recordNamespace).fetch([recordId])).get(recordId);
    const state = record?.metadata?.state;
    return typeof state === 'string' ? parseGenerationState(JSON.parse(state)) : firstGenerationState;
  }

  async write(state: GenerationState): Promise<void> {
    const { dimension } = await this.connection.describe();
    await this.connection.namespace(recordNamespace).upsert([
      {
        id: recordId,
        values: placeholderVector(dimension),
        // `at` orders this write against another process's (recent-writes.ts).
        metadata: { state: JSON.stringify(parseGenerationState(state)), at: Date.now() },
      },
    ]);
  }

  async open(generation: number): Promise<PineconeStore> {
    return new PineconeStore({ ...this.options, namespacePrefix: prefixOf(generation) });
  }

  async tenants(generation: number): Promise<string[]> {
    const { namespaces } = await this.connection.describe();
    const names = new Set([...Object.keys(namespaces), ...this.connection.recentlyWrittenNamespaces()]);
    return tenantsInNamespaces(names, prefixOf(generation));
  }

  async drop(generation: number): Promise<void> {
    if ((await this.read()).active === generation) {
      throw new Error(`Generation ${generation} serves: it cannot be dropped.`);
    }
    const prefix = prefixOf(generation);
    const namespaces = [
      ...(await this.tenants(generation)).map((tenant) => prefix + tenant),
      prefix + storeNamespace,
    ];
    for (const namespace of namespaces) await this.connection.namespace(namespace).deleteAll();
  }

  async close(): Promise<void> {
    // The SDK holds no connection of its own between requests.
  }
}

function prefixOf(generation: number): string {
  return generation === 0 ? '' : `ragql.g${generation}.`;
}
