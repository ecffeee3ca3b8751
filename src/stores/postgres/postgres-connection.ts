import pg from 'pg';
import { RagqlError } from '../../errors.ts';

export interface PostgresConnectionOptions {
  /** A PostgreSQL connection URL (`DATABASE_URL`), e.g. `postgres://ragql@127.0.0.1:5432/ragql`. */
  connectionString: string;
  /** Connections the pool opens at most. @default 10 */
  maxConnections?: number;
  /** Called with an idle connection's failure (the server restarted, say), which has no caller. */
  onIdleError?: (error: Error) => void;
}

/** The longest a new connection may take before the request fails as UPSTREAM_UNAVAILABLE. */
const connectTimeoutMs = 2000;
/** How long a readiness check may take. */
const readinessTimeoutMs = 2000;

/** The parameters of one statement, numbered as they are added: values are never spliced into SQL. */
export class SqlParameters {
  readonly values: unknown[] = [];

  /** The placeholder for `value` (`$n`). */
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

export type Queryable = Pick<pg.PoolClient, 'query'>;

/**
 * ragql's pool of connections to PostgreSQL, and the rules for talking to it: a server that cannot
 * be reached fails the request at once with UPSTREAM_UNAVAILABLE (the pool opens new connections
 * when it answers again, so ragql recovers by itself); any other failure is UPSTREAM_FAILED, with
 * PostgreSQL's own message kept in `cause` (logged), not in what clients read.
 */
export class PostgresConnection {
  /** The server's address without credentials, for messages. */
  readonly address: string;
  private readonly pool: pg.Pool;

  constructor(options: PostgresConnectionOptions) {
    const url = new URL(options.connectionString);
    this.address = `${url.hostname}:${url.port || '5432'}${url.pathname}`;
    this.pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.maxConnections ?? 10,
      connectionTimeoutMillis: connectTimeoutMs,
      // Statements are ragql's own and bounded; a stuck one is a server in trouble.
      query_timeout: 60_000,
    });
    // Without a listener, an idle connection's error (the server restarted) ends the process.
    this.pool.on('error', (error) => options.onIdleError?.(error));
  }

  async query<Row extends object>(description: string, sql: string, values: unknown[] = []): Promise<Row[]> {
    try {
      const result = await this.pool.query<Row>(sql, values);
      return result.rows;
    } catch (error) {
      throw this.failure(description, error);
    }
  }

  /**
   * Runs `work` in one transaction: committed when it returns, rolled back when it throws. With
   * `snapshot`, a read-only one whose statements all see the database as it was at the first.
   */
  async transaction<T>(
    description: string,
    work: (client: Queryable) => Promise<T>,
    options: { snapshot?: boolean } = {},
  ): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw this.failure(description, error);
    }
    // pg-pool listens for a connection's loss only while it is idle: lost while this transaction
    // holds it (the server stopped between two statements), it would be an 'error' event nothing
    // listens to, which ends the process. Kept, it is the reason the next statement fails.
    let lost: Error | undefined;
    const onLost = (error: Error) => {
      lost = error;
    };
    client.on('error', onLost);
    let broken = false;
    try {
      await client.query(options.snapshot ? 'BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY' : 'BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw error instanceof RagqlError ? error : this.failure(description, lost ?? error);
    } finally {
      client.removeListener('error', onLost);
      // A connection whose rollback failed, or that was lost, is not handed to the next caller.
      client.release(broken || lost !== undefined);
    }
  }

  /** Why PostgreSQL cannot serve now, or null when it answers. Never throws. */
  async unavailability(): Promise<string | null> {
    try {
      await Promise.race([
        this.pool.query('SELECT 1'),
        new Promise((_resolve, reject) =>
          setTimeout(() => reject(new Error('no answer')), readinessTimeoutMs).unref(),
        ),
      ]);
      return null;
    } catch (error) {
      return `PostgreSQL at ${this.address} does not answer: ${(error as Error).message}`;
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }

  private failure(description: string, error: unknown): RagqlError {
    if (error instanceof RagqlError) return error;
    const failure = isUnreachable(error)
      ? new RagqlError(
          'UPSTREAM_UNAVAILABLE',
          `The document store is unavailable: PostgreSQL at ${this.address} cannot be reached. Retry later.`,
        )
      : isNulCharacter(error)
        ? new RagqlError(
            'BAD_USER_INPUT',
            `PostgreSQL failed to ${description}: its text and JSON cannot hold the NUL character (U+0000), and a value given does.`,
          )
        : new RagqlError('UPSTREAM_FAILED', `PostgreSQL failed to ${description}.`);
    failure.cause = error;
    return failure;
  }
}

/**
 * A failure to reach the server at all: no connection (refused, reset, timed out), the connection
 * lost mid-statement, or the server shutting down or not yet accepting connections (SQLSTATE
 * class 08 and 57P0x).
 */
export function isUnreachable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (
    typeof code === 'string' &&
    /^(08|57P0[1-3]$|E(CONNREFUSED|CONNRESET|HOSTUNREACH|NOTFOUND|PIPE|TIMEDOUT)$)/.test(code)
  ) {
    return true;
  }
  return /timeout exceeded when trying to connect|Connection terminated/i.test(error.message);
}

/**
 * PostgreSQL refusing a value for a NUL character, the one character its text (22021) and its
 * jsonb (22P05) cannot hold. pg sends every string as valid UTF-8, so nothing else raises these.
 */
function isNulCharacter(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '22021' || code === '22P05';
}
