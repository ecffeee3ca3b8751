import type { PineconeRecord } from '@pinecone-database/pinecone';
import { LRUCache } from 'lru-cache';

/**
 * The records this process wrote or deleted lately, which it reads in place of Pinecone's: Pinecone
 * is eventually consistent ("there can be a slight delay before new or changed records are
 * visible", docs: check data freshness), and a write that read its tenant's statistics or its
 * document's previous record before the last write showed would undo that write's change. A
 * process therefore reads its own writes; other processes' writes show when Pinecone shows them.
 */

/** Longer than Pinecone takes to show a write, by far. */
const freshnessWindowMs = 60_000;
/** What the records kept may take in memory, in characters of their JSON, for every tenant together. */
const mostKeptCharacters = 64 * 1024 * 1024;

/** A record written, or `deleted`. */
export type RecentRecord = PineconeRecord | 'deleted';

export class RecentWrites {
  private readonly records = new LRUCache<string, { record: RecentRecord }>({
    maxSize: mostKeptCharacters,
    sizeCalculation: ({ record }) => (record === 'deleted' ? 16 : JSON.stringify(record).length),
    ttl: freshnessWindowMs,
  });

  wrote(namespace: string, records: readonly PineconeRecord[]): void {
    for (const record of records) this.records.set(key(namespace, record.id), { record });
  }

  deleted(namespace: string, ids: readonly string[]): void {
    for (const id of ids) this.records.set(key(namespace, id), { record: 'deleted' });
  }

  /** What this process last did to the record, if lately; undefined when Pinecone's copy is to be read. */
  get(namespace: string, id: string): RecentRecord | undefined {
    return this.records.get(key(namespace, id))?.record;
  }
}

function key(namespace: string, id: string): string {
  return `${namespace}\u0000${id}`;
}
