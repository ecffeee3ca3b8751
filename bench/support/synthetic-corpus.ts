/**
 * The search benchmark's synthetic corpus, generated from a fixed seed so that two runs with the
 * same arguments, and two stores in one run, get the same data: made-up words with a Zipf-like
 * frequency, documents that lean on their cluster's words, and vectors clustered around random
 * centroids, so both BM25 and nearest neighbours rank meaningfully. Each of the model, the
 * documents and the queries draws from a seeded stream of its own, so the queries do not depend
 * on how many chunks are written.
 */
import { createHash } from 'node:crypto';
import type { DocumentToStore } from '../../src/ports.ts';

export const corpusSeed = 20_240_601;
export const vocabularySize = 5000;
const zipfExponent = 1;
/** The most frequent words behave like function words; queries skip them, as real queries mostly do. */
const queryWordsSkipTopRanks = 100;
export const clusterCount = 50;
/** Clusters share topics (`metadata.topic`) round-robin: 1 in this many chunks has a given topic. */
export const topicCount = 10;
const wordsPerCluster = 40;
/** The share of a chunk's words drawn from its cluster's own words rather than the whole vocabulary. */
const clusterWordShare = 0.2;
/** Norm of the Gaussian noise added to a centroid: about cos 0.7 between a chunk and its centroid. */
const chunkVectorNoise = 1;
const queryVectorNoise = 0.5;
/** Documents per batch: one `upsertDocuments` call each. */
export const documentsPerUpsert = 500;

type Random = () => number;

export interface CorpusModel {
  /** Made-up words, most frequent first. */
  vocabulary: string[];
  /** Running sums of the Zipf weights of the vocabulary, for sampling by rank. */
  zipfCumulative: Float64Array;
  clusterWords: string[][];
  centroids: Float32Array[];
}

export interface BenchQuery {
  text: string;
  vector: Float32Array;
  /** The `metadata.topic` of the cluster the query was drawn from. */
  topic: string;
}

/** The words, clusters and centroids that both the documents and the queries are drawn from. */
export function createCorpusModel(dimensions: number): CorpusModel {
  const random = mulberry32(corpusSeed);
  const vocabulary = generateVocabulary(vocabularySize, random);
  return {
    vocabulary,
    zipfCumulative: zipfCumulativeWeights(vocabularySize, zipfExponent),
    clusterWords: Array.from({ length: clusterCount }, () =>
      Array.from({ length: wordsPerCluster }, () => pickContentWord(vocabulary, random)),
    ),
    centroids: Array.from({ length: clusterCount }, () => randomUnitVector(dimensions, random)),
  };
}

/** Pronounceable, unique words of two to four consonant-vowel syllables: no stopword, no real word's stem. */
function generateVocabulary(size: number, random: Random): string[] {
  const consonants = 'bdfgklmnprstvz';
  const vowels = 'aeiou';
  const words = new Set<string>();
  while (words.size < size) {
    const syllables = 2 + randomInt(random, 3);
    let word = '';
    for (let syllable = 0; syllable < syllables; syllable++) {
      word += pick(consonants, random) + pick(vowels, random);
    }
    words.add(word);
  }
  return [...words];
}

function zipfCumulativeWeights(size: number, exponent: number): Float64Array {
  const cumulative = new Float64Array(size);
  let total = 0;
  for (let rank = 0; rank < size; rank++) {
    total += 1 / (rank + 1) ** exponent;
    cumulative[rank] = total;
  }
  return cumulative;
}

function zipfWord(model: CorpusModel, random: Random): string {
  const cumulative = model.zipfCumulative;
  const target = random() * (cumulative[cumulative.length - 1] ?? 0);
  let low = 0;
  let high = cumulative.length - 1;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((cumulative[middle] ?? 0) < target) low = middle + 1;
    else high = middle;
  }
  return model.vocabulary[low] ?? '';
}

/** A word from below the most frequent ranks, uniformly: the kind of word people search for. */
function pickContentWord(vocabulary: readonly string[], random: Random): string {
  const rank = queryWordsSkipTopRanks + randomInt(random, vocabulary.length - queryWordsSkipTopRanks);
  return vocabulary[rank] ?? '';
}

