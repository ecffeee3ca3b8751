import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  defaultTenant,
  type GenerationState,
  type StoreGenerations,
  tenantNamePattern,
} from '../../ports.ts';
import { firstGenerationState, parseGenerationState } from '../generation-record.ts';
import { defaultTenantFileName, EmbeddedStore } from './embedded-store.ts';
import { tenantOfFileStem } from './tenant-file.ts';

const stateFileName = 'generations.json';

/**
 * The embedded store's generations: generation 0 is the data folder itself (where every store
 * before generations lived), generation n a folder `generations/<n>` of the same layout, and the
 * record of which serves is `generations.json`, replaced whole by a rename so that no reader sees
 * half of it.
 */
export class EmbeddedGenerations implements StoreGenerations {
  private readonly dataDir: string;

  constructor(dataDir: string) {
    this.dataDir = dataDir;
  }

  async read(): Promise<GenerationState> {
    let text: string;
    try {
      text = await readFile(join(this.dataDir, stateFileName), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return firstGenerationState;
      throw error;
    }
    return parseGenerationState(JSON.parse(text));
  }

  async write(state: GenerationState): Promise<void> {
    await mkdir(this.dataDir, { recursive: true });
    const path = join(this.dataDir, stateFileName);
    // A name of its own per write, flushed to disk before the rename makes it the record.
    const next = `${path}.${process.pid}.${randomUUID()}`;
    await writeFile(next, `${JSON.stringify(parseGenerationState(state), null, 2)}\n`, { flush: true });
    await rename(next, path);
  }

  async open(generation: number): Promise<EmbeddedStore> {
    return new EmbeddedStore({ dataDir: this.folderOf(generation) });
  }

  async tenants(generation: number): Promise<string[]> {
    const folder = this.folderOf(generation);
    const tenants = existsSync(join(folder, defaultTenantFileName)) ? [defaultTenant] : [];
    const files = await readdir(join(folder, 'tenants')).catch(() => [] as string[]);
    for (const file of files) {
      if (!file.endsWith('.sqlite')) continue;
      const tenant = tenantOfFileStem(file.slice(0, -'.sqlite'.length));
      if (tenantNamePattern.test(tenant)) tenants.push(tenant);
    }
    return tenants.sort();
  }

  async drop(generation: number): Promise<void> {
    if ((await this.read()).active === generation) {
      throw new Error(`Generation ${generation} serves: it cannot be dropped.`);
    }
    if (generation > 0) {
      await rm(this.folderOf(generation), { recursive: true, force: true });
      return;
    }
    // Generation 0 shares the data folder with the record and the other generations.
    for (const suffix of ['', '-wal', '-shm'])
      await rm(join(this.dataDir, `${defaultTenantFileName}${suffix}`), { force: true });
    await rm(join(this.dataDir, 'tenants'), { recursive: true, force: true });
  }

  async close(): Promise<void> {
    // Files are opened per call, and closed by it.
  }

  private folderOf(generation: number): string {
    return generation === 0 ? this.dataDir : join(this.dataDir, 'generations', String(generation));
  }
}
