/**
 * Retrieval quality on a BEIR-layout dataset: ingests its corpus through the ingestion service,
 * runs every test query as a keyword search, and prints nDCG@10 and Recall@100 by document; then
 * the same for each retriever/reranker combination the configuration can run (those it cannot,
 * say offline without an embedder or an LLM, are listed with what they need).
 *
 *   npm run bench:quality -- [--store embedded|weaviate|postgres|pinecone] ../shared/datasets/scifact
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/composition/config.ts';
import { createServices } from '../src/composition/services.ts';
import { createLogger } from '../src/observability/logger.ts';
import { defaultTenant } from '../src/ports.ts';
import {
  type BeirDocument,
  type BeirQuery,
  corpusPath,
  readJsonLines,
  readJudgments,
} from './support/beir.ts';
import { benchStoreKind, openBenchStore } from './support/bench-store.ts';

const hitsPerQuery = 100;
const documentsPerCall = 500;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { store: { type: 'string' } },
    allowPositionals: true,
  });
  const datasetDir = positionals[0];
  if (!datasetDir) throw new Error('usage: npm run bench:quality -- [--store <kind>] <BEIR dataset folder>');
  const dataDir = mkdtempSync(join(tmpdir(), 'ragql-quality-'));
  const store = await openBenchStore(benchStoreKind(values.store));
  try {
    const config = loadConfig({ ...process.env, ...store.environment, RAGQL_DATA_DIR: dataDir });
    const services = await createServices(
      config,
      createLogger(config.logLevel, undefined, { secrets: config.secrets }),
    );
    const started = performance.now();
    let ingested = 0;
    let batch: BeirDocument[] = [];
    const flush = async () => {
      await services.ingest.ingest(
        defaultTenant,
        batch.map((document) => ({
          id: document._id,
          title: document.title || null,
          content: document.text,
        })),
      );
      ingested += batch.length;
      batch = [];
    };
    for await (const document of readJsonLines<BeirDocument>(corpusPath(datasetDir))) {
      if (document.text.trim() === '') continue;
      batch.push(document);
      if (batch.length === documentsPerCall) await flush();
    }
    if (batch.length > 0) await flush();
    const ingestSeconds = (performance.now() - started) / 1000;

    const judgments = await readJudgments(join(datasetDir, 'qrels', 'test.tsv'));
    const queries = new Map<string, string>();
    for await (const query of readJsonLines<BeirQuery>(join(datasetDir, 'queries.jsonl'))) {
      if (judgments.has(query._id)) queries.set(query._id, query.text);
    }
    const evaluate = async (combination: Combination) => {
      let ndcgSum = 0;
      let recallSum = 0;
      for (const [queryId, text] of queries) {
        const result = await services.search.search({
          tenant: defaultTenant,
          query: text,
          alpha: 0,
          limit: hitsPerQuery,
          retriever: combination.retriever,
          reranker: combination.reranker ? { ...combination.reranker, topN: hitsPerQuery } : null,
        });
        const ranking = uniqueDocumentIds(result.hits.map((hit) => hit.chunk.documentId));
        const relevant = judgments.get(queryId) ?? new Map();
        ndcgSum += ndcgAt(10, ranking, relevant);
        recallSum += recallAt(hitsPerQuery, ranking, relevant);
      }
      return { ndcg: ndcgSum / queries.size, recall: recallSum / queries.size };
    };
    const baseline = await evaluate({ label: 'hybrid (keyword, alpha 0)', retriever: { name: 'hybrid' } });
    process.stderr.write(
      `${ingested} documents ingested into the ${services.info.store} store (${store.description}) in ${ingestSeconds.toFixed(1)} s; ${queries.size} queries evaluated\n`,
    );
    process.stdout.write(`nDCG@10=${baseline.ndcg.toFixed(4)} Recall@100=${baseline.recall.toFixed(4)}\n`);

    // Every other retriever/reranker combination this configuration can run, against the baseline.
    const { runnable, skipped } = combinationsFor(services.info, {
      registered: new Set(services.plugins.list().map((plugin) => plugin.name)),
      localCrossEncoder: existsSync(config.plugins.crossEncoder.model),
    });
    process.stdout.write(
      '\nretriever / reranker combinations (nDCG@10, Recall@100, nDCG ratio to the baseline):\n',
    );
    for (const combination of runnable) {
      const { ndcg, recall } = await evaluate(combination);
      process.stdout.write(
        `  ${combination.label.padEnd(44)} nDCG@10=${ndcg.toFixed(4)} Recall@100=${recall.toFixed(4)} ratio=${(ndcg / baseline.ndcg).toFixed(3)}\n`,
      );
    }
    for (const { label, needs } of skipped)
      process.stdout.write(`  ${label.padEnd(44)} not run: needs ${needs}\n`);
    await services.close();
  } finally {
    await store.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

interface Combination {
  label: string;
  retriever: { name: string; options?: Record<string, unknown> };
  reranker?: { name: string; options?: Record<string, unknown> };
}

/** The combinations worth measuring, split by whether this configuration has what each needs. */
function combinationsFor(
  info: { embedder: string | null; generator: string },
  available: { registered: ReadonlySet<string>; localCrossEncoder: boolean },
): { runnable: Combination[]; skipped: { label: string; needs: string }[] } {
  const llm = info.generator !== 'extractive';
  const candidates: (Combination & { needs: string | null })[] = [
    { label: 'parent-document (window 1)', retriever: { name: 'parent-document' }, needs: null },
    {
      label: 'parent-document (whole document)',
      retriever: { name: 'parent-document', options: { wholeDocument: true } },
      needs: null,
    },
    { label: 'multi-query', retriever: { name: 'multi-query' }, needs: llm ? null : 'an LLM generator' },
    {
      label: 'contextual-compression (embeddings)',
      retriever: { name: 'contextual-compression', options: { method: 'embeddings' } },
      needs: info.embedder ? null : 'an embedder',
    },
    {
      label: 'hybrid + mmr (lambda 0.5)',
      retriever: { name: 'hybrid' },
      reranker: { name: 'mmr' },
      needs: info.embedder ? null : 'an embedder (mmr keeps the order without vectors)',
    },
    {
      label: 'hybrid + cohere',
      retriever: { name: 'hybrid' },
      reranker: { name: 'cohere' },
      needs: available.registered.has('cohere') ? null : 'Cohere (CO_API_KEY)',
    },
    {
      label: 'hybrid + cross-encoder',
      retriever: { name: 'hybrid' },
      reranker: { name: 'cross-encoder' },
      needs: available.localCrossEncoder
        ? null
        : 'a model folder in RAGQL_CROSS_ENCODER_MODEL (none can be downloaded offline)',
    },
  ];
  return {
    runnable: candidates.filter((candidate) => candidate.needs === null),
    skipped: candidates.flatMap(({ label, needs }) => (needs === null ? [] : [{ label, needs }])),
  };
}

/** query id → (document id → graded relevance) */
/** A document ranks where its best chunk ranks. */
function uniqueDocumentIds(ids: string[]): string[] {
  return [...new Set(ids)];
}

/** nDCG with graded gains and log2 discounts, as trec_eval's ndcg_cut computes it. */
function ndcgAt(cutoff: number, ranking: string[], relevant: Map<string, number>): number {
  const dcg = ranking
    .slice(0, cutoff)
    .reduce((sum, id, rank) => sum + (relevant.get(id) ?? 0) / Math.log2(rank + 2), 0);
  const ideal = [...relevant.values()]
    .sort((a, b) => b - a)
    .slice(0, cutoff)
    .reduce((sum, gain, rank) => sum + gain / Math.log2(rank + 2), 0);
  return ideal === 0 ? 0 : dcg / ideal;
}

function recallAt(cutoff: number, ranking: string[], relevant: Map<string, number>): number {
  const found = ranking.slice(0, cutoff).filter((id) => relevant.has(id)).length;
  return relevant.size === 0 ? 0 : found / relevant.size;
}

await main();
