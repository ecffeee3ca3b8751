/** A citation marker such as [2], or a group such as [1, 3]. */
const markerGroup = /\[(\d+(?:\s*,\s*\d+)*)\]/g;

export interface ParsedCitations {
  /** Markers that name a source, in order of first appearance, each once. */
  markers: number[];
  /** Markers that name no source (a number out of range); they are dropped. */
  invalid: number;
}

export function parseCitations(text: string, sourceCount: number): ParsedCitations {
  const markers: number[] = [];
  let invalid = 0;
  for (const match of text.matchAll(markerGroup)) {
    for (const number of (match[1] ?? '').split(',').map((part) => Number(part.trim()))) {
      if (number < 1 || number > sourceCount) invalid += 1;
      else if (!markers.includes(number)) markers.push(number);
    }
  }
  return { markers, invalid };
}
