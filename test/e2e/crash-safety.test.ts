/**
 * Crash safety of the embedded store: `ragql serve` is SIGKILLed while a large ingestion is in
 * flight, then started again on the same data. Every document it had reported is there whole and
 * searchable, no document is there in part, and running the same ingestion again stores the rest
 * and reports what was already stored as UNCHANGED.
 */
import { performance } from 'node:perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';
import { DocumentDocument, IngestDocumentsDocument, SearchDocument } from '../generated/graphql.ts';
import { dataOf, graphqlClient } from '../support/graphql-client.ts';
import { temporaryDataDir } from '../support/ragql-instance.ts';
import { type RagqlProcess, spawnRagql } from '../support/ragql-process.ts';

const batchSize = 200;
const batchCount = 8;
/** Words enough for several 100-token chunks, and a word found in this document alone. */
const documents = Array.from({ length: batchSize * batchCount }, (_, index) => ({
  id: `doc-${index}`,
  title: `Report ${index}`,
  content: Array.from(
    { length: 12 },
    (_, paragraph) =>
      `Paragraph ${paragraph} of report ${index} records the tides at station ${(index * 7 + paragraph) % 97}. ` +
      `The marker word is zq${index}x. The sea rose and fell as the moon passed over the harbour wall.`,
  ).join('\n\n'),
}));
const batches = Array.from({ length: batchCount }, (_, index) =>
  documents.slice(index * batchSize, (index + 1) * batchSize),
);

describe('a server killed during ingestion', () => {
  const dataDir = temporaryDataDir();
  const environment = { RAGQL_DATA_DIR: dataDir.path, RAGQL_CHUNK_SIZE: '100', RAGQL_CHUNK_OVERLAP: '10' };
  const processes: RagqlProcess[] = [];
  afterAll(() => {
    for (const server of processes) server.child.kill('SIGKILL');
    dataDir.remove();
  });

  it('keeps every reported document whole, none in part, and completes the rest on a rerun', async () => {
    const first = await spawnRagql(environment);
    processes.push(first);
    const execute = graphqlClient(first.url);
    const reported = new Set<string>();
    // Three batches complete, timed; the fourth is in flight when the kill lands, late in its
    // request, when its chunks are being written (a write transaction comes last).
    const durations: number[] = [];
    for (const batch of batches.slice(0, 3)) {
      const started = performance.now();
      const result = dataOf(await execute(IngestDocumentsDocument, { documents: batch })).ingestDocuments;
      durations.push(performance.now() - started);
      for (const document of result.documents) reported.add(document.id);
    }
    const inFlight = execute(IngestDocumentsDocument, { documents: batches[3] ?? [] }).catch(() => null);
    await new Promise((resolve) => setTimeout(resolve, 0.9 * Math.min(...durations)));
    first.child.kill('SIGKILL');
    expect(await first.exited).toBeNull();
    const lastResponse = await inFlight;
    for (const document of lastResponse?.data?.ingestDocuments.documents ?? []) reported.add(document.id);
    expect(reported.size).toBeGreaterThanOrEqual(3 * batchSize);

    const second = await spawnRagql(environment);
    processes.push(second);
    const afterRestart = graphqlClient(second.url);
    const present = new Set<string>();
    for (const document of documents) {
      const stored = dataOf(await afterRestart(DocumentDocument, { id: document.id })).document;
      if (!stored) continue;
      present.add(document.id);
      // Whole: as many chunks as it says, in order, covering the content from start to end.
      expect(stored.chunks).toHaveLength(stored.chunkCount);
      expect(stored.chunks.map((chunk) => chunk.index)).toEqual(stored.chunks.map((_chunk, index) => index));
      expect(stored.chunks[0]?.startOffset).toBe(0);
      expect(stored.chunks.at(-1)?.endOffset).toBe(document.content.length);
    }
    for (const id of reported) expect(present.has(id)).toBe(true);
    for (const id of ['doc-0', `doc-${3 * batchSize - 1}`]) {
      const marker = `zq${id.slice(4)}x`;
      const { search } = dataOf(await afterRestart(SearchDocument, { query: marker, limit: 1 }));
      expect(search.hits[0]?.chunk.document.id).toBe(id);
    }

    let created = 0;
    for (const batch of batches) {
      const result = dataOf(
        await afterRestart(IngestDocumentsDocument, { documents: batch }),
      ).ingestDocuments;
      expect(result.updated).toBe(0);
      created += result.created;
      for (const document of result.documents) {
        expect(document.status).toBe(present.has(document.id) ? 'UNCHANGED' : 'CREATED');
      }
    }
    expect(created).toBe(documents.length - present.size);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });
});
