/**
 * Token counts in cl100k_base, the encoding ragql sizes chunks and prompts in (and estimates usage
 * with when a provider reports none).
 */
import { Tiktoken } from 'js-tiktoken/lite';
import cl100kBase from 'js-tiktoken/ranks/cl100k_base';

let encoder: Tiktoken | undefined;

/** Building the BPE table takes half a second or more, so it waits for the first count and is then kept. */
function cl100k(): Tiktoken {
  encoder ??= new Tiktoken(cl100kBase);
  return encoder;
}

/**
 * cl100k's pre-tokenizer, as js-tiktoken compiles it. BPE never merges across two of its matches,
 * so a text's count is the sum of its matches' counts, and a match can be counted once and looked up after.
 */
const PRE_TOKEN = new RegExp(cl100kBase.pat_str, 'gu');

/**
 * js-tiktoken redoes its byte-pair merging, in plain JavaScript, for every word of every call.
 * Remembering the counts makes 5 MB of scientific abstracts count 3 times faster the first time
 * and 12 times once their words are known, and it is what lets the chunker count words one by one.
 * Such a document has some 40,000 distinct pre-tokens; the bound keeps a long-running server from
 * growing with every vocabulary it meets.
 */
const tokensByPreToken = new Map<string, number>();
const MAX_CACHED_PRE_TOKENS = 200_000;

/**
 * Counts tokens in cl100k_base, as the chunker sizes chunks: exactly for ordinary text, and in
 * time linear in its length for any text (see tokensOfPreToken).
 */
export function countTokens(text: string): number {
  let tokens = 0;
  // exec rather than matchAll, which copies the pattern on every call: the chunker counts word by
  // word, and for one word the copy costs more than the count.
  PRE_TOKEN.lastIndex = 0;
  for (let match = PRE_TOKEN.exec(text); match !== null; match = PRE_TOKEN.exec(text)) {
    tokens += tokensOfPreToken(match[0]);
  }
  return tokens;
}

/**
 * js-tiktoken's byte-pair merge is quadratic in the length of one pre-token, and a run of letters
 * without a space (a DNA sequence, a hostile question) is a single pre-token: 8,000 letters took
 * seconds, 40,000 minutes. Pre-tokens up to this length, which every ordinary word is, are counted
 * exactly.
 */
const MAX_EXACT_LENGTH = 64;
/**
 * Longer runs up to this length (a ruled line of dashes, deep indentation) are counted exactly in
 * pieces of MAX_EXACT_LENGTH, a few milliseconds at most; longer ones as their UTF-8 bytes.
 */
const MAX_PIECEWISE_LENGTH = 1024;

/**
 * The tokens of one pre-token: exact when it is short, otherwise a bound that errs high, so a
 * chunk or a prompt sized with it fits. No token is shorter than a byte, so the byte count is a
 * bound; a cut between pieces stops merges across it, which costs tokens, and rarely (at most one
 * per cut, in test/unit/token-count.test.ts) lets the merges around it save one: one token per
 * cut is added for that.
 */
function tokensOfPreToken(preToken: string): number {
  if (preToken.length <= MAX_EXACT_LENGTH) return exactTokens(preToken);
  const bytes = Buffer.byteLength(preToken, 'utf8');
  if (preToken.length > MAX_PIECEWISE_LENGTH) return bytes;
  let tokens = 0;
  let start = 0;
  while (start < preToken.length) {
    let end = Math.min(start + MAX_EXACT_LENGTH, preToken.length);
    // Never between the two halves of a surrogate pair.
    if (isLowSurrogate(preToken.charCodeAt(end))) end++;
    tokens += exactTokens(preToken.slice(start, end)) + (start === 0 ? 0 : 1);
    start = end;
  }
  return Math.min(tokens, bytes);
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

function exactTokens(preToken: string): number {
  let tokens = tokensByPreToken.get(preToken);
  if (tokens === undefined) {
    if (tokensByPreToken.size >= MAX_CACHED_PRE_TOKENS) tokensByPreToken.clear();
    // A document that mentions "<|endoftext|>" is text to count, not a control token; by default
    // js-tiktoken throws on it, which would make such a document impossible to ingest.
    tokens = cl100k().encode(preToken, [], []).length;
    tokensByPreToken.set(preToken, tokens);
  }
  return tokens;
}

/** Usage counted here, for a model call whose provider reported none (or that was cut short). */
export function estimateUsage(
  messages: readonly { content: string }[],
  completion: string,
): { promptTokens: number; completionTokens: number; totalTokens: number } {
  const promptTokens = countMessageTokens(messages);
  const completionTokens = countTokens(completion);
  return { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens };
}

/** Tokens of the messages' text (without the few tokens of framing each message adds). */
export function countMessageTokens(messages: readonly { content: string }[]): number {
  return messages.reduce((sum, message) => sum + countTokens(message.content), 0);
}

/**
 * Builds the tokenizer's tables now (half a second or more of CPU), at start-up, rather than inside
 * the first request that counts tokens, where it would stall every other request as long.
 */
export function loadTokenizer(): void {
  cl100k();
}
