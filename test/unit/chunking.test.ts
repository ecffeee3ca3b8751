import { Tiktoken } from 'js-tiktoken/lite';
import cl100kBase from 'js-tiktoken/ranks/cl100k_base';
import { describe, expect, it } from 'vitest';
import {
  type ChunkingOptions,
  chunkText,
  defaultChunkingOptions,
  type TextChunk,
} from '../../src/rag/chunking.ts';
import { countTokens } from '../../src/text/token-count.ts';

/** mulberry32: the same "random" prose on every run. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), state | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

// Words such as "unbelievable" cost more tokens without their leading space, the case a chunk start must allow for.
const VOCABULARY = (
  'the a of solar panel grid battery storage night output weather forecast model retrieval query ' +
  'answer index vector unbelievable photosynthesis electrolyte interoperability is was and to in that ' +
  'with for on by it from measured stored cloudy bright'
).split(' ');

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

function sentence(random: () => number, maxWords: number): string {
  const length = 4 + Math.floor(random() * (maxWords - 3));
  const words = Array.from({ length }, () => pick(random, VOCABULARY));
  const [first = '', ...rest] = words;
  return `${first[0]?.toUpperCase()}${first.slice(1)} ${rest.join(' ')}${pick(random, ['.', '.', '!', '?'])}`;
}

function prose(seed: number, paragraphs: number): string {
  const random = seededRandom(seed);
  return Array.from({ length: paragraphs }, () =>
    Array.from({ length: 1 + Math.floor(random() * 7) }, () => sentence(random, 18)).join(' '),
  ).join('\n\n');
}

const runOn = Array.from({ length: 300 }, (_, i) => VOCABULARY[(i * 7) % VOCABULARY.length]).join(' ');

const messyWhitespace =
  '\r\n\t  Leading whitespace, then\tTABS and  double  spaces.\r\n\r\nWindows paragraphs\u00a0with a ' +
  'no-break space!\n \t\nA blank line holding spaces? Yes.   \n\n\n\n   Trailing whitespace follows.  \n\t ';

const emoji =
  'Deploy 🚀 tonight. The 👩‍💻 team ships 🇫🇷 builds and 🧪 tests! Rockets 🚀🚀🚀 need fuel. ' +
  'Family 👨‍👩‍👧‍👦 photos 📸 load slowly? Mathematical 𝒜𝒷𝒸 letters live outside the BMP too.\n\n'.repeat(6);

const cjk =
  '東京は日本の首都です。人口はとても多いです！電車は便利ですか？太陽光発電が増えています。' +
  '北京是中国的首都。这里的冬天很冷！你去过吗？我们明天见。\n\n'.repeat(5);

const combiningAccents =
  'Cafe\u0301 re\u0301sume\u0301 and nai\u0308ve co\u00f6perate with the pin\u0303ata. '.repeat(20) +
  '\n\nZa\u0308hle U\u0308berga\u0308nge genau.'.repeat(5);

const samples: Record<string, string> = {
  prose: prose(1, 40),
  'run-on sentence without punctuation': runOn,
  'messy whitespace': messyWhitespace,
  'emoji and other surrogate pairs': emoji,
  'CJK without spaces': cjk,
  'combining accents': combiningAccents,
  mixed: [prose(2, 5), emoji, cjk, combiningAccents, runOn, messyWhitespace].join('\n\n'),
};

const optionSets: ChunkingOptions[] = [
  defaultChunkingOptions,
  { chunkSize: 50, chunkOverlap: 10 },
  { chunkSize: 16, chunkOverlap: 4 },
  { chunkSize: 8, chunkOverlap: 0 },
  { chunkSize: 10, chunkOverlap: 9 },
];

/** Every sample chunked with every option set, labelled for failure messages. */
const cases = Object.entries(samples).flatMap(([name, text]) =>
  optionSets.map((options) => ({
    label: `${name}, size ${options.chunkSize}, overlap ${options.chunkOverlap}`,
    text,
    options,
    chunks: chunkText(text, options),
  })),
);

const WHITESPACE = /\s/;
const CJK_SENTENCE_END = /[。！？]/;

