/**
 * The embedded store's vectors in memory, searched in two passes: a scan of one-bit codes (the sign
 * of each component) picks the candidates nearest in Hamming distance, then the candidates' full
 * vectors are scored exactly by cosine similarity. Scanning every full vector costs ~120 ms at
 * 100,000 chunks of 384 dimensions; the codes are 32 times smaller and compare with XOR and a
 * population count, so the first pass is a few milliseconds. The price is approximation: a true
 * neighbour whose code is far from the query's can be missed (bench/search/ measures recall).
 */

export interface ScoredKey {
  key: number;
  score: number;
}

export interface VectorIndexOptions {
  /**
   * Candidates rescored exactly, at least; more when the limit asks for more (20 per hit).
   * When a search has no more candidates than this, it is exact. Rescoring is cheap next to the
   * first pass (2,000 × 384 dimensions is under a millisecond), and one-bit codes rank near
   * neighbours coarsely, so the pool is generous.
   * @default 2000
   */
  minimumRescored?: number;
}

const initialCapacity = 1024;

export class VectorIndex {
  readonly dimensions: number;
  private readonly codeWords: number;
  private readonly minimumRescored: number;
  private capacity = initialCapacity;
  private count = 0;
  private keys = new Float64Array(initialCapacity);
  private vectors: Float32Array;
  private codes: Uint32Array;
  private readonly slotOfKey = new Map<number, number>();

  constructor(dimensions: number, options: VectorIndexOptions = {}) {
    this.dimensions = dimensions;
    this.codeWords = Math.ceil(dimensions / 32);
    this.minimumRescored = options.minimumRescored ?? 2000;
    this.vectors = new Float32Array(initialCapacity * dimensions);
    this.codes = new Uint32Array(initialCapacity * this.codeWords);
  }

  get size(): number {
    return this.count;
  }

  /** Adds a vector under a key, replacing any vector the key had. */
  add(key: number, vector: Float32Array): void {
    if (vector.length !== this.dimensions) {
      throw new RangeError(
        `A vector of ${vector.length} dimensions cannot join an index of ${this.dimensions}.`,
      );
    }
    let slot = this.slotOfKey.get(key);
    if (slot === undefined) {
      if (this.count === this.capacity) this.grow();
      slot = this.count++;
      this.slotOfKey.set(key, slot);
      this.keys[slot] = key;
    }
    const normalised = normalise(vector);
    this.vectors.set(normalised, slot * this.dimensions);
    this.codes.set(signCode(normalised, this.codeWords), slot * this.codeWords);
  }

  /** Removes a key's vector; a key it does not hold is ignored. */
  remove(key: number): void {
    const slot = this.slotOfKey.get(key);
    if (slot === undefined) return;
    this.slotOfKey.delete(key);
    const last = --this.count;
    if (slot === last) return;
    // Fill the hole with the last slot, so the live slots stay packed at the front.
    const movedKey = this.keys[last] as number;
    this.keys[slot] = movedKey;
    this.slotOfKey.set(movedKey, slot);
    this.vectors.copyWithin(slot * this.dimensions, last * this.dimensions, (last + 1) * this.dimensions);
    this.codes.copyWithin(slot * this.codeWords, last * this.codeWords, (last + 1) * this.codeWords);
  }

  /**
   * The `limit` keys most similar to the query by cosine similarity, best first. `allowed`
   * restricts the search to some keys (a metadata filter's matches), each listed once.
   */
  search(query: Float32Array, limit: number, allowed?: Iterable<number>): ScoredKey[] {
    const normalisedQuery = normalise(query);
    const slots = allowed ? this.slotsOf(allowed) : undefined;
    const candidateCount = slots ? slots.length : this.count;
    const rescored = Math.max(this.minimumRescored, limit * 20);
    const candidates =
      candidateCount <= rescored
        ? (slots ?? Array.from({ length: this.count }, (_, slot) => slot))
        : this.nearestCodes(signCode(normalisedQuery, this.codeWords), rescored, slots);
    return this.bestByCosine(normalisedQuery, candidates, limit);
  }

