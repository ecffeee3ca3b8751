/**
 * What the global setups give the tests (through vitest's provide/inject; test/support/weaviate.ts
 * reads it), and what a run does without a Weaviate: skip the Weaviate tests with the reason, or,
 * with RAGQL_REQUIRE_WEAVIATE=1 (CI), fail with it.
 */
import { ensureWeaviateBinary } from '../support/weaviate-binary.ts';

export interface WeaviateEndpoint {
  httpUrl: string;
  /** host:port */
  grpcAddress: string;
}

/** The Weaviate the default project's tests share, or why there is none. */
export interface ProvidedWeaviate {
  endpoint: WeaviateEndpoint | null;
  skipReason: string;
}

/** The weaviate-server binary, for tests that start nodes of their own (the cluster), or why there is none. */
export interface ProvidedWeaviateBinary {
  path: string | null;
  skipReason: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    weaviate: ProvidedWeaviate;
    weaviateBinary: ProvidedWeaviateBinary;
  }
}

/** Returns the reason to skip, having printed it; throws it when RAGQL_REQUIRE_WEAVIATE=1. */
export function weaviateUnavailable(reason: string): string {
  if (process.env.RAGQL_REQUIRE_WEAVIATE === '1') {
    throw new Error(`RAGQL_REQUIRE_WEAVIATE=1, but there is no Weaviate: ${reason}`);
  }
  process.stderr.write(`[weaviate] the Weaviate tests are skipped: ${reason}\n`);
  return reason;
}

/** The binary, built first when missing; or, without Go or when the build fails, the reason. */
export async function findWeaviateBinary(): Promise<ProvidedWeaviateBinary> {
  try {
    return { path: await ensureWeaviateBinary(), skipReason: '' };
  } catch (error) {
    return { path: null, skipReason: weaviateUnavailable(messageOf(error)) };
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
