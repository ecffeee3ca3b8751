/**
 * A local HTTP server that speaks the data plane of Pinecone's REST API (version 2026-07, what
 * `@pinecone-database/pinecone` 9 sends), so tests drive the real SDK (via `index({ host })`)
 * against one serverless dense index without reaching the internet.
 *
 * Its rules are Pinecone's documented ones, cited where they are applied: the 2026-07 OpenAPI
 * description of the data plane (pinecone-io/pinecone-api, db_data_2026-07.oas.yaml, "the spec"
 * below) and docs.pinecone.io (operation limits, filter by metadata, known limitations, errors).
 * Where the documentation is silent, the comment says what was chosen.
 */
import type { ServerResponse } from 'node:http';
import {
  compileFilter,
  FilterError,
  isPlainObject,
  type Metadata,
  type MetadataPredicate,
} from './pinecone-filter.ts';
import { type RecordedRequest, type RouteHandler, sendJson, startStandinServer } from './standin-server.ts';

export type { Metadata, MetadataValue } from './pinecone-filter.ts';

/** A request as received; `body` has Pinecone's wire field names, e.g. `topK`. */
export interface RecordedPineconeRequest extends RecordedRequest {
  /** The `X-Pinecone-Api-Version` header, e.g. `2026-07`, when it was sent. */
  apiVersion: string | undefined;
}

export type PineconeMetric = 'cosine' | 'euclidean' | 'dotproduct';

export interface PineconeStandinOptions {
  /** The length every dense vector must have. @default 8 */
  dimension?: number;
  /** How queries score records. @default 'dotproduct' */
  metric?: PineconeMetric;
  /** The key every request must carry in its `Api-Key` header. @default 'pinecone-standin-key' */
  apiKey?: string;
  /**
   * How long after it is received a write (upsert, update, delete) becomes visible to queries,
   * fetches, lists and stats. Pinecone's writes are eventually consistent ("there can be a slight
   * delay before new or changed records are visible to queries", docs: upsert data, check data
   * freshness); a delay lets tests prove that a client copes. @default 0
   */
  freshnessDelayMs?: number;
  /** The port to listen on (a Pinecone coming back where it was); any free one by default. */
  port?: number;
}

/** Which request an injected failure answers. */
export interface FailureTarget {
  /** Only requests to this route, e.g. `POST /vectors/upsert`; any by default. */
  route?: string;
  /** Serves this many of them first. @default 0 */
  skip?: number;
}

export interface PineconeStandin {
  /** The index host to give the SDK, e.g. `http://127.0.0.1:PORT`. */
  host: string;
  /** The key requests must carry; give it to the SDK as `apiKey`. */
  apiKey: string;
  /** Every request received, in order, including those answered with an injected failure. */
  requests: RecordedPineconeRequest[];
  /**
   * Answers the next request (of `target`'s route, after its `skip`) with this status instead of
   * serving it; calls queue up, one per request. Without a `body`, the body is what Pinecone sends for that status: plain text for 401
   * and 429 (the authentication and rate-limiting layer's), an `rpcStatus` otherwise. A string
   * `body` is sent as plain text, anything else as JSON.
   */
  failNext(status: number, body?: unknown, target?: FailureTarget): void;
  close(): Promise<void>;
}

interface SparseValues {
  indices: number[];
  values: number[];
}

interface StoredRecord {
  id: string;
  values: number[];
  sparseValues?: SparseValues;
  metadata?: Metadata;
}

type Namespace = Map<string, StoredRecord>;

/** A write that was accepted and becomes visible at `visibleAt` (a performance.now() time). */
interface PendingWrite {
  visibleAt: number;
  apply: () => void;
}

interface InjectedFailure {
  status: number;
  body: unknown;
  route: string | undefined;
  skip: number;
}

