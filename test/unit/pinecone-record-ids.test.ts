/**
 * Document record ids on Pinecone: ASCII that Pinecone lists in the byte order of the ids they
 * stand for, and that give the ids back.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { documentIdOf, documentRecordId } from '../../src/stores/pinecone/record-layout.ts';

/** Ids of characters from every tier of the encoding, and the code points at its tiers' edges. */
const documentId = fc.string({
  unit: fc.oneof(
    fc.constantFrom(' ', '!', '"', '|', '}', '~', '#', 'a', 'Z'),
    fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)),
    fc.integer({ min: 0x7f, max: 0x2400 }).map((code) => String.fromCodePoint(code)),
    fc
      .integer({ min: 0x2300, max: 0xccf78 })
      .filter((code) => code < 0xd800 || code > 0xdfff)
      .map((code) => String.fromCodePoint(code)),
  ),
  minLength: 1,
  maxLength: 12,
});

const byteOrder = (a: string, b: string) => Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b)));

describe('document record ids', () => {
  it('are printable ASCII that gives the id back', () => {
    fc.assert(
      fc.property(documentId, (id) => {
        const recordId = documentRecordId(id);
        expect(recordId).toMatch(/^d:[\x21-\x7e]+$/);
        expect(documentIdOf(recordId)).toBe(id);
      }),
      { numRuns: 2000 },
    );
  });

  it('sort as the UTF-8 bytes of their ids do', () => {
    fc.assert(
      fc.property(documentId, documentId, (a, b) => {
        expect(byteOrder(documentRecordId(a), documentRecordId(b))).toBe(byteOrder(a, b));
      }),
      { numRuns: 5000 },
    );
  });

  it("keeps every code point, subdivision flags' tag characters among them", () => {
    const england = '🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}';
    expect(documentIdOf(documentRecordId(england))).toBe(england);
  });
});
