/**
 * Where to set RAGQL_SIMILAR_ANSWER_THRESHOLD for an embedding model: pairs of questions built from
 * SciFact's test claims are embedded with the configured embedder (RAGQL_EMBEDDER and its key, as
 * the server takes them), and for each threshold it prints how many of the pairs that ask the same
 * thing would be served from the cache (the hit rate) and how many that ask something else would
 * get the wrong answer, with the precision of the reuses.
 *
 * The pairs are those the similar-answer cache would compare, which retrieve the same sources:
 * - the same: a claim and a rewording of it (bench/data/scifact-rewordings.json, written by hand to
 *   keep the meaning), and the two pairs of claims that cite one abstract and say the same thing;
 * - something else: every other pair of claims that cite one abstract, mostly a claim and its
 *   opposite ("Statins decrease blood cholesterol." and "Statins increase blood cholesterol."),
 *   and each with a rewording in place of either claim.
 *
 * The threshold is the model's: run it with the model the server embeds with. It prints, it does
 * not assert.
 *
 *   RAGQL_EMBEDDER=openai OPENAI_API_KEY=… npm run bench:similar -- [--dataset ../shared/datasets/scifact]
 *   npm run bench:similar -- --standin   # the harness itself, on the tests' stand-in (no meaning)
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/composition/config.ts';
import { createEmbedder } from '../src/composition/create-embedder.ts';
import { defaultTenant, type Embedder } from '../src/ports.ts';
import { cosineSimilarity } from '../src/ranking/vector-math.ts';
import { startOpenAIStandin } from '../test/support/openai-standin.ts';
import { type BeirQuery, readJsonLines, readJudgments } from './support/beir.ts';

const thresholds = [0.8, 0.85, 0.88, 0.9, 0.92, 0.94, 0.95, 0.96, 0.97, 0.98, 0.99];

interface Rewordings {
  sameClaims: [string, string][];
  rewordings: Record<string, string>;
}

interface QuestionPair {
  first: string;
  second: string;
  same: boolean;
}

/** The pairs, from the judgments (which claims cite one abstract) and the rewordings. */
async function questionPairs(datasetDir: string): Promise<QuestionPair[]> {
  const claims = new Map<string, string>();
  for await (const query of readJsonLines<BeirQuery>(join(datasetDir, 'queries.jsonl')))
    claims.set(query._id, query.text);
  const data = JSON.parse(
    await readFile(new URL('./data/scifact-rewordings.json', import.meta.url), 'utf8'),
  ) as Rewordings;
  const sameClaims = new Set(data.sameClaims.map((pair) => pair.join(' ')));
  const citing = new Map<string, string[]>();
  for (const [claim, abstracts] of await readJudgments(join(datasetDir, 'qrels', 'test.tsv'))) {
    for (const abstract of abstracts.keys()) citing.set(abstract, [...(citing.get(abstract) ?? []), claim]);
  }
  const textOf = (id: string) => {
    const text = claims.get(id);
    if (text === undefined) throw new Error(`claim ${id} is not among the dataset's queries`);
    return text;
  };
  const pairs: QuestionPair[] = Object.entries(data.rewordings).map(([id, rewording]) => ({
    first: textOf(id),
    second: rewording,
    same: true,
  }));
  const seen = new Set<string>();
  for (const ids of citing.values()) {
    for (const [position, first] of ids.entries()) {
      for (const second of ids.slice(position + 1)) {
        const [a, b] = [first, second].sort((x, y) => Number(x) - Number(y)) as [string, string];
        if (seen.has(`${a} ${b}`)) continue;
        seen.add(`${a} ${b}`);
        const same = sameClaims.has(`${a} ${b}`);
        pairs.push({ first: textOf(a), second: textOf(b), same });
        const [rewordedA, rewordedB] = [data.rewordings[a], data.rewordings[b]];
        if (rewordedA) pairs.push({ first: rewordedA, second: textOf(b), same });
        if (rewordedB) pairs.push({ first: textOf(a), second: rewordedB, same });
      }
    }
  }
  return pairs;
}

