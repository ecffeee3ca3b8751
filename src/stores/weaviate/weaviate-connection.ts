import { setTimeout as sleep } from 'node:timers/promises';
import weaviate, { type WeaviateClient } from 'weaviate-client';
import { RagqlError } from '../../errors.ts';

export interface WeaviateConnectionOptions {
  /** Weaviate's HTTP address, e.g. `http://127.0.0.1:8080`. */
  httpUrl: string;
  /** Weaviate's gRPC address, `host:port`. @default `defaultGrpcAddress(httpUrl)` */
  grpcAddress?: string | undefined;
  apiKey?: string | undefined;
}

export interface RequestOptions<T> {
  /**
   * The result when the tenant has no shard yet (nothing was ever written to it). Its type follows
   * the request's (NoInfer), so an empty `{ objects: [] }` does not narrow the request's result.
   */
  whenTenantMissing?: () => NoInfer<T>;
}

/** How long a readiness answer is reused before Weaviate is asked again. */
const readinessReuseMs = 1000;
/** The longest a readiness check may take. */
const readinessTimeoutMs = 2000;
/** While a request is pending, how often Weaviate's readiness is checked. */
const watchIntervalMs = 1000;

/** Where Weaviate listens for gRPC unless told: its HTTP host, on Weaviate's default gRPC port. */
export function defaultGrpcAddress(httpUrl: string): string {
  return `${new URL(httpUrl).hostname}:50051`;
}

/**
 * One lazily opened weaviate-client, and the rules for talking to Weaviate through it:
 *
 * - It connects only after Weaviate answers ready, with the client's start-up checks on. Those
 *   checks read Weaviate's version once; a client that skips them reads it again for every
 *   collection handle it makes, without handling the failure, and an unreachable Weaviate then
 *   leaves unhandled promise rejections that end a Node process.
 * - Requests fail fast. weaviate-client retries a gRPC call to an unreachable Weaviate for about
 *   25 seconds; while a request is pending, Weaviate's readiness is checked every second, and
 *   when Weaviate stops answering ready the request fails with UPSTREAM_UNAVAILABLE at once.
 *   While Weaviate is known to be down, requests fail before they start.
 * - Whenever Weaviate is found down, the client is closed and dropped. Closing it stops the
 *   retries of the requests given up on, so none of them reaches Weaviate later (a write that
 *   arrived after its own rollback would undo the rollback), and the next request connects afresh
 *   once Weaviate is back, rather than wait out a gRPC channel's reconnection backoff.
 * - Any other failure is UPSTREAM_FAILED. Weaviate's own message stays in `cause` (logged), not
 *   in the message clients read.
 */
export class WeaviateConnection {
  readonly httpUrl: string;
  readonly grpcAddress: string;
  /** The HTTP address without credentials or path, for messages. */
  private readonly origin: string;
  private readonly apiKey: string | undefined;
  private connecting: Promise<WeaviateClient> | undefined;
  private lastCheck: { at: number; unavailability: Promise<string | null> } | undefined;
  private knownDown = false;
  /** Aborts the REST calls in flight when the client is dropped, as closing it stops its retries. */
  private restCalls = new AbortController();

  constructor(options: WeaviateConnectionOptions) {
    this.httpUrl = options.httpUrl.replace(/\/+$/, '');
    this.origin = new URL(this.httpUrl).origin;
    this.grpcAddress = options.grpcAddress ?? defaultGrpcAddress(this.httpUrl);
    this.apiKey = options.apiKey;
  }

  /**
   * Why Weaviate cannot serve now, or null when it answers ready. Never throws. An answer up to a
   * second old is reused unless `fresh`.
   */
  unavailability(fresh = false): Promise<string | null> {
    const now = Date.now();
    if (!fresh && this.lastCheck && now - this.lastCheck.at < readinessReuseMs) {
      return this.lastCheck.unavailability;
    }
    const unavailability = this.checkReadiness().then((reason) => {
      this.knownDown = reason !== null;
      if (reason !== null) this.dropClient();
      return reason;
    });
    this.lastCheck = { at: now, unavailability };
    return unavailability;
  }

  async request<T>(
    description: string,
    operation: (client: WeaviateClient) => Promise<T>,
    options: RequestOptions<T> = {},
  ): Promise<T> {
    if (this.knownDown) {
      const reason = await this.unavailability();
      if (reason !== null) throw unavailable(reason);
    }
    const client = await this.client();
    try {
      return await this.unlessWeaviateGoesDown(operation(client));
    } catch (error) {
      if (error instanceof RagqlError) throw error;
      if (options.whenTenantMissing && isMissingTenant(error)) return options.whenTenantMissing();
      throw await this.failure(description, error);
    }
  }