function isWordBoundary(text: string, offset: number): boolean {
  if (offset === 0 || offset === text.length) return true;
  const before = text[offset - 1] ?? '';
  const after = text[offset] ?? '';
  return WHITESPACE.test(before) || WHITESPACE.test(after) || CJK_SENTENCE_END.test(before);
}

function isSingleWord(content: string): boolean {
  return !WHITESPACE.test(content) && !/[。！？]./.test(content);
}

function withoutWhitespace(text: string): string {
  return text.replace(/\s/g, '');
}

/** The text the chunks cover, each character once: every chunk minus what it repeats from the one before. */
function coveredText(text: string, chunks: TextChunk[]): { covered: string; gaps: string[] } {
  let covered = '';
  const gaps: string[] = [];
  let coveredUpTo = 0;
  for (const chunk of chunks) {
    gaps.push(text.slice(coveredUpTo, Math.max(coveredUpTo, chunk.startOffset)));
    covered += text.slice(Math.max(coveredUpTo, chunk.startOffset), chunk.endOffset);
    coveredUpTo = chunk.endOffset;
  }
  gaps.push(text.slice(coveredUpTo));
  return { covered, gaps };
}

function consecutivePairs<T>(items: T[]): Array<[T, T]> {
  return items.slice(1).map((item, i) => [items[i] as T, item]);
}

describe('countTokens', () => {
  it('counts cl100k_base tokens', () => {
    expect(countTokens('hello world')).toBe(2);
    expect(countTokens('')).toBe(0);
  });

  it('agrees with js-tiktoken encoding the whole text with cl100k_base', () => {
    const encoder = new Tiktoken(cl100kBase);
    for (const [name, text] of Object.entries(samples)) {
      expect(countTokens(text), name).toBe(encoder.encode(text).length);
      // Twice, so the second count comes from what the first one remembered.
      expect(countTokens(text), name).toBe(encoder.encode(text).length);
    }
  });

  it('counts a special-token marker in a document as plain text instead of throwing', () => {
    expect(countTokens('<|endoftext|>')).toBeGreaterThan(1);
  });
});

describe('defaultChunkingOptions', () => {
  it('is 400 tokens per chunk with 60 tokens of overlap', () => {
    expect(defaultChunkingOptions).toEqual({ chunkSize: 400, chunkOverlap: 60 });
  });
});

