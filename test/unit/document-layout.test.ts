import { describe, expect, it } from 'vitest';
import { type DocumentLayout, layoutProblems, placeOfChunk } from '../../src/rag/document-layout.ts';
import { decodeChunkLocation, encodeChunkLocation } from '../../src/stores/chunk-location.ts';

describe('where a chunk is in its file', () => {
  // Three pages: 0-99, 100-199 (empty from 150 on), 200-; sections at 0, 120 and 250.
  const layout: DocumentLayout = {
    pageStarts: [0, 100, 200],
    sections: [
      { start: 0, path: ['Guide'] },
      { start: 120, path: ['Guide', 'Setup'] },
      { start: 250, path: ['Usage'] },
    ],
  };

  it('names the pages the chunk spans, its end exclusive', () => {
    expect(placeOfChunk(layout, 0, 50).pages).toEqual({ first: 1, last: 1 });
    expect(placeOfChunk(layout, 0, 100).pages).toEqual({ first: 1, last: 1 });
    expect(placeOfChunk(layout, 90, 101).pages).toEqual({ first: 1, last: 2 });
    expect(placeOfChunk(layout, 150, 300).pages).toEqual({ first: 2, last: 3 });
    expect(placeOfChunk(layout, 200, 201).pages).toEqual({ first: 3, last: 3 });
  });

  it('names the section the chunk starts in', () => {
    expect(placeOfChunk(layout, 0, 10).sectionPath).toEqual(['Guide']);
    expect(placeOfChunk(layout, 119, 130).sectionPath).toEqual(['Guide']);
    expect(placeOfChunk(layout, 120, 130).sectionPath).toEqual(['Guide', 'Setup']);
    expect(placeOfChunk(layout, 400, 500).sectionPath).toEqual(['Usage']);
  });

  it('gives no pages and no section to text before any heading, or without a layout', () => {
    expect(placeOfChunk({ sections: [{ start: 10, path: ['Later'] }] }, 0, 5)).toEqual({
      pages: null,
      sectionPath: [],
    });
    expect(placeOfChunk(undefined, 0, 5)).toEqual({ pages: null, sectionPath: [] });
  });

  it('refuses offsets out of order or past the content', () => {
    expect(layoutProblems({ pageStarts: [0, 50, 40] }, 100)).toEqual([
      'layout.pageStarts must be offsets into the content, in order',
    ]);
    expect(layoutProblems({ sections: [{ start: 101, path: ['Past'] }] }, 100)).toEqual([
      'layout.sections must begin at offsets into the content, in order',
    ]);
    expect(layoutProblems(layout, 300)).toEqual([]);
  });
});

describe("the stored form of a chunk's location", () => {
  it('round-trips pages and section paths, and stores nothing for a chunk without either', () => {
    const located = { pages: { first: 2, last: 4 }, sectionPath: ['Guide', 'Set "up"'] };
    expect(decodeChunkLocation(encodeChunkLocation(located))).toEqual(located);
    expect(decodeChunkLocation(encodeChunkLocation({ pages: null, sectionPath: ['Only'] }))).toEqual({
      pages: null,
      sectionPath: ['Only'],
    });
    expect(encodeChunkLocation({ pages: null, sectionPath: [] })).toBeNull();
  });

  it('reads a chunk stored without one, or with a damaged one, as having no pages and no section', () => {
    for (const stored of [null, undefined, '', 'not json', '{"pages":{"first":0}}', '[1]']) {
      expect(decodeChunkLocation(stored)).toEqual({ pages: null, sectionPath: [] });
    }
  });
});