/** Limits from docs.pinecone.io, operation limits and identifier limits, and the spec's schemas. */
const limits = {
  upsertRecords: 1000,
  upsertBytes: 2 * 1024 * 1024,
  metadataBytes: 40 * 1024,
  idCharacters: 512,
  topK: 10_000,
  /** Docs, operation limits: "Max result size 4MB" for a query. */
  queryResultBytes: 4 * 1024 * 1024,
  fetchOrDeleteIds: 1000,
  sparseEntries: 2048,
  listPage: 100,
  /** The spec: at least one dense value "must have a magnitude of `1e-8` or greater". */
  smallestNonZero: 1e-8,
} as const;

/** gRPC status codes, which the data plane's `rpcStatus.code` carries. */
const grpcCodes: Record<number, number> = {
  400: 3, // INVALID_ARGUMENT
  401: 16, // UNAUTHENTICATED
  403: 7, // PERMISSION_DENIED
  404: 5, // NOT_FOUND
  409: 6, // ALREADY_EXISTS
  412: 9, // FAILED_PRECONDITION
  429: 8, // RESOURCE_EXHAUSTED
  503: 14, // UNAVAILABLE
  504: 4, // DEADLINE_EXCEEDED
};
/** UNKNOWN: the docs' name for a 500 ("500 - UNKNOWN"). */
const unknownCode = 2;

/** Serves one route: the request and its query string in, the JSON response body out. */
type Operation = (request: RecordedPineconeRequest, query: URLSearchParams) => unknown;

/** A request Pinecone refuses with 400 INVALID_ARGUMENT; the message says why. */
class InvalidArgument extends Error {}
/** A request Pinecone refuses with 404 NOT_FOUND. */
class NotFound extends Error {}

export async function startPineconeStandin(options: PineconeStandinOptions = {}): Promise<PineconeStandin> {
  const apiKey = options.apiKey ?? 'pinecone-standin-key';
  const index = createIndex({
    dimension: options.dimension ?? 8,
    metric: options.metric ?? 'dotproduct',
    freshnessDelayMs: options.freshnessDelayMs ?? 0,
  });
  const failures: InjectedFailure[] = [];

  /** The first failure queued for this route, once the requests it lets through have passed. */
  function failureFor(route: string): InjectedFailure | undefined {
    const position = failures.findIndex((failure) => failure.route === undefined || failure.route === route);
    const failure = failures[position];
    if (!failure) return undefined;
    if (failure.skip > 0) {
      failure.skip -= 1;
      return undefined;
    }
    failures.splice(position, 1);
    return failure;
  }

  /** Injected failures, then authentication, then the route; refusals become Pinecone's errors. */
  const guarded =
    (route: string, handler: Operation): RouteHandler<RecordedPineconeRequest> =>
    (request, response) => {
      const failure = failureFor(route);
      if (failure) {
        sendBody(response, failure.status, failure.body);
        return;
      }
      // The spec: a 401 is "rejected before the request reaches the index", with the plain-text
      // body `Unauthorized`.
      if (request.headers['api-key'] !== apiKey) {
        sendBody(response, 401, 'Unauthorized');
        return;
      }
      try {
        // The shared server records the path without its query string, which GET routes read.
        const query = new URL(response.req.url ?? '/', 'http://standin').searchParams;
        sendJson(response, 200, handler(request, query));
      } catch (error) {
        if (error instanceof NotFound) return sendBody(response, 404, rpcStatus(404, error.message));
        if (!(error instanceof InvalidArgument || error instanceof FilterError)) throw error;
        sendBody(response, 400, rpcStatus(400, error.message));
      }
    };

  const routes: Record<string, Operation> = {
    'POST /describe_index_stats': (request) => index.describeStats(bodyOf(request), request.receivedAt),
    'POST /vectors/upsert': (request) => index.upsert(bodyOf(request), request.receivedAt),
    'POST /query': (request) => index.query(bodyOf(request), request.receivedAt),
    'GET /vectors/fetch': (request, query) => index.fetch(query, request.receivedAt),
    'GET /vectors/list': (request, query) => index.list(query, request.receivedAt),
    'POST /vectors/delete': (request) => index.delete(bodyOf(request), request.receivedAt),
    'POST /vectors/update': (request) => index.update(bodyOf(request), request.receivedAt),
  };
  const server = await startStandinServer<RecordedPineconeRequest>({
    routes: Object.fromEntries(
      Object.entries(routes).map(([route, handler]) => [route, guarded(route, handler)]),
    ),
    port: options.port,
    record: (request) => {
      const apiVersion = request.headers['x-pinecone-api-version'];
      return { ...request, apiVersion: typeof apiVersion === 'string' ? apiVersion : undefined };
    },
    // Failures are injected by `guarded`, which can send Pinecone's plain-text bodies.
    failureBody: (status) => defaultFailureBody(status),
    notFound: (request, response) =>
      sendBody(response, 404, rpcStatus(404, `No route for ${request.method} ${request.path}.`)),
  });
  return {
    host: server.origin,
    apiKey,
    requests: server.requests,
    failNext(status, body, target = {}) {
      failures.push({
        status,
        body: body ?? defaultFailureBody(status),
        route: target.route,
        skip: target.skip ?? 0,
      });
    },
    close: server.close,
  };
}

