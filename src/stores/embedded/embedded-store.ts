import { join } from 'node:path';
import {
  defaultTenant,
  type EmbeddingSpace,
  type StoreEngine,
  type StoreReadiness,
  type TenantStore,
} from '../../ports.ts';
import { deferredTenantStore } from '../deferred-tenant-store.ts';
import { assertTenantName } from '../tenant-name.ts';
import { EmbeddedTenantStore, type EmbeddedTenantStoreOptions } from './embedded-tenant-store.ts';
import { tenantFilePath } from './tenant-file.ts';
import { WriteThread } from './write-thread.ts';

export interface EmbeddedStoreOptions extends Omit<EmbeddedTenantStoreOptions, 'path' | 'writeThread'> {
  /** The folder of the store's files. */
  dataDir: string;
}

/** The default tenant's file in the data folder: a server without tenants is one file. */
export const defaultTenantFileName = 'ragql.sqlite';

/**
 * The zero-setup store: one SQLite file per tenant in one folder (the default tenant's is
 * `ragql.sqlite`, others' are `tenants/<name>.sqlite`, with the name spelled so that no two
 * tenants share a file on a case-insensitive file system: tenant-file.ts). A file holds one tenant's documents only,
 * so no query can reach another tenant's, and each tenant's search indexes are its own size.
 * A tenant's file is opened on first use and stays open. One write thread writes every file.
 */
export class EmbeddedStore implements StoreEngine {
  readonly kind = 'embedded';
  private readonly partitions = new Map<string, Promise<EmbeddedTenantStore>>();
  /** undefined until bound: then every partition opened is bound to the same space. */
  private space: EmbeddingSpace | null | undefined;
  private closed = false;
  private readonly writeThread = new WriteThread();
  private readonly options: EmbeddedStoreOptions;

  constructor(options: EmbeddedStoreOptions) {
    this.options = options;
  }

  async bindEmbeddingSpace(space: EmbeddingSpace | null): Promise<void> {
    this.space = space;
    // The default tenant's file answers for the store at start-up: a mismatch there stops ragql
    // before it serves. Other tenants' files are checked as they open.
    await Promise.all(
      [...this.partitions.values()].map(async (partition) => (await partition).bindEmbeddingSpace(space)),
    );
    await this.partition(defaultTenant);
  }

  forTenant(tenant: string): TenantStore {
    assertTenantName(tenant);
    return deferredTenantStore(() => this.partition(tenant));
  }

  async readiness(): Promise<StoreReadiness> {
    try {
      const reason = (await this.partition(defaultTenant)).unreadyReason();
      return reason === null ? { ready: true } : { ready: false, reason };
    } catch (error) {
      return { ready: false, reason: (error as Error).message };
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const partitions = [...this.partitions.values()];
    this.partitions.clear();
    await Promise.all(partitions.map(async (partition) => (await partition.catch(() => null))?.close()));
    await this.writeThread.close();
  }

  private partition(tenant: string): Promise<EmbeddedTenantStore> {
    // A closed store stays closed: reopening files behind a shutdown would race it.
    if (this.closed) return Promise.reject(new Error('The embedded store is closed.'));
    let partition = this.partitions.get(tenant);
    if (!partition) {
      partition = this.open(tenant);
      // A file that failed to open (a mismatched embedding space) is tried again next time.
      partition.catch(() => this.partitions.delete(tenant));
      this.partitions.set(tenant, partition);
    }
    return partition;
  }

  private async open(tenant: string): Promise<EmbeddedTenantStore> {
    const path =
      tenant === defaultTenant
        ? join(this.options.dataDir, defaultTenantFileName)
        : tenantFilePath(join(this.options.dataDir, 'tenants'), tenant);
    const partition = new EmbeddedTenantStore({ ...this.options, path, writeThread: this.writeThread });
    try {
      if (this.space !== undefined) await partition.bindEmbeddingSpace(this.space);
      return partition;
    } catch (error) {
      await partition.close();
      throw error;
    }
  }
}
