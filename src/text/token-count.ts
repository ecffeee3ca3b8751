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

/** Counts tokens in cl100k_base, as the chunker sizes chunks. */
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

function tokensOfPreToken(preToken: string): number {
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