function defaultFailureBody(status: number): unknown {
  // The spec: "Requests rejected by the authentication and rate-limiting layer before they reach
  // the service (`401`, and the `400`, `403`, and `429` it produces) return a plain-text body".
  if (status === 401) return 'Unauthorized';
  if (status === 429) return 'Too many requests: the injected rate limit was reached. Retry with backoff.';
  return rpcStatus(status, `Injected failure with status ${status}.`);
}

/** The vector operations' error shape (the spec's `rpcStatus`). */
function rpcStatus(status: number, message: string): unknown {
  return { code: grpcCodes[status] ?? unknownCode, message, details: [] };
}

function sendBody(response: ServerResponse, status: number, body: unknown): void {
  if (typeof body !== 'string') {
    sendJson(response, status, body);
    return;
  }
  response.writeHead(status, { 'content-type': 'text/plain' });
  response.end(body);
}

function bodyOf(request: RecordedRequest): Record<string, unknown> {
  if (!isPlainObject(request.body)) throw new InvalidArgument('The request body must be a JSON object.');
  return request.body;
}

interface IndexSettings {
  dimension: number;
  metric: PineconeMetric;
  freshnessDelayMs: number;
}

/** One serverless dense index: its namespaces, the writes not yet visible, and the operations. */
function createIndex({ dimension, metric, freshnessDelayMs }: IndexSettings) {
  const namespaces = new Map<string, Namespace>();
  const pendingWrites: PendingWrite[] = [];
  /**
   * The namespaces as written, pending writes included: a serverless index answers a delete in a
   * namespace that does not exist with 404 (pinecone-ts-client#324: "vectors/delete returned HTTP
   * status 404"), and a namespace exists from its first upsert to its deleteAll.
   */
  const writtenNamespaces = new Set<string>();

  /** Every write is applied in the order it was received, once its delay has passed. */
  function visibleAt(now: number): void {
    while (pendingWrites[0] && pendingWrites[0].visibleAt <= now) pendingWrites.shift()?.apply();
  }

  function schedule(receivedAt: number, apply: () => void): void {
    pendingWrites.push({ visibleAt: receivedAt + freshnessDelayMs, apply });
  }

  function namespaceAt(name: string): Namespace {
    let namespace = namespaces.get(name);
    if (!namespace) {
      // Namespaces are created on first upsert (docs: manage namespaces).
      namespace = new Map();
      namespaces.set(name, namespace);
    }
    return namespace;
  }

  function recordsIn(name: string): StoredRecord[] {
    return [...(namespaces.get(name)?.values() ?? [])];
  }

  function denseValues(values: unknown, field: string): number[] {
    if (!Array.isArray(values) || !values.every((value) => typeof value === 'number')) {
      throw new InvalidArgument(`${field} must be an array of numbers.`);
    }
    if (values.length !== dimension) {
      throw new InvalidArgument(
        `Vector dimension ${values.length} does not match the dimension of the index ${dimension}.`,
      );
    }
    // Docs, known limitations: "Dense vectors must contain at least one non-zero value".
    if (!values.some((value) => Math.abs(value) >= limits.smallestNonZero)) {
      throw new InvalidArgument(`${field} contains only zeros; dense vectors need a non-zero value.`);
    }
    return toFloat32(values);
  }

  return {
    describeStats(body: Record<string, unknown>, receivedAt: number) {
      visibleAt(receivedAt);
      // The spec: "Serverless and Starter indexes do not support filtering `describe_index_stats`
      // by metadata, and reject a request carrying a non-empty filter."
      if (isPlainObject(body.filter) && Object.keys(body.filter).length > 0) {
        throw new InvalidArgument(
          'Serverless indexes do not support describe_index_stats with a metadata filter.',
        );
      }
      const summaries = [...namespaces].filter(([, records]) => records.size > 0);
      return {
        namespaces: Object.fromEntries(
          summaries.map(([name, records]) => [name, { vectorCount: records.size }]),
        ),
        dimension,
        // The spec: index fullness is "Always `0` for indexes with on-demand read capacity".
        indexFullness: 0,
        totalVectorCount: summaries.reduce((sum, [, records]) => sum + records.size, 0),
        metric,
        vectorType: 'dense',
      };
    },

    upsert(body: Record<string, unknown>, receivedAt: number) {
      visibleAt(receivedAt);
      // Docs, operation limits: "1,000 records, up to 2 MB total" per upsert request.
      const bytes = Buffer.byteLength(JSON.stringify(body));
      if (bytes > limits.upsertBytes) {
        throw new InvalidArgument(
          `Request size ${bytes} bytes exceeds the limit of ${limits.upsertBytes} bytes per upsert request.`,
        );
      }
      const { vectors } = body;
      if (!Array.isArray(vectors) || vectors.length === 0) {
        throw new InvalidArgument('vectors must be a non-empty array.');
      }
      if (vectors.length > limits.upsertRecords) {
        throw new InvalidArgument(
          `Upsert of ${vectors.length} vectors exceeds the limit of ${limits.upsertRecords} vectors per request.`,
        );
      }
      const records = vectors.map((vector: unknown): StoredRecord => {
        if (!isPlainObject(vector)) throw new InvalidArgument('Each vector must be an object.');
        const id = recordId(vector.id, 'id');
        // Docs, known limitations: upserting sparse-dense vectors into an index of another metric
        // succeeds (only querying them fails), so sparse values are accepted whatever the metric.
        const sparseValues = vector.sparseValues === undefined ? undefined : sparse(vector.sparseValues);
        const metadata = vector.metadata === undefined ? undefined : validMetadata(vector.metadata);
        return { id, values: denseValues(vector.values, `Vector ${id}: values`), sparseValues, metadata };
      });
      const namespace = namespaceName(body.namespace);
      writtenNamespaces.add(namespace);
      // Upsert overwrites a record with the same id entirely (docs: upsert data).
      schedule(receivedAt, () => {
        for (const record of records) namespaceAt(namespace).set(record.id, record);
      });
      return { upsertedCount: records.length };
    },

    query(body: Record<string, unknown>, receivedAt: number) {
      visibleAt(receivedAt);
      const { topK } = body;
      // The spec: topK is an integer from 1 to 10000.
      if (typeof topK !== 'number' || !Number.isInteger(topK) || topK < 1 || topK > limits.topK) {
        throw new InvalidArgument(`topK must be an integer from 1 to ${limits.topK}.`);
      }
      const namespace = namespaceName(body.namespace);
      const probe = queryProbe(body, namespaces.get(namespace));
      const predicate = filterPredicate(body.filter);
      const matches = recordsIn(namespace).filter((record) => predicate(record.metadata));
      const scored = probe
        ? matches
            .map((record) => ({ record, score: Math.fround(score(metric, probe, record)) }))
            .sort((a, b) => rank(metric, a.score, b.score) || compareIds(a.record.id, b.record.id))
            .slice(0, topK)
        : [];
      const response = {
        // Matches "are ordered from most similar to least similar" (the spec, QueryResponse).
        matches: scored.map(({ record, score }) => ({
          id: record.id,
          score,
          ...valuesPart(record, body.includeValues === true),
          ...(body.includeMetadata === true && record.metadata ? { metadata: record.metadata } : {}),
        })),
        namespace: responseNamespace(body.namespace),
        usage: { readUnits: 1 },
      };
      // Docs, operation limits: a query whose result passes 4 MB fails ("choose a lower top_k
      // value, or use include_metadata=False or include_values=False"); the status is not
      // documented, 400 chosen as for Pinecone's other limits.
      const bytes = Buffer.byteLength(JSON.stringify(response));
      if (bytes > limits.queryResultBytes) {
        throw new InvalidArgument(
          `Query result size ${bytes} bytes exceeds the limit of ${limits.queryResultBytes} bytes; use a lower topK, or leave out metadata or values.`,
        );
      }
      return response;
    },

    fetch(params: URLSearchParams, receivedAt: number) {
      visibleAt(receivedAt);
      const ids = idList(params.getAll('ids'), 'ids');
      const records = namespaces.get(namespaceName(params.get('namespace') ?? undefined));
      // Ids that are not stored are simply absent from `vectors`.
      const found = ids.flatMap((id) => {
        const record = records?.get(id);
        return record ? [record] : [];
      });
      return {
        vectors: Object.fromEntries(
          found.map((record) => [
            record.id,
            {
              id: record.id,
              ...valuesPart(record, true),
              ...(record.metadata ? { metadata: record.metadata } : {}),
            },
          ]),
        ),
        namespace: responseNamespace(params.get('namespace') ?? undefined),
        usage: { readUnits: 1 },
      };
    },

    list(params: URLSearchParams, receivedAt: number) {
      visibleAt(receivedAt);
      const prefix = params.get('prefix') ?? '';
      if (prefix.length > limits.idCharacters || !isAscii(prefix)) {
        throw new InvalidArgument(`prefix must be ASCII and at most ${limits.idCharacters} characters.`);
      }
      // The spec: limit defaults to 100 and ranges from 1 to 100.
      const limitText = params.get('limit');
      const limit = limitText === null ? limits.listPage : Number(limitText);
      if (!Number.isInteger(limit) || limit < 1 || limit > limits.listPage) {
        throw new InvalidArgument(`limit must be an integer from 1 to ${limits.listPage}.`);
      }
      const after = paginationCursor(params.get('paginationToken'));
      // The spec: ids come "in sorted order (bitwise "C" collation)"; ids are ASCII, so UTF-16 code
      // unit order is byte order.
      const ids = recordsIn(namespaceName(params.get('namespace') ?? undefined))
        .map((record) => record.id)
        .filter((id) => id.startsWith(prefix) && (after === undefined || id > after))
        .sort(compareIds);
      const page = ids.slice(0, limit);
      const last = page.at(-1);
      return {
        vectors: page.map((id) => ({ id })),
        // The spec: "When the response has no `pagination`, there are no more IDs to return."
        ...(ids.length > limit && last !== undefined ? { pagination: { next: paginationToken(last) } } : {}),
        namespace: responseNamespace(params.get('namespace') ?? undefined),
        usage: { readUnits: 1 },
      };
    },

    delete(body: Record<string, unknown>, receivedAt: number) {
      visibleAt(receivedAt);
      const namespace = namespaceName(body.namespace);
      const deleteAll = body.deleteAll === true;
      const hasIds = body.ids !== undefined;
      const hasFilter = body.filter !== undefined;
      // The spec: deleteAll "Cannot be combined with `ids`" and filter "is mutually exclusive with
      // using delete_all=True"; ids with a filter is refused as the SDK and the documents API do.
      if (deleteAll && (hasIds || hasFilter)) {
        throw new InvalidArgument('deleteAll cannot be combined with ids or filter.');
      }
      if (hasIds && hasFilter) throw new InvalidArgument('Provide either ids or filter, not both.');
      if (!deleteAll && !hasIds && !hasFilter) throw new InvalidArgument('Provide ids, filter or deleteAll.');
      if (!writtenNamespaces.has(namespace)) throw new NotFound('Namespace not found');
      if (deleteAll) {
        writtenNamespaces.delete(namespace);
        // Deleting every record of a namespace deletes the namespace too (docs: delete data).
        schedule(receivedAt, () => namespaces.delete(namespace));
      } else if (hasIds) {
        const ids = idList(body.ids, 'ids');
        // Deleting an id that is not stored is not an error.
        schedule(receivedAt, () => {
          for (const id of ids) namespaces.get(namespace)?.delete(id);
        });
      } else {
        const predicate = nonEmptyFilter(body.filter);
        schedule(receivedAt, () => {
          for (const record of recordsIn(namespace)) {
            if (predicate(record.metadata)) namespaces.get(namespace)?.delete(record.id);
          }
        });
      }
      return {};
    },

    update(body: Record<string, unknown>, receivedAt: number) {
      visibleAt(receivedAt);
      const namespace = namespaceName(body.namespace);
      const setMetadata = body.setMetadata === undefined ? undefined : validMetadata(body.setMetadata);
      if (body.filter !== undefined) {
        // The spec: an update by filter may not carry `values` or `sparseValues`, nor (as the SDK
        // refuses too) an `id`.
        if (body.id !== undefined || body.values !== undefined || body.sparseValues !== undefined) {
          throw new InvalidArgument(
            'An update by filter sets metadata only; it takes no id, values or sparseValues.',
          );
        }
        const predicate = nonEmptyFilter(body.filter);
        const matchedRecords = recordsIn(namespace).filter((record) => predicate(record.metadata)).length;
        // The spec: with `dryRun`, "return the number of records that match the `filter`, but do
        // not execute the update".
        if (body.dryRun !== true && setMetadata) {
          schedule(receivedAt, () => {
            for (const record of recordsIn(namespace)) {
              if (predicate(record.metadata)) mergeMetadata(record, setMetadata);
            }
          });
        }
        return { matchedRecords };
      }
      if (body.id === undefined) throw new InvalidArgument('Provide an id or a filter to update.');
      const id = recordId(body.id, 'id');
      const values = body.values === undefined ? undefined : denseValues(body.values, 'values');
      const sparseValues = body.sparseValues === undefined ? undefined : sparse(body.sparseValues);
      // The documentation names no error for an id that is not stored; nothing is changed then.
      schedule(receivedAt, () => {
        const record = namespaces.get(namespace)?.get(id);
        if (!record) return;
        if (values) record.values = values;
        if (sparseValues) record.sparseValues = sparseValues;
        if (setMetadata) mergeMetadata(record, setMetadata);
      });
      return {};
    },
  };

  /** The vectors a query scores records against: its own, or those of the record it names. */
  function queryProbe(body: Record<string, unknown>, namespace: Namespace | undefined): Probe | undefined {
    const hasVector = body.vector !== undefined;
    const hasSparse = body.sparseVector !== undefined;
    if (body.id !== undefined) {
      // The spec: `id` "is mutually exclusive with both vector forms".
      if (hasVector || hasSparse)
        throw new InvalidArgument('A query by id cannot also carry vector or sparseVector.');
      // The documentation names no error for an id that is not stored; such a query matches nothing.
      const record = namespace?.get(recordId(body.id, 'id'));
      return (
        record && {
          values: record.values,
          sparseValues: metric === 'dotproduct' ? record.sparseValues : undefined,
        }
      );
    }
    if (!hasVector) throw new InvalidArgument('A query on a dense index needs a vector or an id.');
    // Docs, known limitations: "Only indexes using the dotproduct distance metric support querying
    // sparse-dense vectors."
    if (hasSparse && metric !== 'dotproduct') {
      throw new InvalidArgument(
        'Sparse query vectors are supported only by indexes using the dotproduct metric.',
      );
    }
    return {
      values: denseValues(body.vector, 'vector'),
      sparseValues: hasSparse ? sparse(body.sparseVector) : undefined,
    };
  }
}

