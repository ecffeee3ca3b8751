/**
 * Tenants' file names in the embedded store: one file per tenant on every file system (macOS and
 * Windows compare names ignoring case, and Windows reserves device names such as CON), and the
 * files an earlier ragql wrote under a tenant's name as it is still open.
 */
import { existsSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { tenantNamePattern } from '../../src/ports.ts';
import { EmbeddedStore } from '../../src/stores/embedded/embedded-store.ts';
import { tenantFileStem } from '../../src/stores/embedded/tenant-file.ts';
import { contractSpace } from '../contract/store-contract.ts';
import { fuzzSeed } from '../support/arbitraries.ts';
import { storedDocument } from '../support/stored-document.ts';

const tenantName = fc.stringMatching(tenantNamePattern);
const windowsDeviceNames = [
  'con',
  'prn',
  'aux',
  'nul',
  ...[...'0123456789'].flatMap((d) => [`com${d}`, `lpt${d}`]),
];

/** What Windows takes for a device: the part before the first dot, case and trailing dots or spaces ignored. */
function isWindowsDevice(fileName: string): boolean {
  const base = (fileName.split('.')[0] ?? '').replace(/[. ]+$/, '').toLowerCase();
  return windowsDeviceNames.includes(base);
}

describe("a tenant's file name", () => {
  it('differs, ignoring case, for any two tenants', () => {
    fc.assert(
      fc.property(tenantName, tenantName, (first, second) => {
        fc.pre(first !== second);
        expect(tenantFileStem(first).toLowerCase()).not.toBe(tenantFileStem(second).toLowerCase());
      }),
      { numRuns: 2000, seed: fuzzSeed },
    );
    for (const [first, second] of [
      ['Acme', 'acme'],
      ['ACME', 'acme'],
      ['aCmE', 'AcMe'],
      ['con', 'CON'],
      ['con', 'con_'],
    ]) {
      expect(tenantFileStem(first as string).toLowerCase()).not.toBe(
        tenantFileStem(second as string).toLowerCase(),
      );
    }
  });

  it('is never a Windows device name, nor a name Windows would trim', () => {
    for (const device of windowsDeviceNames) {
      for (const spelling of [
        device,
        device.toUpperCase(),
        `${device[0]?.toUpperCase()}${device.slice(1)}`,
      ]) {
        expect(isWindowsDevice(`${tenantFileStem(spelling)}.sqlite`)).toBe(false);
      }
    }
    fc.assert(
      fc.property(tenantName, (tenant) => {
        const fileName = `${tenantFileStem(tenant)}.sqlite`;
        expect(isWindowsDevice(fileName)).toBe(false);
        expect(fileName).toMatch(/^[a-z0-9_+-]+\.sqlite$/);
      }),
      { numRuns: 2000, seed: fuzzSeed },
    );
  });

  it('stays what it was for lowercase names that are no device', () => {
    for (const tenant of ['acme', 'globex-2', 'team_a', 'console', 'com10', 'lpt']) {
      expect(tenantFileStem(tenant)).toBe(tenant);
    }
  });
});

describe('tenants in the embedded store', () => {
  const folders: string[] = [];
  const dataDir = () => {
    const folder = mkdtempSync(join(tmpdir(), 'ragql-tenant-files-'));
    folders.push(folder);
    return folder;
  };
  afterEach(() => {
    for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
  });

  const documentOf = (id: string) =>
    storedDocument({ id, texts: [`the text of ${id}`], dimensions: contractSpace.dimensions });
  const idsIn = async (store: EmbeddedStore, tenant: string) =>
    (await store.forTenant(tenant).listDocuments({ limit: 10, filter: [] })).map((document) => document.id);

  it('keeps Acme, acme and CON apart, each in a file of its own', async () => {
    const folder = dataDir();
    const store = new EmbeddedStore({ dataDir: folder });
    await store.bindEmbeddingSpace(contractSpace);
    for (const tenant of ['Acme', 'acme', 'ACME', 'CON', 'con']) {
      await store.forTenant(tenant).upsertDocuments([documentOf(`${tenant}-doc`)]);
    }
    for (const tenant of ['Acme', 'acme', 'ACME', 'CON', 'con']) {
      expect(await idsIn(store, tenant)).toEqual([`${tenant}-doc`]);
    }
    await store.close();
    const files = readdirSync(join(folder, 'tenants')).filter((name) => name.endsWith('.sqlite'));
    expect(new Set(files.map((name) => name.toLowerCase())).size).toBe(5);
    expect(files.some(isWindowsDevice)).toBe(false);
  });

  it('keeps any tenants whose names differ only in case apart, device names among them', async () => {
    /** A name and spellings of it in other cases: names no case-insensitive file system tells apart. */
    const spellings = fc
      .tuple(
        fc.oneof(fc.stringMatching(/^[a-z][a-z0-9_-]{0,11}$/), fc.constantFrom(...windowsDeviceNames)),
        fc.array(fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }), { minLength: 2, maxLength: 5 }),
      )
      .map(([name, cases]) => [
        ...new Set(
          cases.map((upper) =>
            [...name].map((letter, index) => (upper[index] ? letter.toUpperCase() : letter)).join(''),
          ),
        ),
      ]);
    await fc.assert(
      fc.asyncProperty(spellings, async (tenants) => {
        const folder = dataDir();
        const store = new EmbeddedStore({ dataDir: folder });
        try {
          await store.bindEmbeddingSpace(contractSpace);
          for (const tenant of tenants)
            await store.forTenant(tenant).upsertDocuments([documentOf(`${tenant}-doc`)]);
          for (const tenant of tenants) expect(await idsIn(store, tenant)).toEqual([`${tenant}-doc`]);
        } finally {
          await store.close();
        }
        const files = readdirSync(join(folder, 'tenants')).filter((name) => name.endsWith('.sqlite'));
        expect(new Set(files.map((name) => name.toLowerCase())).size).toBe(tenants.length);
        expect(files.some(isWindowsDevice)).toBe(false);
      }),
      { numRuns: 25, seed: fuzzSeed },
    );
  });

  it('opens, under its new name, the file an earlier version wrote under the tenant name itself', async () => {
    const folder = dataDir();
    let store = new EmbeddedStore({ dataDir: folder });
    await store.bindEmbeddingSpace(contractSpace);
    await store.forTenant('Acme').upsertDocuments([documentOf('kept')]);
    await store.forTenant('acme').upsertDocuments([documentOf('other')]);
    await store.close();
    // What ragql wrote before file names were spelled for case-insensitive file systems.
    const tenants = join(folder, 'tenants');
    for (const suffix of ['', '-wal', '-shm']) {
      if (existsSync(join(tenants, `+acme.sqlite${suffix}`))) {
        renameSync(join(tenants, `+acme.sqlite${suffix}`), join(tenants, `Acme.sqlite${suffix}`));
      }
    }
    store = new EmbeddedStore({ dataDir: folder });
    await store.bindEmbeddingSpace(contractSpace);
    expect(await idsIn(store, 'Acme')).toEqual(['kept']);
    expect(await idsIn(store, 'acme')).toEqual(['other']);
    await store.close();
    expect(
      readdirSync(tenants)
        .filter((name) => name.endsWith('.sqlite'))
        .sort(),
    ).toEqual(['+acme.sqlite', 'acme.sqlite']);
  });
});