describe('chunkText', () => {
  it('returns no chunks for empty or whitespace-only text', () => {
    expect(chunkText('', defaultChunkingOptions)).toEqual([]);
    expect(chunkText(' \n\n\t\r\n\u00a0 ', defaultChunkingOptions)).toEqual([]);
  });

  it('returns a short text as one chunk equal to the trimmed text', () => {
    const text = '  \n Solar output drops at night.\n\nBatteries cover the gap. \n';
    const content = 'Solar output drops at night.\n\nBatteries cover the gap.';
    expect(chunkText(text, defaultChunkingOptions)).toEqual([
      { index: 0, content, startOffset: 4, endOffset: 4 + content.length },
    ]);
  });

  it('gives offsets that point at exactly the chunk content, in every sample', () => {
    for (const { label, text, chunks } of cases) {
      expect(chunks.length, label).toBeGreaterThan(0);
      for (const chunk of chunks) {
        expect(text.slice(chunk.startOffset, chunk.endOffset), label).toBe(chunk.content);
      }
    }
  });

  it('numbers chunks from 0 and starts each one further into the text than the last', () => {
    for (const { label, chunks } of cases) {
      expect(
        chunks.map((chunk) => chunk.index),
        label,
      ).toEqual(chunks.map((_, i) => i));
      for (const [previous, next] of consecutivePairs(chunks)) {
        expect(next.startOffset, label).toBeGreaterThan(previous.startOffset);
        expect(next.endOffset, label).toBeGreaterThan(previous.endOffset);
      }
    }
  });

  it('trims whitespace from both ends of every chunk', () => {
    for (const { label, chunks } of cases) {
      for (const chunk of chunks) {
        expect(chunk.content, label).toBe(chunk.content.trim());
        expect(chunk.content, label).not.toBe('');
      }
    }
  });

  it('never starts or ends a chunk inside a word', () => {
    for (const { label, text, chunks } of cases) {
      for (const chunk of chunks) {
        expect(isWordBoundary(text, chunk.startOffset), `${label}: start of ${chunk.content}`).toBe(true);
        expect(isWordBoundary(text, chunk.endOffset), `${label}: end of ${chunk.content}`).toBe(true);
      }
    }
  });

  it('never splits a surrogate pair', () => {
    const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;
    const isLowSurrogate = (code: number) => code >= 0xdc00 && code <= 0xdfff;
    for (const { label, chunks } of cases) {
      for (const chunk of chunks) {
        expect(isLowSurrogate(chunk.content.charCodeAt(0)), label).toBe(false);
        expect(isHighSurrogate(chunk.content.charCodeAt(chunk.content.length - 1)), label).toBe(false);
      }
    }
  });

  it('keeps every chunk within chunkSize tokens, unless it is a single word longer than that', () => {
    for (const { label, options, chunks } of cases) {
      for (const chunk of chunks) {
        if (countTokens(chunk.content) > options.chunkSize) {
          expect(isSingleWord(chunk.content), `${label}: ${chunk.content}`).toBe(true);
        }
      }
    }
  });

  it('keeps a word longer than chunkSize whole, in a chunk of its own', () => {
    const longWord = 'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';
    const text = `The image digest is ${longWord} and it must match the registry.`;
    const chunks = chunkText(text, { chunkSize: 10, chunkOverlap: 3 });
    expect(countTokens(longWord)).toBeGreaterThan(10);
    expect(chunks.map((chunk) => chunk.content)).toContain(longWord);
    expect(chunks.filter((chunk) => chunk.content.includes('sha256'))).toHaveLength(1);
  });

  it('starts each chunk with about chunkOverlap tokens from the end of the previous one', () => {
    const text = prose(3, 30);
    const options = { chunkSize: 60, chunkOverlap: 15 };
    const chunks = chunkText(text, options);
    expect(chunks.length).toBeGreaterThan(10);
    for (const [previous, next] of consecutivePairs(chunks)) {
      const shared = text.slice(next.startOffset, previous.endOffset);
      expect(previous.content.endsWith(shared), shared).toBe(true);
      expect(next.content.startsWith(shared), shared).toBe(true);
      expect(countTokens(shared), shared).toBeGreaterThanOrEqual(options.chunkOverlap - 4);
      expect(countTokens(shared), shared).toBeLessThanOrEqual(options.chunkOverlap);
    }
  });

  it('repeats nothing from the previous chunk when chunkOverlap is 0', () => {
    const chunks = chunkText(prose(4, 20), { chunkSize: 40, chunkOverlap: 0 });
    expect(chunks.length).toBeGreaterThan(5);
    for (const [previous, next] of consecutivePairs(chunks)) {
      expect(next.startOffset).toBeGreaterThanOrEqual(previous.endOffset);
    }
  });

  it('covers every non-whitespace character of the text, leaving only whitespace between chunks', () => {
    for (const { label, text, chunks } of cases) {
      const { covered, gaps } = coveredText(text, chunks);
      expect(withoutWhitespace(covered), label).toBe(withoutWhitespace(text));
      for (const gap of gaps) expect(gap.trim(), label).toBe('');
    }
  });

  it('ends a chunk at a paragraph break rather than after a sentence of the next paragraph', () => {
    const firstParagraph =
      'The harbour opened at dawn. Fishing boats left in a long line. Gulls followed them.';
    const secondParagraph = 'By noon the market was full. Traders argued over prices. Nobody saw the storm.';
    const text = `${firstParagraph}\n\n${secondParagraph}`;
    // Counted in two parts, as a packer of sentences would count them: ".\n\n" alone is a single token.
    const roomForOneMoreSentence =
      countTokens(firstParagraph) + countTokens('\n\nBy noon the market was full.');
    expect(countTokens(text)).toBeGreaterThan(roomForOneMoreSentence);

    const chunks = chunkText(text, { chunkSize: roomForOneMoreSentence, chunkOverlap: 0 });

    expect(chunks.map((chunk) => chunk.content)).toEqual([firstParagraph, secondParagraph]);
  });

  it('ends a chunk at a sentence end rather than after some words of the next sentence', () => {
    const text = Array.from({ length: 30 }, (_, i) => sentence(seededRandom(i), 14)).join(' ');
    const chunks = chunkText(text, { chunkSize: 40, chunkOverlap: 0 });
    expect(chunks.length).toBeGreaterThan(5);
    for (const chunk of chunks) expect(chunk.content).toMatch(/[.!?]$/);
  });

  it('cuts CJK text after 。！？ although no space follows them', () => {
    const text = '東京は日本の首都です。人口はとても多いです！電車は便利ですか？太陽光発電が増えています。';
    const chunks = chunkText(text, { chunkSize: 12, chunkOverlap: 0 });
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) expect(chunk.content).toMatch(/[。！？]$/);
    expect(chunks.map((chunk) => chunk.content).join('')).toBe(text);
  });

  it('makes progress when chunkOverlap is one less than chunkSize', () => {
    const text = prose(5, 3);
    const chunks = chunkText(text, { chunkSize: 6, chunkOverlap: 5 });
    expect(chunks.length).toBeGreaterThan(3);
    expect(chunks.at(-1)?.endOffset).toBe(text.trimEnd().length);
  });

  it('chunks a document that contains special-token markers', () => {
    const text = 'Model output ends with <|endoftext|> and then <|fim_prefix|> starts.';
    expect(chunkText(text, defaultChunkingOptions).map((chunk) => chunk.content)).toEqual([text]);
  });

  it('starts a chunk at every section start, carrying no overlap across it, and numbers chunks on', () => {
    const intro = '# Intro\n\nShort words here.';
    const setup = '## Setup\n\nInstall it. Then run it.';
    const usage = '## Usage\n\nCall it.';
    const text = `${intro}\n\n${setup}\n\n   ${usage}\n`;
    const starts = [0, text.indexOf('## Setup'), text.indexOf('## Usage')];
    const chunks = chunkText(text, { chunkSize: 400, chunkOverlap: 60 }, starts);
    expect(chunks.map(({ index, content }) => [index, content])).toEqual([
      [0, intro],
      [1, setup],
      [2, usage],
    ]);
    for (const chunk of chunks) expect(text.slice(chunk.startOffset, chunk.endOffset)).toBe(chunk.content);
    // Without them, the same text is one chunk.
    expect(chunkText(text, { chunkSize: 400, chunkOverlap: 60 })).toHaveLength(1);
  });

  it('chunks a long section on its own, with overlap only inside it', () => {
    const words = Array.from({ length: 120 }, (_, position) => `w${position}`).join(' ');
    const text = `${words}\n\n# Next\n\nTail.`;
    const chunks = chunkText(text, { chunkSize: 50, chunkOverlap: 10 }, [text.indexOf('# Next')]);
    expect(chunks.at(-1)?.content).toBe('# Next\n\nTail.');
    expect(chunks.slice(0, -1).every((chunk) => chunk.endOffset <= text.indexOf('# Next'))).toBe(true);
    expect(chunks.length).toBeGreaterThan(2);
  });

  it('rejects a chunkSize that is not a whole number of at least 1', () => {
    for (const chunkSize of [0, -5, 2.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => chunkText('text', { chunkSize, chunkOverlap: 0 }), `${chunkSize}`).toThrow(
        new RangeError(`chunkSize must be a whole number of tokens, at least 1; got ${chunkSize}`),
      );
    }
  });

  it('rejects a chunkOverlap below 0, not whole, or not smaller than chunkSize', () => {
    for (const chunkOverlap of [-1, 1.5, 10, 11, Number.NaN]) {
      expect(() => chunkText('text', { chunkSize: 10, chunkOverlap }), `${chunkOverlap}`).toThrow(RangeError);
      expect(() => chunkText('text', { chunkSize: 10, chunkOverlap }), `${chunkOverlap}`).toThrow(
        /chunkOverlap must be a whole number of tokens from 0 to chunkSize - 1 \(9\)/,
      );
    }
  });
});
