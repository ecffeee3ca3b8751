/**
 * The same hybrid searches on the same corpus in Weaviate: written through WeaviateStore, then
 * timed in process and through a ragql of its own, as on the embedded store.
 */
import type { BenchWeaviate, WeaviateFootprint } from '../support/bench-weaviate.ts';
import { startBenchServer } from './bench-server.ts';
import { type Workload, writeCorpus } from './corpus.ts';
import { megabytes } from './format.ts';
import { measureBothPaths } from './over-http.ts';
import type { PairedRun } from './runs.ts';
import { hybridMode } from './search-modes.ts';

export interface WeaviateRun {
  ingestChunksPerSecond: number;
  footprint: WeaviateFootprint | null;
  graphqlUrl: string;
  hybrid: PairedRun;
}

export async function measureOnWeaviate(weaviate: BenchWeaviate, workload: Workload): Promise<WeaviateRun> {
  console.log(`\nWeaviate: ${weaviate.description}`);
  console.log(
    'ingestion into Weaviate: upsertDocuments through WeaviateStore, the same documents and vectors ' +
      '(the time includes building HNSW, unless the server has ASYNC_INDEXING on)',
  );
  const { documents, ingestChunksPerSecond } = await writeCorpus(weaviate.store, workload);
  const footprint = weaviate.footprint();
  if (footprint) {
    console.log(
      `  server resident memory ${megabytes(footprint.residentBytes).toFixed(0)} MB ` +
        `(peak ${megabytes(footprint.peakResidentBytes).toFixed(0)} MB), ` +
        `data folder ${megabytes(footprint.dataBytes).toFixed(0)} MB`,
    );
  }
  const server = await startBenchServer(weaviate.store, workload.queryEmbedder);
  try {
    process.stderr.write('  ... measuring hybrid search on Weaviate\n');
    const hybrid = await measureBothPaths(
      documents,
      server.graphqlUrl,
      hybridMode,
      workload.warmup,
      workload.measured,
    );
    return {
      ingestChunksPerSecond,
      footprint,
      graphqlUrl: server.graphqlUrl,
      hybrid,
    };
  } finally {
    await server.close();
  }
}
