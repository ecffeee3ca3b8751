import { RagqlError } from '../../src/errors.ts';

/** The error a promise rejects with, so a test can assert on several of its fields. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}

/** The RagqlError a promise rejects with; any other rejection fails the test with itself. */
export async function ragqlRejectionOf(promise: Promise<unknown>): Promise<RagqlError> {
  const error = await rejectionOf(promise);
  if (error instanceof RagqlError) return error;
  throw error;
}
