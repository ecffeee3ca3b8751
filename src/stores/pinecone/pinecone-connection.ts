import {
  Errors,
  type Index,
  Pinecone,
  type PineconeRecord,
  type QueryByVectorValues,
  type RecordMetadata,
  type ScoredPineconeRecord,
} from '@pinecone-database/pinecone';
import { ExponentialBackoff, handleWhen, type IPolicy, retry } from 'cockatiel';
import { RagqlError } from '../../errors.ts';
import { RecentWrites } from './recent-writes.ts';

export interface PineconeConnectionOptions {
  apiKey: string;
  /** The index's data-plane host, as the Pinecone console shows it, e.g. `https://docs-abc.svc.pinecone.io`. */
  indexHost: string;
  /** Retries of a request Pinecone refused for its rate limit or failed with a server error. @default 3 */
  maxRetries?: number;
  /** The first retry's delay; later ones grow exponentially, with jitter. @default 250 */
  retryDelayMs?: number;
  /**
   * The records this process wrote lately, shared by its connections to one index (the
   * generations', generations.ts) so that each reads what another wrote. @default its own
   */
  recentWrites?: RecentWrites;
}

/**
 * Pinecone's limits on one request (docs: operation limits): upserts of 1,000 records and 2 MB;
 * fetches and deletes of 1,000 ids. Fetches go in the URL, so they are cut by its length too.
 */
const mostRecordsPerUpsert = 1000;
const mostUpsertBytes = 1_500_000;
const mostIdsPerRequest = 1000;
const mostFetchUrlCharacters = 6000;
/** Pinecone's largest topK. */
export const mostQueryMatches = 10_000;

/**
 * ragql's connection to one Pinecone index through the SDK, and the rules for talking to it: a
 * Pinecone that cannot be reached fails the request with UPSTREAM_UNAVAILABLE, any other failure
 * is UPSTREAM_FAILED naming what ragql was doing, Pinecone's message kept in `cause` (logged).
 * Requests larger than Pinecone takes are sent in parts.
 */
export class PineconeConnection {
  readonly host: string;
  private readonly index: Index;
  private readonly recentWrites: RecentWrites;
  private readonly retries: IPolicy;

  constructor(options: PineconeConnectionOptions) {
    this.host = options.indexHost;
    this.recentWrites = options.recentWrites ?? new RecentWrites();
    // ragql retries (with cockatiel, rate limits included); the SDK's own retries stay off.
    const client = new Pinecone({ apiKey: options.apiKey, maxRetries: 0 });
    this.index = client.index({ host: options.indexHost });
    this.retries = retry(handleWhen(isTransient), {
      maxAttempts: options.maxRetries ?? 3,
      backoff: new ExponentialBackoff({ initialDelay: options.retryDelayMs ?? 250, maxDelay: 5000 }),
    });
  }

  namespace(name: string): PineconeNamespace {
    return new PineconeNamespace(
      this.index.namespace(name),
      name,
      this.host,
      this.recentWrites,
      this.retries,
    );
  }

  /** The namespaces this process wrote records to lately, which the index's statistics may not show yet. */
  recentlyWrittenNamespaces(): Set<string> {
    return this.recentWrites.namespaces();
  }

  async describe(): Promise<{ dimension: number; namespaces: Record<string, number> }> {
    const stats = await call(this.host, this.retries, 'describe the Pinecone index', () =>
      this.index.describeIndexStats(),
    );
    return {
      dimension: stats.dimension ?? 0,
      namespaces: Object.fromEntries(
        Object.entries(stats.namespaces ?? {}).map(([name, summary]) => [name, summary.recordCount]),
      ),
    };
  }
}

/**
 * One namespace's records. Fetches see this process's own writes at once (recent-writes.ts), and
 * other processes' newer ones once Pinecone shows them; queries and listings see every write
 * when Pinecone shows it.
 */
export class PineconeNamespace {
  readonly name: string;
  private readonly index: Index;
  private readonly host: string;
  private readonly recentWrites: RecentWrites;
  private readonly retries: IPolicy;

  constructor(index: Index, name: string, host: string, recentWrites: RecentWrites, retries: IPolicy) {
    this.index = index;
    this.name = name;
    this.host = host;
    this.recentWrites = recentWrites;
    this.retries = retries;
  }

  async upsert(records: readonly PineconeRecord[]): Promise<void> {
    for (const part of upsertParts(records)) {
      await call(this.host, this.retries, `write ${part.length} records to Pinecone`, () =>
        this.index.upsert({ records: part }),
      );
      this.recentWrites.wrote(this.name, part);
    }
  }

  /** The records of these ids that exist, this process's recent writes over Pinecone's older copies. */
  async fetch(ids: readonly string[]): Promise<Map<string, PineconeRecord>> {
    const stored = new Map<string, PineconeRecord>();
    for (const part of fetchParts(ids)) {
      const { records } = await call(
        this.host,
        this.retries,
        `read ${part.length} records from Pinecone`,
        () => this.index.fetch({ ids: part }),
      );
      for (const [id, record] of Object.entries(records)) stored.set(id, record);
    }
    const found = new Map<string, PineconeRecord>();
    for (const id of ids) {
      const record = this.recentWrites.newer(this.name, id, stored.get(id));
      if (record) found.set(id, record);
    }
    return found;
  }

