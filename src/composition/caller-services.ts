import type { Caller } from '../access/api-keys.ts';
import { badInput, RagqlError } from '../errors.ts';
import type { TenantDocuments } from '../files/url-ingestion.ts';
import type { CallerOperations, CallerServices, OperationsStatus } from '../schema/context.ts';
import type { RagqlServices } from './services.ts';

/** One tenant's documents as URL ingestion reads and writes them. */
export function tenantDocuments(
  services: RagqlServices,
  tenant: string,
  signal?: AbortSignal,
): TenantDocuments {
  return {
    tenant,
    // Inside the space gate (see servicesForCaller); the pages were fetched and parsed outside it.
    ingest: (documents, labelOf) =>
      services.gate.during(() => services.ingest.ingest(tenant, documents, signal, labelOf)),
    get: (ids) => services.documents.get(tenant, ids),
  };
}

/** The whole-store operations, refused (FORBIDDEN) to a caller without an operator key. */
function operationsFor(services: RagqlServices, caller: Caller): CallerOperations {
  const reembedding = () => {
    if (!caller.operator) {
      throw new RagqlError('FORBIDDEN', 'Only an operator key (operator: true in apiKeys) may do this.');
    }
    if (!services.reembedding) {
      throw badInput(
        'Re-embedding needs an embedder, and none is configured (RAGQL_EMBEDDER): this server is keyword-only.',
      );
    }
    return services.reembedding;
  };
  const status = async (): Promise<OperationsStatus> => {
    const service = reembedding();
    const generations = await service.generationState();
    return {
      reembedding: service.status,
      activeGeneration: generations.active,
      retiredGenerations: generations.retired,
    };
  };
  return {
    reembed: async (model, dimensions) => {
      // The build outlives the request that started it; its progress and outcome are in the status.
      await reembedding().start(model, dimensions ?? undefined);
      return status();
    },
    status,
    dropRetiredSpaces: () => reembedding().dropRetired(),
    abandonReembedding: () => reembedding().abandonBuild(),
  };
}

/**
 * The services as one caller may use them: every read and write bound to its tenant, every model
 * call to its tier and paid from its budget (plugins' calls too). The GraphQL context holds this,
 * never the process-wide services, so no resolver can reach another tenant's documents.
 */
export function servicesForCaller(services: RagqlServices, caller: Caller): CallerServices {
  const { tenant, tier } = caller;
  // Made by the calls that spend tokens, not for every request's context.
  const budget = () => services.rateLimits.tokenBudget(caller);
  // Every call that embeds, or writes to the store, runs in the gate, so that a switch of embedding
  // space (re-embedding) falls between calls, never inside one: no query is embedded by one model
  // and searched among the other's vectors, and no write lands in the space being retired. Reads
  // of documents and chunks need none (both spaces hold the same ones), nor does an answer's
  // generation (it reads only what prepareAnswer found), which keeps a GraphQL resolver that reads
  // a document while an answer streams from waiting on the stream that waits for it.
  const { gate } = services;
  return {
    search: (query) =>
      gate.during(() => services.search.search({ ...query, tenant, caller: { tier, budget: budget() } })),
    answer: (query) =>
      gate.during(() => services.answers.answer({ ...query, tenant, tier, budget: budget() })),
    prepareAnswer: (query) =>
      gate.during(() => services.answers.prepare({ ...query, tenant, tier, budget: budget() })),
    generateAnswer: (prepared, signal) => services.answers.generate(prepared, signal),
    ingest: (documents, signal) => gate.during(() => services.ingest.ingest(tenant, documents, signal)),
    ingestFiles: async (files, signal) => {
      // Parsed outside the gate: parsing touches neither the embedder nor the store.
      const documents = await services.files.documentsOfUploads(files, { tenant, signal });
      return gate.during(() =>
        services.ingest.ingest(tenant, documents, signal, (position) => files[position]?.name ?? ''),
      );
    },
    ingestUrls: (urls, signal) =>
      services.urls.ingest(urls, tenantDocuments(services, tenant, signal), signal),
    crawlSite: (url, maxPages, signal) =>
      services.crawler.crawl(url, maxPages, tenantDocuments(services, tenant, signal), { signal }),
    documents: {
      get: (ids) => services.documents.get(tenant, ids),
      list: (request) => services.documents.list(tenant, request),
      chunks: (documentId) => services.documents.chunks(tenant, documentId),
      delete: (id, signal) => gate.during(() => services.documents.delete(tenant, id, signal)),
    },
    usage: (from, to) => services.usage.days(tenant, from, to),
    operations: operationsFor(services, caller),
    plugins: (kind) => services.plugins.list(kind),
    info: services.info,
  };
}
