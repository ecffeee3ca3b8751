import { stemmer } from 'stemmer';

/**
 * The English analysis used for keyword search and extractive answers, modelled on Lucene's
 * EnglishAnalyzer (what BM25 baselines such as Anserini and Elasticsearch use): Unicode word
 * tokens, case and diacritics folded, possessive 's dropped, Lucene's English stopwords removed,
 * Porter stemming. Numbers and words in other scripts are kept as they are, only lower-cased.
 */

/** Lucene's default English stopword set (EnglishAnalyzer.ENGLISH_STOP_WORDS_SET). */
// biome-ignore format: a word list reads best packed
const stopwords = new Set([
  'a', 'an', 'and', 'are', 'as', 'at', 'be', 'but', 'by', 'for', 'if', 'in', 'into', 'is', 'it',
  'no', 'not', 'of', 'on', 'or', 'such', 'that', 'the', 'their', 'then', 'there', 'these', 'they',
  'this', 'to', 'was', 'will', 'with',
]);

const wordPattern = /[\p{L}\p{N}]+(?:['’][\p{L}]+)*/gu;
const combiningMarks = /\p{M}+/gu;
const latinWord = /^[a-z]+$/;

/** The index terms of a text, in order, duplicates kept (term frequency matters to BM25). */
export function analyzeTerms(text: string): string[] {
  const folded = text.normalize('NFKD').replace(combiningMarks, '').toLowerCase();
  const terms: string[] = [];
  for (const match of folded.matchAll(wordPattern)) {
    const word = match[0].replace(/['’]s$/, '').replace(/['’]/g, '');
    if (word === '' || stopwords.has(word)) continue;
    terms.push(latinWord.test(word) ? stemmer(word) : word);
  }
  return terms;
}