interface Probe {
  values: number[];
  sparseValues: SparseValues | undefined;
}

/**
 * Docs, indexing overview: dotproduct scores the dot product (of the dense values plus, for
 * sparse-dense records, of the sparse values); cosine the cosine similarity of the dense values;
 * euclidean the squared Euclidean distance, where lower is more similar.
 */
function score(metric: PineconeMetric, probe: Probe, record: StoredRecord): number {
  if (metric === 'euclidean') {
    return probe.values.reduce((sum, value, index) => sum + (value - (record.values[index] ?? 0)) ** 2, 0);
  }
  const dense = dot(probe.values, record.values);
  if (metric === 'cosine') return dense / (Math.hypot(...probe.values) * Math.hypot(...record.values));
  return (
    dense +
    (probe.sparseValues && record.sparseValues ? sparseDot(probe.sparseValues, record.sparseValues) : 0)
  );
}

/** Most similar first: ascending distance for euclidean, descending similarity otherwise. */
function rank(metric: PineconeMetric, a: number, b: number): number {
  return metric === 'euclidean' ? a - b : b - a;
}

function dot(a: number[], b: number[]): number {
  return a.reduce((sum, value, index) => sum + value * (b[index] ?? 0), 0);
}

function sparseDot(a: SparseValues, b: SparseValues): number {
  const weights = new Map(b.indices.map((position, index) => [position, b.values[index] ?? 0]));
  return a.indices.reduce(
    (sum, position, index) => sum + (a.values[index] ?? 0) * (weights.get(position) ?? 0),
    0,
  );
}

