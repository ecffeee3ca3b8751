import { generateUuid5, type WeaviateClient } from 'weaviate-client';
import type { GenerationState, StoreGenerations } from '../../ports.ts';
import { firstGenerationState, parseGenerationState } from '../generation-record.ts';
import { collectionNames, generationRecordConfig } from './collections.ts';
import { WeaviateConnection } from './weaviate-connection.ts';
import { defaultCollectionPrefix, WeaviateStore, type WeaviateStoreOptions } from './weaviate-store.ts';

/** The one object of the record collection. */
const recordId = generateUuid5('ragql generations');

type RecordProperties = { state: string };

/**
 * The Weaviate store's generations: generation 0 is the collections named by the configured
 * prefix (where every store before generations lived), generation n the same collections under
 * the prefix `<prefix>G<n>`. The record of which serves is the one object of `<prefix>Generations`,
 * which Weaviate replaces whole.
 */
export class WeaviateGenerations implements StoreGenerations {
  private readonly options: WeaviateStoreOptions;
  private readonly prefix: string;
  private readonly recordCollection: string;
  private readonly connection: WeaviateConnection;

  constructor(options: WeaviateStoreOptions) {
    this.options = options;
    this.prefix = options.collectionPrefix ?? defaultCollectionPrefix;
    this.recordCollection = `${this.prefix}Generations`;
    this.connection = new WeaviateConnection(options);
  }

  read(): Promise<GenerationState> {
    return this.connection.request('read the generations', async (client) => {
      if (!(await client.collections.exists(this.recordCollection))) return firstGenerationState;
      const record = await this.records(client).query.fetchObjectById(recordId);
      return record ? parseGenerationState(JSON.parse(record.properties.state)) : firstGenerationState;
    });
  }

  write(state: GenerationState): Promise<void> {
    const properties = { state: JSON.stringify(parseGenerationState(state)) };
    return this.connection.request('record the generations', async (client) => {
      if (!(await client.collections.exists(this.recordCollection))) {
        await client.collections.create(generationRecordConfig(this.recordCollection, this.options));
      }
      const records = this.records(client);
      if (await records.data.exists(recordId)) await records.data.replace({ id: recordId, properties });
      else await records.data.insert({ id: recordId, properties });
    });
  }

  async open(generation: number): Promise<WeaviateStore> {
    return new WeaviateStore({ ...this.options, collectionPrefix: this.prefixOf(generation) });
  }

  tenants(generation: number): Promise<string[]> {
    const { documents } = collectionNames(this.prefixOf(generation));
    return this.connection.request('list the tenants of a generation', async (client) => {
      if (!(await client.collections.exists(documents))) return [];
      return Object.keys(await client.collections.get(documents).tenants.get()).sort();
    });
  }

  async drop(generation: number): Promise<void> {
    if ((await this.read()).active === generation) {
      throw new Error(`Generation ${generation} serves: it cannot be dropped.`);
    }
    const names = collectionNames(this.prefixOf(generation));
    await this.connection.request('drop a generation', async (client) => {
      for (const name of [names.chunks, names.documents]) {
        if (await client.collections.exists(name)) await client.collections.delete(name);
      }
    });
  }

  close(): Promise<void> {
    return this.connection.close();
  }

  private records(client: WeaviateClient) {
    const records = client.collections.get<RecordProperties>(this.recordCollection);
    const level = this.options.consistencyLevel;
    return level ? records.withConsistency(level) : records;
  }

  private prefixOf(generation: number): string {
    return generation === 0 ? this.prefix : `${this.prefix}G${generation}`;
  }
}
