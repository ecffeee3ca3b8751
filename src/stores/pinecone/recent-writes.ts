import type { PineconeRecord } from '@pinecone-database/pinecone';
import { LRUCache } from 'lru-cache';

/**
 * The records this process wrote or deleted lately, which it reads over Pinecone's: Pinecone is
 * eventually consistent ("there can be a slight delay before new or changed records are
 * visible", docs: check data freshness), and a write that read its tenant's statistics or its
 * document's previous record before the last write showed would undo that write's change. A
 * process therefore reads its own writes, unless Pinecone holds a newer version of the record
 * (another process wrote it since: `newer`); other processes' writes show when Pinecone shows them.
 */

/** Longer than Pinecone takes to show a write, by far. */
const freshnessWindowMs = 60_000;
/** What the records kept may take in memory, in characters of their JSON, for every tenant together. */
const mostKeptCharacters = 64 * 1024 * 1024;

/** A record written, or `deleted`, and when (Date.now()). */
export interface RecentRecord {
  record: PineconeRecord | 'deleted';
  at: number;
}

export class RecentWrites {
  private readonly records = new LRUCache<string, RecentRecord>({
    maxSize: mostKeptCharacters,
    sizeCalculation: ({ record }) => (record === 'deleted' ? 16 : JSON.stringify(record).length),
    ttl: freshnessWindowMs,
  });

  wrote(namespace: string, records: readonly PineconeRecord[]): void {
    const at = Date.now();
    for (const record of records) this.records.set(key(namespace, record.id), { record, at });
  }

  deleted(namespace: string, ids: readonly string[]): void {
    const at = Date.now();
    for (const id of ids) this.records.set(key(namespace, id), { record: 'deleted', at });
  }

  /** The ids this process wrote lately (and has not deleted since) that begin with `prefix`, in order. */
  writtenIds(namespace: string, prefix: string): string[] {
    const start = key(namespace, prefix);
    const ids: string[] = [];
    for (const [stored, { record }] of this.records.entries()) {
      if (record !== 'deleted' && stored.startsWith(start)) ids.push(record.id);
    }
    return ids.sort();
  }

  /** The namespaces this process wrote records to lately (whether or not it deleted them since). */
  namespaces(): Set<string> {
    const names = new Set<string>();
    for (const stored of this.records.keys()) names.add(stored.slice(0, stored.indexOf('\u0000')));
    return names;
  }

  /** Forgets what this process wrote to a namespace whose records are all deleted. */
  forgetNamespace(namespace: string): void {
    const start = key(namespace, '');
    for (const stored of [...this.records.keys()]) if (stored.startsWith(start)) this.records.delete(stored);
  }

  /**
   * The record as this process should read it: Pinecone's copy, unless this process wrote or
   * deleted it lately and Pinecone holds no newer version; undefined when it does not exist.
   */
  newer(namespace: string, id: string, stored: PineconeRecord | undefined): PineconeRecord | undefined {
    const recent = this.records.get(key(namespace, id));
    if (!recent) return stored;
    const storedAt = stored ? versionOf(stored) : undefined;
    if (storedAt !== undefined && storedAt > recent.at) return stored;
    return recent.record === 'deleted' ? undefined : recent.record;
  }
}

/**
 * When a record was written, for records that change in place (document records, statistics):
 * their `updatedAt` or `at` metadata, in milliseconds. Chunk records never change (a write makes
 * new ones), so they have none.
 */
function versionOf(record: PineconeRecord): number | undefined {
  const version = record.metadata?.updatedAt ?? record.metadata?.at;
  return typeof version === 'number' ? version : undefined;
}

function key(namespace: string, id: string): string {
  return `${namespace}\u0000${id}`;
}
