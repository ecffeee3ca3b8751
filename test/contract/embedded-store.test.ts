import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedStore } from '../../src/stores/embedded/embedded-store.ts';
import { contractSpace, describeStoreContract } from './store-contract.ts';

describeStoreContract('embedded (SQLite files in a temporary folder)', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ragql-contract-'));
  const store = new EmbeddedStore({ dataDir });
  await store.bindEmbeddingSpace(contractSpace);
  return {
    store,
    dispose: async () => {
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
});
