import { WeaviateStore } from '../../src/stores/weaviate/weaviate-store.ts';
import { connectWeaviateClient, describeWithWeaviate, uniqueCollectionName } from '../support/weaviate.ts';
import { contractSpace, describeStoreContract } from './store-contract.ts';

describeWithWeaviate('the Weaviate store contract', (endpoint) => {
  describeStoreContract('Weaviate (collections of its own on the shared node)', async () => {
    const collectionPrefix = uniqueCollectionName('Contract');
    const store = new WeaviateStore({ ...endpoint, collectionPrefix });
    await store.bindEmbeddingSpace(contractSpace);
    return {
      store,
      dispose: async () => {
        await store.close();
        const client = await connectWeaviateClient(endpoint);
        try {
          await client.collections.delete(`${collectionPrefix}Chunks`);
          await client.collections.delete(`${collectionPrefix}Documents`);
        } finally {
          await client.close();
        }
      },
    };
  });
});