/** The documents, `chunkTotal` chunks in all, in batches of `documentsPerUpsert`: the same on every call. */
export function* generateDocumentBatches(
  model: CorpusModel,
  chunkTotal: number,
): Generator<DocumentToStore[]> {
  const random = mulberry32(corpusSeed + 1);
  let chunksLeft = chunkTotal;
  let documentIndex = 0;
  let batch: DocumentToStore[] = [];
  while (chunksLeft > 0) {
    const chunkCount = Math.min(chunksLeft, 2 + randomInt(random, 7));
    batch.push(generateDocument(model, documentIndex, chunkCount, random));
    chunksLeft -= chunkCount;
    documentIndex++;
    if (batch.length === documentsPerUpsert) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** A document from one cluster: its chunks lean on the cluster's words and their vectors on its centroid. */
function generateDocument(
  model: CorpusModel,
  index: number,
  chunkCount: number,
  random: Random,
): DocumentToStore {
  const cluster = randomInt(random, clusterCount);
  const id = `doc-${String(index).padStart(7, '0')}`;
  const title = capitalize(
    Array.from({ length: 3 + randomInt(random, 3) }, () => chunkWord(model, cluster, random)).join(' '),
  );
  const metadata = { topic: topicOf(cluster), year: 2000 + randomInt(random, 25) };
  const texts = Array.from({ length: chunkCount }, () => generateChunkText(model, cluster, random));
  const content = texts.join(' ');
  let offset = 0;
  const chunks = texts.map((text, chunkIndex) => {
    const startOffset = offset;
    offset += text.length + 1;
    return {
      id: `${id}#${chunkIndex}`,
      documentId: id,
      index: chunkIndex,
      content: text,
      startOffset,
      endOffset: startOffset + text.length,
      contentHash: sha256(text),
      pages: null,
      sectionPath: [],
      embedding: noisyUnitVector(centroidOf(model, cluster), chunkVectorNoise, random),
    };
  });
  return {
    id,
    title,
    source: `synthetic://${id}`,
    metadata,
    contentHash: sha256(content),
    revisionHash: sha256(JSON.stringify([content, title, metadata])),
    chunkCount,
    chunks,
  };
}

/** 60 to 120 words in sentences of 6 to 15. */
function generateChunkText(model: CorpusModel, cluster: number, random: Random): string {
  let wordsLeft = 60 + randomInt(random, 61);
  const sentences: string[] = [];
  while (wordsLeft > 0) {
    const length = Math.min(wordsLeft, 6 + randomInt(random, 10));
    const words = Array.from({ length }, () => chunkWord(model, cluster, random));
    sentences.push(`${capitalize(words.join(' '))}.`);
    wordsLeft -= length;
  }
  return sentences.join(' ');
}

function chunkWord(model: CorpusModel, cluster: number, random: Random): string {
  return random() < clusterWordShare
    ? pick(model.clusterWords[cluster] ?? [], random)
    : zipfWord(model, random);
}

/** Queries of 2 to 4 words, half from one cluster's words, with a vector near that cluster's centroid. */
export function generateQueries(model: CorpusModel, count: number): BenchQuery[] {
  const random = mulberry32(corpusSeed + 2);
  const queries = new Map<string, BenchQuery>();
  while (queries.size < count) {
    const cluster = randomInt(random, clusterCount);
    const words = Array.from({ length: 2 + randomInt(random, 3) }, () =>
      random() < 0.5
        ? pick(model.clusterWords[cluster] ?? [], random)
        : pickContentWord(model.vocabulary, random),
    );
    const text = words.join(' ');
    if (queries.has(text)) continue;
    const vector = noisyUnitVector(centroidOf(model, cluster), queryVectorNoise, random);
    queries.set(text, { text, vector, topic: topicOf(cluster) });
  }
  return [...queries.values()];
}

function topicOf(cluster: number): string {
  return `topic-${cluster % topicCount}`;
}

function centroidOf(model: CorpusModel, cluster: number): Float32Array {
  const centroid = model.centroids[cluster];
  if (!centroid) throw new Error(`no centroid for cluster ${cluster}`);
  return centroid;
}

// ---------------------------------------------------------------------------------------------
// Seeded randomness and vectors

/** mulberry32: a tiny, fast 32-bit PRNG, good enough for test data; returns floats in [0, 1). */
function mulberry32(seedValue: number): Random {
  let state = seedValue >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function randomInt(random: Random, below: number): number {
  return Math.floor(random() * below);
}

function pick<T>(items: ArrayLike<T>, random: Random): T {
  const item = items[randomInt(random, items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

/** A standard normal sample (Box-Muller). */
function gaussian(random: Random): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

function randomUnitVector(dimensions: number, random: Random): Float32Array {
  return normalized(Float32Array.from({ length: dimensions }, () => gaussian(random)));
}

/** The centroid plus Gaussian noise of about norm `noise`, scaled back to unit length. */
function noisyUnitVector(centroid: Float32Array, noise: number, random: Random): Float32Array {
  const scale = noise / Math.sqrt(centroid.length);
  return normalized(centroid.map((value) => value + scale * gaussian(random)));
}

function normalized(vector: Float32Array): Float32Array {
  let squares = 0;
  for (const value of vector) squares += value * value;
  const norm = Math.sqrt(squares) || 1;
  return vector.map((value) => value / norm);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