async function configuredEmbedder(standin: boolean): Promise<{ embedder: Embedder; stop(): Promise<void> }> {
  if (standin) {
    const server = await startOpenAIStandin();
    const embedder = await createEmbedder(
      loadConfig({
        RAGQL_EMBEDDER: 'openai',
        RAGQL_EMBEDDING_MODEL: 'standin-hashed-bag-of-words',
        RAGQL_EMBEDDING_DIMENSIONS: '256',
        OPENAI_API_KEY: 'sk-standin',
        OPENAI_BASE_URL: server.baseURL,
      }).embedder,
    );
    if (!embedder) throw new Error('the stand-in embedder could not be made');
    return { embedder, stop: () => server.close() };
  }
  const embedder = await createEmbedder(loadConfig(process.env).embedder);
  if (!embedder) {
    process.stderr.write(
      'Set RAGQL_EMBEDDER (openai or cohere), its key and RAGQL_EMBEDDING_MODEL: the threshold is the model’s. --standin runs the harness on the tests’ stand-in.\n',
    );
    process.exit(2);
  }
  return { embedder, stop: async () => {} };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dataset: { type: 'string', default: '../shared/datasets/scifact' },
      standin: { type: 'boolean', default: false },
    },
  });
  const pairs = await questionPairs(values.dataset);
  const { embedder, stop } = await configuredEmbedder(values.standin);
  try {
    const texts = [...new Set(pairs.flatMap((pair) => [pair.first, pair.second]))];
    const vectors = new Map<string, Float32Array>();
    for (let start = 0; start < texts.length; start += embedder.maxEmbeddingsPerCall) {
      const batch = texts.slice(start, start + embedder.maxEmbeddingsPerCall);
      // As the answer service embeds a question for the similar-answer cache.
      const { embeddings } = await embedder.embed(batch, { purpose: 'query', tenant: defaultTenant });
      for (const [position, text] of batch.entries()) vectors.set(text, embeddings[position] as Float32Array);
    }
    const scored = pairs.map((pair) => ({
      same: pair.same,
      similarity: cosineSimilarity(
        vectors.get(pair.first) as Float32Array,
        vectors.get(pair.second) as Float32Array,
      ),
    }));
    const same = scored.filter((pair) => pair.same);
    const different = scored.filter((pair) => !pair.same);
    console.log(
      `${embedder.provider}/${embedder.modelId} (${embedder.dimensions} dimensions): ${same.length} pairs that ask the same, ${different.length} that ask something else, on the same sources`,
    );
    console.log('\nthreshold   served (hit rate)   wrong answers   precision');
    let safest: number | undefined;
    for (const threshold of thresholds) {
      const hits = same.filter((pair) => pair.similarity >= threshold).length;
      const wrong = different.filter((pair) => pair.similarity >= threshold).length;
      const precision = hits + wrong === 0 ? Number.NaN : hits / (hits + wrong);
      if (wrong === 0 && safest === undefined) safest = threshold;
      console.log(
        `  ${threshold.toFixed(2)}      ${String(hits).padStart(3)} (${percent(hits, same.length)})     ${String(wrong).padStart(3)} (${percent(wrong, different.length)})    ${Number.isNaN(precision) ? '  -' : precision.toFixed(3)}`,
      );
    }
    const median = (values: number[]) =>
      [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
    console.log(
      `\nmedian similarity: ${median(same.map((pair) => pair.similarity)).toFixed(3)} (the same), ${median(different.map((pair) => pair.similarity)).toFixed(3)} (something else)`,
    );
    console.log(
      safest === undefined
        ? 'No threshold here serves no wrong answer: leave the similar-answer cache off for this model.'
        : `The lowest threshold with no wrong answer on these pairs: ${safest.toFixed(2)}.`,
    );
  } finally {
    await stop();
  }
}

const percent = (count: number, total: number) => `${((100 * count) / total).toFixed(0).padStart(3)}%`;

await main();
