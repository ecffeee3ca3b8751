import { PostgresStore } from '../../src/stores/postgres/postgres-store.ts';
import { usePostgres } from '../support/postgres.ts';
import { contractSpace, describeStoreContract } from './store-contract.ts';

const postgres = usePostgres();

describeStoreContract('postgres (pgvector, on PGlite unless RAGQL_TEST_DATABASE_URL)', async () => {
  const store = new PostgresStore({ connectionString: postgres.url });
  await store.bindEmbeddingSpace(contractSpace);
  return {
    store,
    dispose: async () => {
      await store.close();
      await postgres.reset();
    },
  };
});