/** The spec's Vector: on a response, `values` is an empty array "when values were not requested". */
function valuesPart(
  record: StoredRecord,
  includeValues: boolean,
): { values: number[]; sparseValues?: SparseValues } {
  if (!includeValues) return { values: [] };
  return { values: record.values, ...(record.sparseValues ? { sparseValues: record.sparseValues } : {}) };
}

function mergeMetadata(record: StoredRecord, setMetadata: Metadata): void {
  // The spec: "only the specified metadata fields are modified, and if a specified metadata field
  // does not exist, it is added".
  record.metadata = { ...record.metadata, ...setMetadata };
}

/**
 * `__default__` (what the SDK sends by default) names the namespace a request that names none
 * addresses (the spec, CreateNamespaceRequest); stats name it `''`, as the 2026-07 reference's
 * describe_index_stats example does.
 */
function namespaceName(namespace: unknown): string {
  if (namespace === undefined || namespace === '__default__') return '';
  if (typeof namespace !== 'string') throw new InvalidArgument('namespace must be a string.');
  return namespace;
}

/** The spec: a response names "the request's namespace". */
function responseNamespace(namespace: unknown): string {
  return typeof namespace === 'string' ? namespace : '';
}

function filterPredicate(filter: unknown): MetadataPredicate {
  return filter === undefined ? () => true : compileFilter(filter);
}