  async delete(ids: readonly string[]): Promise<void> {
    for (const part of partsOf(ids, mostIdsPerRequest, Number.POSITIVE_INFINITY, () => 0)) {
      await call(this.host, this.retries, `delete ${part.length} records from Pinecone`, () =>
        unlessNamespaceMissing(this.index.deleteMany({ ids: part })),
      );
      this.recentWrites.deleted(this.name, part);
    }
  }

  /** Deletes every record of the namespace, and so the namespace. */
  async deleteAll(): Promise<void> {
    await call(this.host, this.retries, 'delete a namespace from Pinecone', () =>
      unlessNamespaceMissing(this.index.deleteAll()),
    );
    this.recentWrites.forgetNamespace(this.name);
  }

  /** Deletes the records a filter matches, whatever their ids (reads of them by id are not affected). */
  async deleteMatching(filter: object): Promise<void> {
    await call(this.host, this.retries, 'delete records from Pinecone', () =>
      unlessNamespaceMissing(this.index.deleteMany({ filter })),
    );
  }

  async query(
    query: Omit<QueryByVectorValues, 'namespace'>,
  ): Promise<ScoredPineconeRecord<RecordMetadata>[]> {
    const { matches } = await call(this.host, this.retries, 'search Pinecone', () => this.index.query(query));
    return matches;
  }

  /** The ids beginning with `prefix` this process wrote lately, which a listing may not show yet; in order. */
  recentlyWritten(prefix: string): string[] {
    return this.recentWrites.writtenIds(this.name, prefix);
  }

  /** One page of ids with this prefix, in byte order, and the token of the next page if any. */
  async listPage(prefix: string, paginationToken?: string): Promise<{ ids: string[]; next?: string }> {
    const page = await call(this.host, this.retries, 'list records in Pinecone', () =>
      this.index.listPaginated({ prefix, ...(paginationToken ? { paginationToken } : {}) }),
    );
    const ids = (page.vectors ?? []).flatMap((vector) => (vector.id ? [vector.id] : []));
    return { ids, ...(page.pagination?.next ? { next: page.pagination.next } : {}) };
  }
}

/** Items cut into consecutive parts of at most `most` items and `mostSize` in all (one item at least). */
function* partsOf<Item>(
  items: readonly Item[],
  most: number,
  mostSize: number,
  sizeOf: (item: Item) => number,
): Generator<Item[]> {
  let part: Item[] = [];
  let size = 0;
  for (const item of items) {
    const itemSize = sizeOf(item);
    if (part.length > 0 && (part.length === most || size + itemSize > mostSize)) {
      yield part;
      part = [];
      size = 0;
    }
    part.push(item);
    size += itemSize;
  }
  if (part.length > 0) yield part;
}

/** Upserts within Pinecone's 1,000 records and 2 MB. */
function upsertParts(records: readonly PineconeRecord[]): Generator<PineconeRecord[]> {
  return partsOf(records, mostRecordsPerUpsert, mostUpsertBytes, (record) =>
    Buffer.byteLength(JSON.stringify(record)),
  );
}

/** Fetches within 1,000 ids and a URL of `mostFetchUrlCharacters` (each id is `&ids=<id>`). */
function fetchParts(ids: readonly string[]): Generator<string[]> {
  return partsOf(ids, mostIdsPerRequest, mostFetchUrlCharacters, (id) => encodeURIComponent(id).length + 5);
}

/** One request, retried while Pinecone refuses it for a while; its failure as ragql's. */
/**
 * A delete, done when the namespace does not exist: a serverless index answers one there with 404
 * (a namespace never written, or deleted already, by another process's drop, say).
 */
async function unlessNamespaceMissing(deleting: Promise<void>): Promise<void> {
  try {
    await deleting;
  } catch (error) {
    if (!(error instanceof Errors.PineconeNotFoundError)) throw error;
  }
}

async function call<Result>(
  host: string,
  retries: IPolicy,
  description: string,
  request: () => Promise<Result>,
): Promise<Result> {
  try {
    return await retries.execute(request);
  } catch (error) {
    throw pineconeFailure(host, description, error);
  }
}

/**
 * A refusal worth retrying: Pinecone's rate limit (429, which the SDK leaves unmapped, saying the
 * status only in its message) or a server error (5xx, which the SDK, its retries off, reports as
 * out of retries). A Pinecone that cannot be reached is not retried: requests fail fast.
 */
function isTransient(error: unknown): boolean {
  return (
    error instanceof Errors.PineconeMaxRetriesExceededError ||
    error instanceof Errors.PineconeInternalServerError ||
    error instanceof Errors.PineconeUnavailableError ||
    (error instanceof Errors.PineconeUnmappedHttpError && /\bStatus: 429\b/.test(error.message))
  );
}

/** Whether Pinecone could not be reached at all (as opposed to answering with a failure). */
export function isUnreachable(error: unknown): boolean {
  return (
    error instanceof Errors.PineconeConnectionError ||
    error instanceof Errors.PineconeUnableToResolveHostError ||
    error instanceof Errors.PineconeRequestError
  );
}

function pineconeFailure(host: string, description: string, error: unknown): RagqlError {
  if (error instanceof RagqlError) return error;
  const failure = isUnreachable(error)
    ? new RagqlError(
        'UPSTREAM_UNAVAILABLE',
        `Could not ${description}: Pinecone at ${host} cannot be reached.`,
      )
    : new RagqlError('UPSTREAM_FAILED', `Could not ${description}: Pinecone answered with a failure.`);
  failure.cause = error;
  return failure;
}
