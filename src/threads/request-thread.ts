import type { HeapInfo } from 'node:v8';
import { type ResourceLimits, Worker } from 'node:worker_threads';

/**
 * A worker thread that runs one module's `handleRequest` (see thread-entry.ts), one request at a
 * time in the order they were sent, so that CPU-heavy or blocking work leaves the event loop free.
 * Started on first use. It keeps the process alive while it holds requests and only then, so that
 * a process waiting for nothing else (the CLI) neither exits early nor hangs when done. A thread
 * that dies fails the requests it held; the next request starts a new one.
 */
export class RequestThread<Request, Reply> {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly pending = new Map<
    number,
    { resolve: (reply: Reply) => void; reject: (error: Error) => void }
  >();
  /** The URL of a module that exports `handleRequest(request)`, returning a reply or its promise. */
  private readonly handler: URL;
  /** The thread's heap bounds: past them it dies, failing what it held, instead of the process. */
  private readonly resourceLimits: ResourceLimits | undefined;

  constructor(handler: URL, options: { resourceLimits?: ResourceLimits } = {}) {
    this.handler = handler;
    this.resourceLimits = options.resourceLimits;
  }

  /** Whether a thread is running, so that a caller can skip starting one for nothing. */
  get running(): boolean {
    return this.worker !== undefined;
  }

  /**
   * The running thread's heap, its buffers (`external_memory`) included, which its heap limit does
   * not bound; answered even while the thread is busy. Undefined when no thread runs.
   */
  async heapStatistics(): Promise<HeapInfo | undefined> {
    return this.worker?.getHeapStatistics();
  }

  request(request: Request): Promise<Reply> {
    const worker = this.started();
    const id = this.nextId++;
    if (this.pending.size === 0) worker.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, request });
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL('./thread-entry.ts', import.meta.url), {
      workerData: { handler: this.handler.href },
      resourceLimits: this.resourceLimits,
    });
    worker.unref();
    type Answer = { id: number; reply: Reply } | { id: number; error: Error };
    worker.on('message', (answer: Answer) => {
      const waiting = this.pending.get(answer.id);
      this.pending.delete(answer.id);
      if (this.pending.size === 0) worker.unref();
      if ('error' in answer) waiting?.reject(answer.error);
      else waiting?.resolve(answer.reply);
    });
    const failAll = (error: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    };
    worker.on('error', failAll);
    worker.on('exit', (code) => failAll(new Error(`A worker thread exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }
}