  /**
   * A call to Weaviate's REST API (path under `/v1`, JSON in and out), under the rules of `request`.
   * A call given up on is aborted, so that it cannot land later.
   */
  rest<T>(
    description: string,
    call: { method: 'POST'; path: string; query?: Record<string, string>; body: unknown },
    options?: RequestOptions<T>,
  ): Promise<T> {
    return this.request(
      description,
      async () => {
        const url = new URL(`${this.httpUrl}/v1${call.path}`);
        for (const [name, value] of Object.entries(call.query ?? {})) url.searchParams.set(name, value);
        const response = await fetch(url, {
          method: call.method,
          headers: {
            'content-type': 'application/json',
            ...(this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {}),
          },
          body: JSON.stringify(call.body),
          signal: this.restCalls.signal,
        });
        const text = await response.text();
        if (!response.ok) throw new Error(`HTTP ${response.status} from ${call.path}: ${text}`);
        return JSON.parse(text) as T;
      },
      options,
    );
  }

  async close(): Promise<void> {
    this.abortRestCalls();
    const connecting = this.connecting;
    this.connecting = undefined;
    await connecting?.then((client) => client.close()).catch(() => undefined);
  }

  private client(): Promise<WeaviateClient> {
    if (!this.connecting) {
      const connecting = this.connect();
      this.connecting = connecting;
      connecting.catch(() => {
        if (this.connecting === connecting) this.connecting = undefined;
      });
    }
    return this.connecting;
  }

  private async connect(): Promise<WeaviateClient> {
    const reason = await this.unavailability();
    if (reason !== null) throw unavailable(reason);
    const http = new URL(this.httpUrl);
    const secure = http.protocol === 'https:';
    const separator = this.grpcAddress.lastIndexOf(':');
    try {
      return await weaviate.connectToCustom({
        httpHost: http.hostname,
        httpPort: Number(http.port) || (secure ? 443 : 80),
        httpPath: http.pathname.replace(/\/+$/, ''),
        httpSecure: secure,
        grpcHost: this.grpcAddress.slice(0, separator),
        grpcPort: Number(this.grpcAddress.slice(separator + 1)),
        grpcSecure: secure,
        ...(this.apiKey ? { authCredentials: new weaviate.ApiKey(this.apiKey) } : {}),
      });
    } catch (error) {
      throw await this.failure('connect', error);
    }
  }

  /** The request's outcome, or UPSTREAM_UNAVAILABLE as soon as Weaviate stops answering ready. */
  private async unlessWeaviateGoesDown<T>(pending: Promise<T>): Promise<T> {
    // If the watch gives up first, the request's own failure arrives later, to no one.
    pending.catch(() => undefined);
    const watching = new AbortController();
    const watch = async (): Promise<never> => {
      for (;;) {
        await sleep(watchIntervalMs, undefined, { signal: watching.signal, ref: false });
        const reason = await this.unavailability();
        if (reason !== null) throw unavailable(reason);
      }
    };
    const watcher = watch();
    watcher.catch(() => undefined);
    try {
      return await Promise.race([pending, watcher]);
    } finally {
      watching.abort();
    }
  }

  private async failure(description: string, error: unknown): Promise<RagqlError> {
    const reason = await this.unavailability(true);
    const failure =
      reason === null
        ? new RagqlError('UPSTREAM_FAILED', `Weaviate failed to ${description}.`)
        : unavailable(reason);
    failure.cause = error;
    return failure;
  }

  private abortRestCalls(): void {
    this.restCalls.abort();
    this.restCalls = new AbortController();
  }

  private dropClient(): void {
    this.abortRestCalls();
    const connecting = this.connecting;
    this.connecting = undefined;
    connecting?.then((client) => client.close()).catch(() => undefined);
  }

  private async checkReadiness(): Promise<string | null> {
    try {
      const response = await fetch(`${this.httpUrl}/v1/.well-known/ready`, {
        signal: AbortSignal.timeout(readinessTimeoutMs),
      });
      await response.body?.cancel();
      return response.ok ? null : `Weaviate at ${this.origin} is not ready (HTTP ${response.status})`;
    } catch (error) {
      return `Weaviate at ${this.origin} does not answer (${describeFetchFailure(error)})`;
    }
  }
}

function unavailable(reason: string): RagqlError {
  return new RagqlError('UPSTREAM_UNAVAILABLE', `The document store is unavailable: ${reason}. Retry later.`);
}

function isMissingTenant(error: unknown): boolean {
  return error instanceof Error && /tenant not found/i.test(error.message);
}

function describeFetchFailure(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError')
    return `no answer within ${readinessTimeoutMs} ms`;
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  if (typeof cause?.code === 'string') return cause.code;
  return error instanceof Error ? error.message : String(error);
}
