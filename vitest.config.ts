import { createRequire } from 'node:module';
import { configDefaults, defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // Node loads graphql's CommonJS build for ragql and for graphql-yoga alike (graphql 16 has no
    // "exports" map); Vite would pick its "module" build for ragql's own imports, and the two copies
    // would not recognise each other's errors and types. Resolve it the way Node does.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // `extends: true`: each project inherits the options above, the graphql alias included.
    projects: [
      {
        extends: true,
        test: {
          name: 'default',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/cluster/**'],
          // One Weaviate for every test file (or WEAVIATE_URL's), or the reason there is none.
          globalSetup: ['test/setup/weaviate.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'cluster',
          include: ['test/cluster/**/*.test.ts'],
          // Its tests start their own Weaviate nodes from the binary.
          globalSetup: ['test/setup/weaviate-binary.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // After the default project, so that three more Weaviate nodes do not slow its
          // timing-sensitive tests.
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
