/**
 * The public plugin API: what a retriever or reranker plugin imports, built-in or third-party.
 * Plugins get zod from here too, so their option schemas are the server's zod's.
 */
export { z } from 'zod';
export { cosineSimilarity } from '../ranking/vector-math.ts';
export type {
  Candidate,
  ChunkRecord,
  PluginChat,
  PluginContext,
  PluginDefinition,
  PluginEmbedder,
  PluginKind,
  Reranker,
  RerankerPlugin,
  RerankQuery,
  RetrievalQuery,
  RetrievalResult,
  Retriever,
  RetrieverChoice,
  RetrieverPlugin,
  StoreSearchQuery,
  TraceDetails,
} from './api.ts';
export { definePlugin, PluginOptionError, pluginApiVersion } from './api.ts';
export { fuseByRank } from './fuse-candidates.ts';
