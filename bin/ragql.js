#!/usr/bin/env node
// ragql runs its TypeScript sources directly, by Node's type stripping, so there is no build step
// to forget. Node strips types only outside node_modules: ragql runs from its checkout.

// A server runs in production mode unless told otherwise: graphql-js then skips a development
// check (an instanceof guard against two copies of graphql) that costs tens of microseconds per
// request. graphql reads NODE_ENV once, when it loads, so this precedes the import below.
process.env.NODE_ENV ??= 'production';
await import('../src/cli.ts');
