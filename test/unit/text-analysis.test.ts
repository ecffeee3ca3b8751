import { describe, expect, it } from 'vitest';
import { analyzeTerms } from '../../src/text/analysis.ts';

describe('analyzeTerms', () => {
  it('lower-cases words', () => {
    expect(analyzeTerms('SOLAR Panels')).toEqual(['solar', 'panel']);
  });

  it('folds diacritics, so accented and plain spellings give the same term', () => {
    expect(analyzeTerms('Café naïve Ångström über')).toEqual(['cafe', 'naiv', 'angstrom', 'uber']);
    expect(analyzeTerms('Über')).toEqual(analyzeTerms('uber'));
  });

  it('folds compatibility characters such as ligatures', () => {
    expect(analyzeTerms('ﬁle')).toEqual(analyzeTerms('file'));
  });

  it("removes Lucene's English stopwords", () => {
    expect(analyzeTerms('The cat is on the mat and it was there')).toEqual(['cat', 'mat']);
  });

  it('returns no terms for a text of only stopwords and punctuation', () => {
    expect(analyzeTerms('The AND of OR, to be: such that!')).toEqual([]);
    expect(analyzeTerms('')).toEqual([]);
  });

  it('stems with Porter, so "running" and "runs" give the same term', () => {
    const [running] = analyzeTerms('running');
    const [runs] = analyzeTerms('runs');
    expect(running).toBe('run');
    expect(runs).toBe(running);
    expect(analyzeTerms('connection connected connecting')).toEqual(['connect', 'connect', 'connect']);
  });

  it("drops a possessive 's, with a straight or a curly apostrophe", () => {
    expect(analyzeTerms("John's book")).toEqual(['john', 'book']);
    expect(analyzeTerms('Mary’s lamb')).toEqual(['mari', 'lamb']);
    expect(analyzeTerms("the cat's toys")).toEqual(analyzeTerms('the cat toys'));
  });

  it('joins the parts of other contractions', () => {
    expect(analyzeTerms("don't")).toEqual(['dont']);
  });

  it('keeps numbers unstemmed, splitting at punctuation', () => {
    expect(analyzeTerms('In 2024, 3D printers cost 199.99')).toEqual([
      '2024',
      '3d',
      'printer',
      'cost',
      '199',
      '99',
    ]);
  });

  it('keeps words in non-Latin scripts, lower-cased and unstemmed', () => {
    expect(analyzeTerms('Москва столица России')).toEqual(['москва', 'столица', 'россии']);
    expect(analyzeTerms('Αθήνα')).toEqual(['αθήνα']);
    expect(analyzeTerms('東京')).toEqual(['東京']);
  });

  it('keeps the marks that words in other scripts are made of', () => {
    // Folding would turn काम (work) into कम (less); й is not и.
    expect(analyzeTerms('काम कम हिन्दी')).toEqual(['काम', 'कम', 'हिन्दी']);
    expect(analyzeTerms('Йод')).toEqual(['йод']);
  });

  it('splits Chinese and Japanese runs into overlapping character pairs', () => {
    expect(analyzeTerms('東京は日本')).toEqual(['東京', '京は', 'は日', '日本']);
    expect(analyzeTerms('日')).toEqual(['日']);
  });

  it('keeps duplicates and the order of the text', () => {
    expect(analyzeTerms('wind, sun, wind')).toEqual(['wind', 'sun', 'wind']);
  });
});