/** The spec: a delete's or an update's filter has `minProperties: 1`. */
function nonEmptyFilter(filter: unknown): MetadataPredicate {
  if (!isPlainObject(filter) || Object.keys(filter).length === 0) {
    throw new InvalidArgument('filter must be a non-empty object.');
  }
  return compileFilter(filter);
}

/** The spec: a record id matches `^[\x01-\x7F]+$` and has 1 to 512 characters. */
function recordId(id: unknown, field: string): string {
  if (typeof id !== 'string' || id.length === 0 || id.length > limits.idCharacters || !isAscii(id)) {
    throw new InvalidArgument(
      `${field} must be 1 to ${limits.idCharacters} ASCII characters other than NUL.`,
    );
  }
  return id;
}

/** The spec: fetch and delete take 1 to 1000 ids. */
function idList(ids: unknown, field: string): string[] {
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > limits.fetchOrDeleteIds) {
    throw new InvalidArgument(`${field} must name 1 to ${limits.fetchOrDeleteIds} ids.`);
  }
  return ids.map((id) => recordId(id, field));
}

function isAscii(text: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the spec's pattern, ASCII without NUL.
  return /^[\x01-\x7F]*$/.test(text);
}

/** The spec's SparseValues: indices from 0 to 2^32 - 1, as many values, 1 to 2048 of each. */
function sparse(sparseValues: unknown): SparseValues {
  if (!isPlainObject(sparseValues)) throw new InvalidArgument('sparseValues must be an object.');
  const { indices, values } = sparseValues;
  if (
    !Array.isArray(indices) ||
    !indices.every((index) => Number.isInteger(index) && index >= 0 && index <= 0xffff_ffff) ||
    !Array.isArray(values) ||
    !values.every((value) => typeof value === 'number')
  ) {
    throw new InvalidArgument('sparseValues needs integer indices from 0 to 4294967295 and numeric values.');
  }
  if (indices.length !== values.length || indices.length === 0 || indices.length > limits.sparseEntries) {
    throw new InvalidArgument(
      `sparseValues needs as many values as indices, from 1 to ${limits.sparseEntries} of each.`,
    );
  }
  return { indices, values: toFloat32(values) };
}

