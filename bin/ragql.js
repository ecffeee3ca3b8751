#!/usr/bin/env node
// ragql runs its TypeScript sources directly through tsx, so there is no build step to forget.
import { register } from 'tsx/esm/api';

// A server runs in production mode unless told otherwise: graphql-js then skips a development
// check (an instanceof guard against two copies of graphql) that costs tens of microseconds per
// request. graphql reads NODE_ENV once, when it loads, so this precedes the import below.
process.env.NODE_ENV ??= 'production';
register();
await import('../src/cli.ts');