  /** The `limit` best candidates by exact cosine, kept in a small sorted list as they are scored. */
  private bestByCosine(
    normalisedQuery: Float32Array,
    candidates: readonly number[],
    limit: number,
  ): ScoredKey[] {
    const best: ScoredKey[] = [];
    for (const slot of candidates) {
      const score = this.dot(normalisedQuery, slot);
      if (best.length === limit) {
        if (score <= (best[limit - 1] as ScoredKey).score) continue;
        best.pop();
      }
      let position = best.length;
      while (position > 0 && (best[position - 1] as ScoredKey).score < score) position--;
      best.splice(position, 0, { key: this.keys[slot] as number, score });
    }
    return best;
  }

  /** The slots whose codes are nearest the query's code: at least `wanted` of them (ties kept). */
  private nearestCodes(queryCode: Uint32Array, wanted: number, slots: number[] | undefined): number[] {
    const total = slots ? slots.length : this.count;
    const distances = new Uint16Array(total);
    const histogram = new Uint32Array(this.codeWords * 32 + 1);
    const codes = this.codes;
    const codeWords = this.codeWords;
    for (let position = 0; position < total; position++) {
      const slot = slots ? (slots[position] as number) : position;
      let distance = 0;
      const offset = slot * codeWords;
      for (let word = 0; word < codeWords; word++) {
        distance += popCount((codes[offset + word] as number) ^ (queryCode[word] as number));
      }
      distances[position] = distance;
      histogram[distance] = (histogram[distance] as number) + 1;
    }
    // The smallest distance threshold that admits `wanted` candidates: a counting sort, no full sort.
    let threshold = 0;
    for (
      let admitted = histogram[0] as number;
      admitted < wanted;
      admitted += histogram[threshold] as number
    ) {
      threshold++;
    }
    const nearest: number[] = [];
    for (let position = 0; position < total; position++) {
      if ((distances[position] as number) <= threshold)
        nearest.push(slots ? (slots[position] as number) : position);
    }
    return nearest;
  }

  private slotsOf(keys: Iterable<number>): number[] {
    const slots: number[] = [];
    for (const key of keys) {
      const slot = this.slotOfKey.get(key);
      if (slot !== undefined) slots.push(slot);
    }
    return slots;
  }

  private dot(normalisedQuery: Float32Array, slot: number): number {
    // Locals and four running sums: this loop is the rescoring's whole cost.
    const vectors = this.vectors;
    const dimensions = this.dimensions;
    const offset = slot * dimensions;
    let sum0 = 0;
    let sum1 = 0;
    let sum2 = 0;
    let sum3 = 0;
    let index = 0;
    for (; index + 3 < dimensions; index += 4) {
      sum0 += (normalisedQuery[index] as number) * (vectors[offset + index] as number);
      sum1 += (normalisedQuery[index + 1] as number) * (vectors[offset + index + 1] as number);
      sum2 += (normalisedQuery[index + 2] as number) * (vectors[offset + index + 2] as number);
      sum3 += (normalisedQuery[index + 3] as number) * (vectors[offset + index + 3] as number);
    }
    for (; index < dimensions; index++)
      sum0 += (normalisedQuery[index] as number) * (vectors[offset + index] as number);
    return sum0 + sum1 + sum2 + sum3;
  }

  private grow(): void {
    this.capacity *= 2;
    this.keys = resized(this.keys, this.capacity);
    this.vectors = resized(this.vectors, this.capacity * this.dimensions);
    this.codes = resized(this.codes, this.capacity * this.codeWords);
  }
}

function normalise(vector: Float32Array): Float32Array {
  let squares = 0;
  for (const value of vector) squares += value * value;
  const length = Math.sqrt(squares);
  if (length === 0) return new Float32Array(vector);
  return vector.map((value) => value / length);
}

/** One bit per component, set where the component is positive. */
function signCode(vector: Float32Array, words: number): Uint32Array {
  const code = new Uint32Array(words);
  vector.forEach((value, index) => {
    if (value > 0) code[index >>> 5] = (code[index >>> 5] as number) | (1 << (index & 31));
  });
  return code;
}

function popCount(word: number): number {
  let bits = word - ((word >>> 1) & 0x55555555);
  bits = (bits & 0x33333333) + ((bits >>> 2) & 0x33333333);
  return (((bits + (bits >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

function resized<T extends Float64Array | Float32Array | Uint32Array>(array: T, length: number): T {
  const larger = new (array.constructor as new (length: number) => T)(length);
  larger.set(array);
  return larger;
}