/**
 * Docs, filter by metadata and known limitations: values are strings, numbers, booleans or lists
 * of strings; null and nested objects are not supported; names may not begin with `$` (the spec);
 * at most 40 KB per record (operation limits).
 */
function validMetadata(metadata: unknown): Metadata {
  if (!isPlainObject(metadata)) throw new InvalidArgument('metadata must be an object.');
  for (const [field, value] of Object.entries(metadata)) {
    if (field.startsWith('$')) {
      throw new InvalidArgument(
        `Metadata field ${field} may not begin with $, which is reserved for operators.`,
      );
    }
    const valid =
      typeof value === 'string' ||
      typeof value === 'boolean' ||
      (typeof value === 'number' && Number.isFinite(value)) ||
      (Array.isArray(value) && value.every((item) => typeof item === 'string'));
    if (!valid) {
      // The spec's wording for a rejected value.
      throw new InvalidArgument(
        `Metadata value must be a string, number, boolean or list of strings, got ${JSON.stringify(value)} for field ${field}.`,
      );
    }
  }
  const bytes = Buffer.byteLength(JSON.stringify(metadata));
  if (bytes > limits.metadataBytes) {
    throw new InvalidArgument(
      `Metadata size is ${bytes} bytes, which exceeds the limit of ${limits.metadataBytes} bytes per vector.`,
    );
  }
  return metadata as Metadata;
}

/** Pinecone stores vector values as 32-bit floats (the spec: `format: float`). */
function toFloat32(values: number[]): number[] {
  return values.map((value) => Math.fround(value));
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** An opaque token that resumes a list after the id it names. */
function paginationToken(lastId: string): string {
  return Buffer.from(lastId, 'utf8').toString('base64url');
}

function paginationCursor(token: string | null): string | undefined {
  if (token === null || token === '') return undefined;
  const lastId = Buffer.from(token, 'base64url').toString('utf8');
  if (paginationToken(lastId) !== token) throw new InvalidArgument('paginationToken is not valid.');
  return lastId;
}
