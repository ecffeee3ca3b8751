/**
 * The test PostgreSQL (PGlite behind pglite-socket, one session for every connection) keeps each
 * connection's statements apart as a real server does: parameterised statements from many
 * connections at once, some of them in transactions, each get their own result. pglite-socket
 * alone lets one connection's transaction run between another's Parse and Bind
 * (test/support/pglite-batch-queue.ts).
 */
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { usePostgres } from '../support/postgres.ts';

const postgres = usePostgres();
const pools: pg.Pool[] = [];
afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end()));
});

const statement = 'SELECT $1::int AS n, $2::text AS label';

it('answers parameterised statements from many connections, some in transactions, each with its own rows', async () => {
  const pool = new pg.Pool({ connectionString: postgres.url, max: 8 });
  pools.push(pool);
  const inTransaction = async (index: number) => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query(statement, [index, `statement ${index}`]);
      await client.query('COMMIT');
      return rows;
    } finally {
      client.release();
    }
  };
  const alone = async (index: number) => (await pool.query(statement, [index, `statement ${index}`])).rows;
  const answers = await Promise.all(
    Array.from({ length: 200 }, (_, index) => (index % 2 === 0 ? inTransaction(index) : alone(index))),
  );
  expect(answers).toEqual(answers.map((_, index) => [{ n: index, label: `statement ${index}` }]));
});
