/** Sentence ends: . ! ? (and their CJK forms) with closing quotes or brackets, then space; or a line break. */
const sentenceBoundary = /(?<=[.!?。！？]["'”’)\]]*)\s+|\n+/u;

/** Splits text into trimmed, non-empty sentences. Good enough for picking quotable sentences. */
export function splitSentences(text: string): string[] {
  return text
    .split(sentenceBoundary)
    .map((sentence) => sentence.trim())
    .filter((sentence) => sentence !== '');
}
