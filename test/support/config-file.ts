import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConfigFileContents } from '../../src/composition/config-file.ts';

/**
 * Writes a config file into `dir` as a plain module (a server process loads it without a
 * TypeScript loader) and returns its path, for RAGQL_CONFIG_FILE.
 */
export function writeConfigFile(dir: string, contents: Omit<ConfigFileContents, 'plugins'>): string {
  const path = join(dir, 'ragql.config.mjs');
  writeFileSync(path, `export default ${JSON.stringify(contents)};\n`);
  return path;
}
