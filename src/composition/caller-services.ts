import type { Caller } from '../access/api-keys.ts';
import type { TenantDocuments } from '../files/url-ingestion.ts';
import type { CallerServices } from '../schema/index.ts';
import type { RagqlServices } from './services.ts';

/**
 * The services as one caller may use them: every read and write bound to its tenant, every model
 * call to its tier and paid from its budget (plugins' calls too). The GraphQL context holds this,
 * never the process-wide services, so no resolver can reach another tenant's documents.
 */
/** One tenant's documents as URL ingestion reads and writes them. */
export function tenantDocuments(
  services: RagqlServices,
  tenant: string,
  signal?: AbortSignal,
): TenantDocuments {
  return {
    tenant,
    ingest: (documents, labelOf) => services.ingest.ingest(tenant, documents, signal, labelOf),
    get: (ids) => services.documents.get(tenant, ids),
  };
}

export function servicesForCaller(services: RagqlServices, caller: Caller): CallerServices {
  const { tenant, tier } = caller;
  // Made by the calls that spend tokens, not for every request's context.
  const budget = () => services.rateLimits.tokenBudget(caller);
  return {
    search: (query) => services.search.search({ ...query, tenant, caller: { tier, budget: budget() } }),
    answer: (query) => services.answers.answer({ ...query, tenant, tier, budget: budget() }),
    prepareAnswer: (query) => services.answers.prepare({ ...query, tenant, tier, budget: budget() }),
    generateAnswer: (prepared, signal) => services.answers.generate(prepared, signal),
    ingest: (documents, signal) => services.ingest.ingest(tenant, documents, signal),
    ingestFiles: async (files, signal) => {
      const documents = await services.files.documentsOfUploads(files, signal);
      return services.ingest.ingest(tenant, documents, signal, (position) => files[position]?.name ?? '');
    },
    ingestUrls: (urls, signal) =>
      services.urls.ingest(urls, tenantDocuments(services, tenant, signal), signal),
    documents: {
      get: (ids) => services.documents.get(tenant, ids),
      list: (request) => services.documents.list(tenant, request),
      chunks: (documentId) => services.documents.chunks(tenant, documentId),
      delete: (id, signal) => services.documents.delete(tenant, id, signal),
    },
    usage: (from, to) => services.usage.days(tenant, from, to),
    plugins: (kind) => services.plugins.list(kind),
    info: services.info,
  };
}
