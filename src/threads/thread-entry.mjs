// The start of every RequestThread (request-thread.ts). Plain JavaScript, because a worker starts
// without the main thread's TypeScript loader: it registers tsx itself, then loads the handler.
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { handleRequest } = await import(workerData.handler);

// Synchronous on purpose: each request is done before the next is read, in the order sent.
parentPort.on('message', ({ id, request }) => {
  try {
    parentPort.postMessage({ id, reply: handleRequest(request) });
  } catch (error) {
    // An Error survives the copy between threads with its class, name and message.
    parentPort.postMessage({ id, error: error instanceof Error ? error : new Error(String(error)) });
  }
});
