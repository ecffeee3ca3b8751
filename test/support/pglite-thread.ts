/**
 * PGlite and its socket server on a worker thread of their own. PGlite runs each statement
 * synchronously (WebAssembly) on the thread that holds it; here that is not the tests' thread, so
 * a large write never stalls a test's timers (or an in-process ragql) while the database works.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

const { port } = workerData as { port: number };
const database = await PGlite.create({ extensions: { vector } });
// PGlite is one session; pglite-socket queues the connections' statements and keeps a
// transaction's statements together, so a pool of connections behaves as on a real server.
const server = new PGLiteSocketServer({ db: database, host: '127.0.0.1', port, maxConnections: 100 });
await server.start();
parentPort?.postMessage({ url: `postgres://postgres@${server.getServerConn()}/postgres` });
parentPort?.once('message', async () => {
  await server.stop();
  await database.close();
  parentPort?.close();
});
