import type { EmbeddingSpace } from '../../src/ports.ts';
import { PineconeStore } from '../../src/stores/pinecone/pinecone-store.ts';
import { startPineconeStandin } from '../support/pinecone-standin.ts';
import { contractSpace, describeStoreContract, type StoreUnderTest } from './store-contract.ts';

/** A store on an index of its own, of the space's dimensions (a Pinecone index keeps its width). */
async function openStore(space: EmbeddingSpace): Promise<StoreUnderTest> {
  const standin = await startPineconeStandin({ dimension: space.dimensions });
  const store = new PineconeStore({ apiKey: standin.apiKey, indexHost: standin.host, maxRetries: 0 });
  await store.bindEmbeddingSpace(space);
  return {
    store,
    dispose: async () => {
      await store.close();
      await standin.close();
    },
  };
}

describeStoreContract(
  'Pinecone (a serverless dotproduct index, through the SDK, on the stand-in)',
  () => openStore(contractSpace),
  { fixedDimensions: true, openWithSpace: openStore },
);
