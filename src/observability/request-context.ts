import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The request a piece of code runs for, carried through async calls, so every log line and every
 * masked error names its request id without passing it down by hand.
 */
const requestScope = new AsyncLocalStorage<{ requestId: string }>();

export function runInRequestScope<T>(requestId: string, work: () => T): T {
  return requestScope.run({ requestId }, work);
}

export function currentRequestId(): string | undefined {
  return requestScope.getStore()?.requestId;
}
