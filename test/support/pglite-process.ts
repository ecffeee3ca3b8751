/**
 * PGlite and its socket server in a process of their own. PGlite runs each statement
 * synchronously (WebAssembly) on the thread that holds it; here that is not the tests' process, so
 * a large write never stalls a test's timers (or an in-process ragql) while the database works.
 * A process rather than a worker thread: V8 keeps one registry of JIT code pages per process, and
 * PGlite instances compiled and freed one after another in one process can abort it
 * ("Check failed: jit_page.has_value()", nodejs/node#64500); a process holds one instance only.
 */
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { BatchQueue } from './pglite-batch-queue.ts';

const port = Number(process.argv[2] ?? 0);
const database = await PGlite.create({ extensions: { vector } });
// PGlite is one session; the queue keeps each connection's batches and transactions together, so
// a pool of connections behaves as on a real server.
const server = new PGLiteSocketServer({ db: database, host: '127.0.0.1', port, maxConnections: 100 });
(server as unknown as { queryQueue: BatchQueue }).queryQueue = new BatchQueue(database);
await server.start();
process.send?.({ url: `postgres://postgres@${server.getServerConn()}/postgres` });
const stop = async () => {
  await server.stop();
  await database.close();
  process.exit(0);
};
process.once('message', () => void stop());
// The test process gone (a crash, a kill): nothing is left listening.
process.once('disconnect', () => void stop());
