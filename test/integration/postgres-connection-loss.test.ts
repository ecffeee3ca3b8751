/**
 * PostgreSQL going away while ragql holds a connection in a transaction, between two of its
 * statements: the transaction fails as UPSTREAM_UNAVAILABLE (and the process goes on), and once
 * the server is back on its address the same store serves again, from the rows it had.
 */
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresConnection } from '../../src/stores/postgres/postgres-connection.ts';
import { PostgresStore } from '../../src/stores/postgres/postgres-store.ts';

describe('the PostgreSQL store when the server goes away mid-transaction', () => {
  let database: PGlite;
  let server: PGLiteSocketServer;
  let port: number;
  const serve = async () => {
    server = new PGLiteSocketServer({ db: database, host: '127.0.0.1', port, maxConnections: 100 });
    await server.start();
  };

  beforeAll(async () => {
    database = await PGlite.create({ extensions: { vector } });
    port = 0;
    await serve();
    port = Number(server.getServerConn().split(':').at(-1));
  });
  afterAll(async () => {
    await server?.stop();
    await database?.close();
  });

  it('fails the transaction as unavailable, and serves again once the server is back', async () => {
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    const store = new PostgresStore({ connectionString: url });
    const connection = new PostgresConnection({ connectionString: url });
    try {
      await store.bindEmbeddingSpace(null);
      const tenant = store.forTenant('acme');
      const document = {
        id: 'kept',
        title: null,
        source: null,
        metadata: {},
        contentHash: 'h',
        revisionHash: 'r',
        chunkCount: 1,
        chunks: [
          {
            id: 'kept#0',
            documentId: 'kept',
            index: 0,
            content: 'kept',
            startOffset: 0,
            endOffset: 4,
            contentHash: 'c',
            pages: null,
            sectionPath: [],
          },
        ],
      };
      await tenant.upsertDocuments([document]);

      let resume = () => {};
      let holding = () => {};
      const held = new Promise<void>((resolve) => {
        holding = resolve;
      });
      const transaction = connection.transaction('hold a transaction', async (client) => {
        await client.query('SELECT 1');
        holding();
        await new Promise<void>((resolve) => {
          resume = resolve;
        });
        await client.query('SELECT 1');
      });
      await held;
      await server.stop();
      // The connection's end reaches the client before the transaction goes on.
      await new Promise((resolve) => setTimeout(resolve, 200));
      resume();
      await expect(transaction).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
      await expect(tenant.getDocuments(['kept'])).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });

      await serve();
      expect((await tenant.getDocuments(['kept'])).map((found) => found?.id)).toEqual(['kept']);
      await connection.transaction('run after the return', (client) => client.query('SELECT 1'));
    } finally {
      await connection.close();
      await store.close();
    }
  });
});
