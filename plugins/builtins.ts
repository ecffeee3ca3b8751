import type { PluginDefinition } from 'ragql/plugin';
import { type CohereRerankSettings, cohereReranker } from './cohere-rerank.ts';
import contextualCompression from './contextual-compression.ts';
import { type CrossEncoderSettings, crossEncoderReranker } from './cross-encoder.ts';
import hybrid from './hybrid.ts';
import mmr from './mmr.ts';
import multiQuery from './multi-query.ts';
import parentDocument from './parent-document.ts';

export interface BuiltinSettings {
  /** The Cohere reranker is registered only when Cohere can be reached. */
  cohereRerank: CohereRerankSettings | null;
  crossEncoder: CrossEncoderSettings;
}

/** The plugins ragql ships, written against the same public API as any integrator's. */
export function builtinPlugins(settings: BuiltinSettings): PluginDefinition[] {
  return [
    hybrid,
    multiQuery,
    parentDocument,
    contextualCompression,
    mmr,
    crossEncoderReranker(settings.crossEncoder),
    ...(settings.cohereRerank ? [cohereReranker(settings.cohereRerank)] : []),
  ];
}
