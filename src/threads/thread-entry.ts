// The start of every RequestThread (request-thread.ts): loads the handler, then answers requests.
import { parentPort, workerData } from 'node:worker_threads';

type Handler = (request: unknown) => unknown;

const { handleRequest } = (await import(workerData.handler)) as { handleRequest: Handler };
// Only ever started as a worker, so there is always a parent to answer.
const parent = parentPort as NonNullable<typeof parentPort>;

// Synchronous on purpose: each request is done before the next is read, in the order sent.
parent.on('message', ({ id, request }: { id: number; request: unknown }) => {
  try {
    parent.postMessage({ id, reply: handleRequest(request) });
  } catch (error) {
    // An Error survives the copy between threads with its class, name and message.
    parent.postMessage({ id, error: error instanceof Error ? error : new Error(String(error)) });
  }
});
