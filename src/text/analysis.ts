import { stemmer } from 'stemmer';

/**
 * The English analysis used for keyword search and extractive answers, modelled on Lucene's
 * EnglishAnalyzer (what BM25 baselines such as Anserini and Elasticsearch use): Unicode word
 * tokens, case folded, diacritics folded on Latin letters, possessive 's dropped, Lucene's English
 * stopwords removed, Porter stemming. Words in other scripts keep their marks (a Devanagari vowel
 * sign is part of the word); Chinese, Japanese and Korean runs, which have no spaces, become
 * overlapping character pairs, as Lucene's CJKAnalyzer does.
 */

/** Lucene's default English stopword set (EnglishAnalyzer.ENGLISH_STOP_WORDS_SET). */
// biome-ignore format: a word list reads best packed
const stopwords = new Set([
  'a', 'an', 'and', 'are', 'as', 'at', 'be', 'but', 'by', 'for', 'if', 'in', 'into', 'is', 'it',
  'no', 'not', 'of', 'on', 'or', 'such', 'that', 'the', 'their', 'then', 'there', 'these', 'they',
  'this', 'to', 'was', 'will', 'with',
]);

const wordPattern = /[\p{L}\p{M}\p{N}]+(?:['’][\p{L}\p{M}]+)*/gu;
const cjkCharacters = '\\p{sc=Han}\\p{sc=Hiragana}\\p{sc=Katakana}\\p{sc=Hangul}';
const cjkRun = new RegExp(`[${cjkCharacters}]+`, 'gu');
const containsCjk = new RegExp(`[${cjkCharacters}]`, 'u');
const combiningMarks = /\p{M}+/gu;
const foldedLatin = /^[a-z0-9]+$/;
const onlyLetters = /^[a-z]+$/;

/** The index terms of a text, in order, duplicates kept (term frequency matters to BM25). */
export function analyzeTerms(text: string): string[] {
  const terms: string[] = [];
  for (const match of text.normalize('NFC').toLowerCase().matchAll(wordPattern)) {
    const word = match[0].replace(/['’]s$/, '').replace(/['’]/g, '');
    for (const part of splitCjk(word)) {
      const term = foldLatin(part);
      if (term === '' || stopwords.has(term)) continue;
      terms.push(onlyLetters.test(term) ? stemmer(term) : term);
    }
  }
  return terms;
}

/** café → cafe, but only where folding leaves plain Latin: other scripts need their marks. */
function foldLatin(word: string): string {
  const folded = word.normalize('NFKD').replace(combiningMarks, '');
  return foldedLatin.test(folded) ? folded : word;
}

/** Splits the CJK runs of a token into overlapping pairs (a lone character stays itself). */
function splitCjk(word: string): string[] {
  if (!containsCjk.test(word)) return [word];
  const parts: string[] = [];
  let position = 0;
  for (const run of word.matchAll(cjkRun)) {
    if (run.index > position) parts.push(word.slice(position, run.index));
    const characters = [...run[0]];
    if (characters.length === 1) parts.push(run[0]);
    for (let index = 0; index + 1 < characters.length; index++) {
      parts.push(`${characters[index]}${characters[index + 1]}`);
    }
    position = run.index + run[0].length;
  }
  if (position < word.length) parts.push(word.slice(position));
  return parts;
}
