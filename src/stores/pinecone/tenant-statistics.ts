import type { PineconeRecord } from '@pinecone-database/pinecone';
import type { PineconeNamespace } from './pinecone-connection.ts';
import { placeholderVector, recordKind } from './record-layout.ts';
import { bucketOf } from './term-statistics.ts';

/** A change to a tenant's chunks: how many, how long in all, and how many hold each term. */
export interface CorpusChange {
  chunks: number;
  length: number;
  /** Sparse index → chunks holding it (negative for chunks removed). */
  frequencies: Map<number, number>;
}

export interface CorpusStatistics {
  chunks: number;
  length: number;
}

const corpusId = 's:corpus';
const bucketId = (bucket: number) => `s:f:${bucket}`;

/**
 * A tenant's BM25 statistics, kept in its namespace: the chunk count and total length in
 * `s:corpus`, and each term's chunk frequency in `s:f:<bucket>` (a JSON list of [index, count]
 * pairs per bucket of indices: a record per term would store a dense vector per term). Records
 * that fall to zero are deleted, so an emptied tenant leaves nothing behind.
 *
 * Updated by read, change and write: writes to one tenant run one at a time in a process, but two
 * processes writing one tenant at once can lose one's update (the README says so).
 */
export class TenantStatistics {
  private readonly namespace: PineconeNamespace;
  private readonly dimensions: () => number;

  /** @param dimensions the index's, known once the store is ready */
  constructor(namespace: PineconeNamespace, dimensions: () => number) {
    this.namespace = namespace;
    this.dimensions = dimensions;
  }

  async corpus(): Promise<CorpusStatistics> {
    return corpusOf((await this.namespace.fetch([corpusId])).get(corpusId));
  }

  /** The corpus, and how many chunks hold each of these sparse indices. */
  async frequencies(
    indices: readonly number[],
  ): Promise<CorpusStatistics & { frequencies: Map<number, number> }> {
    const buckets = [...new Set(indices.map(bucketOf))];
    const records = await this.namespace.fetch([corpusId, ...buckets.map(bucketId)]);
    const wanted = new Set(indices);
    const frequencies = new Map<number, number>();
    for (const bucket of buckets) {
      for (const [index, count] of pairsOf(records.get(bucketId(bucket)))) {
        if (wanted.has(index)) frequencies.set(index, count);
      }
    }
    return { ...corpusOf(records.get(corpusId)), frequencies };
  }

  async apply(change: CorpusChange): Promise<void> {
    const byBucket = new Map<number, [number, number][]>();
    for (const [index, count] of change.frequencies) {
      if (count === 0) continue;
      const bucket = bucketOf(index);
      byBucket.set(bucket, [...(byBucket.get(bucket) ?? []), [index, count]]);
    }
    const ids = [corpusId, ...[...byBucket.keys()].map(bucketId)];
    const stored = await this.namespace.fetch(ids);
    const writes: PineconeRecord[] = [];
    const deletions: string[] = [];
    const corpus = corpusOf(stored.get(corpusId));
    const chunks = corpus.chunks + change.chunks;
    const length = corpus.length + change.length;
    if (chunks > 0) writes.push(this.record(corpusId, { chunks, length }));
    else deletions.push(corpusId);
    for (const [bucket, changes] of byBucket) {
      const id = bucketId(bucket);
      const counts = new Map(pairsOf(stored.get(id)));
      for (const [index, count] of changes) {
        const updated = (counts.get(index) ?? 0) + count;
        if (updated > 0) counts.set(index, updated);
        else counts.delete(index);
      }
      if (counts.size > 0) writes.push(this.record(id, { f: JSON.stringify([...counts]) }));
      else deletions.push(id);
    }
    await this.namespace.upsert(writes);
    await this.namespace.delete(deletions.filter((id) => stored.has(id)));
  }

  private record(id: string, fields: Record<string, number | string>): PineconeRecord {
    return {
      id,
      values: placeholderVector(this.dimensions()),
      // `at`: the version a process reading its own recent writes compares (recent-writes.ts).
      metadata: { kind: recordKind.statistics, at: Date.now(), ...fields },
    };
  }
}

/** A tenant's chunk count and total length, from its `s:corpus` record (none: an empty tenant). */
function corpusOf(record: PineconeRecord | undefined): CorpusStatistics {
  return { chunks: Number(record?.metadata?.chunks ?? 0), length: Number(record?.metadata?.length ?? 0) };
}

function pairsOf(record: PineconeRecord | undefined): [number, number][] {
  const text = record?.metadata?.f;
  return typeof text === 'string' ? (JSON.parse(text) as [number, number][]) : [];
}
