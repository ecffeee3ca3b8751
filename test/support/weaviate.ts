/**
 * What Weaviate tests import. The default project's tests share one Weaviate (test/setup/weaviate.ts
 * provides it) and keep apart by collection name; tests that start nodes of their own (the cluster
 * project) get the binary.
 */
import { randomBytes } from 'node:crypto';
import { describe, inject, it } from 'vitest';
import weaviate, { type WeaviateClient } from 'weaviate-client';
import type { WeaviateEndpoint } from '../setup/weaviate-availability.ts';
import { isWeaviateReady } from './weaviate-node.ts';

export type { WeaviateEndpoint };

const notProvided = 'no Weaviate global setup ran for this vitest project';

/** The shared Weaviate, or null when there is none (see `weaviateSkipReason`). */
export function weaviateEndpoint(): WeaviateEndpoint | null {
  return inject('weaviate')?.endpoint ?? null;
}

export function weaviateSkipReason(): string {
  return inject('weaviate')?.skipReason || notProvided;
}

/** The weaviate-server binary to start nodes from, or null (see `weaviateBinarySkipReason`). */
export function weaviateBinary(): string | null {
  return inject('weaviateBinary')?.path ?? null;
}

export function weaviateBinarySkipReason(): string {
  return inject('weaviateBinary')?.skipReason || notProvided;
}

/**
 * `describe` with the shared Weaviate's endpoint when there is one; otherwise a skipped suite whose
 * name says why (the body, which may count on the endpoint, does not run).
 */
export function describeWithWeaviate(name: string, body: (endpoint: WeaviateEndpoint) => void): void {
  const endpoint = weaviateEndpoint();
  if (endpoint) describe(name, () => body(endpoint));
  else skippedSuite(name, weaviateSkipReason());
}

/** `describe` with the weaviate-server binary to start nodes from; otherwise a skipped suite that says why. */
export function describeWithWeaviateBinary(name: string, body: (binary: string) => void): void {
  const binary = weaviateBinary();
  if (binary) describe(name, () => body(binary));
  else skippedSuite(name, weaviateBinarySkipReason());
}

function skippedSuite(name: string, reason: string): void {
  describe.skip(`${name} (skipped: ${reason})`, () => {
    it('needs Weaviate', () => {});
  });
}

/**
 * A collection name no other test file uses (they share one Weaviate): the prefix, which must
 * itself be a valid collection name (a capital letter, then letters, digits, underscores), and a
 * random suffix.
 */
export function uniqueCollectionName(prefix: string): string {
  if (!/^[A-Z][A-Za-z0-9_]*$/.test(prefix)) {
    throw new Error(
      `"${prefix}" cannot start a Weaviate collection name: use a capital letter, then [A-Za-z0-9_]`,
    );
  }
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/**
 * A weaviate-client connected over HTTP and gRPC. It connects only to a Weaviate that answers
 * ready: weaviate-client 3.12 can leave an unhandled promise rejection behind when it cannot reach
 * Weaviate at connect time, which would end the test process.
 */
export async function connectWeaviateClient(endpoint: WeaviateEndpoint): Promise<WeaviateClient> {
  if (!(await isWeaviateReady(endpoint.httpUrl))) {
    throw new Error(`Weaviate at ${endpoint.httpUrl} is not ready; not connecting to it`);
  }
  const http = new URL(endpoint.httpUrl);
  const grpc = new URL(`http://${endpoint.grpcAddress}`);
  const httpSecure = http.protocol === 'https:';
  return weaviate.connectToCustom({
    httpHost: http.hostname,
    httpPort: Number(http.port) || (httpSecure ? 443 : 80),
    httpSecure,
    grpcHost: grpc.hostname,
    grpcPort: Number(grpc.port) || 50051,
    grpcSecure: false,
  });
}
