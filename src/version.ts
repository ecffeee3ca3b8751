import { readFileSync } from 'node:fs';

/** ragql's version, from package.json, read once. */
export const version: string = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version;
