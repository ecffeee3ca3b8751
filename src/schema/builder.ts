import SchemaBuilder from '@pothos/core';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import RelayPlugin from '@pothos/plugin-relay';
import { DateTimeResolver, JSONResolver } from 'graphql-scalars';
import type { Caller } from '../access/api-keys.ts';
import type { RagqlServices } from '../composition/services.ts';
import type { TenantStore } from '../ports.ts';

/** What every resolver receives: the services, the caller's tenant, and the request's id and abort signal. */
export interface RagqlContext {
  services: RagqlServices;
  /** Who is calling (from the API key; the anonymous caller when authentication is off). */
  caller: Caller;
  /** Whose documents the request reads and writes: the caller's tenant. */
  tenant: string;
  /**
   * The tenant's documents: resolvers read through this, never the whole store. Writes go through
   * `services.ingest`, which lets one write at a time reach each document.
   */
  documents: TenantStore;
  requestId: string;
  signal?: AbortSignal;
}

export const builder = new SchemaBuilder<{
  Context: RagqlContext;
  Scalars: {
    JSON: { Input: unknown; Output: unknown };
    DateTime: { Input: Date; Output: Date };
    ID: { Input: string; Output: string };
  };
  DefaultFieldNullability: false;
}>({
  plugins: [DataloaderPlugin, RelayPlugin],
  defaultFieldNullability: false,
  relay: { nodeQueryOptions: false, nodesQueryOptions: false },
});

builder.addScalarType('JSON', JSONResolver);
builder.addScalarType('DateTime', DateTimeResolver);
builder.queryType({});
builder.mutationType({});
