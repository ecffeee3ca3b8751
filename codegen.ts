import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * Typed documents for the operations the tests send (test/operations/*.graphql), generated from
 * the checked-in schema.graphql: `npm run codegen`. CI regenerates them and fails when they differ.
 */
const config: CodegenConfig = {
  // ESM imports with extensions, as NodeNext resolution requires.
  emitLegacyCommonJSImports: false,
  schema: 'schema.graphql',
  documents: ['test/operations/**/*.graphql'],
  generates: {
    'test/generated/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { JSON: 'unknown', DateTime: 'string', File: 'File' },
      },
    },
  },
};

export default config;
