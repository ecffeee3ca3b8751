import weaviate, { type CollectionConfigCreate, type WeaviateClient } from 'weaviate-client';
import { presentFieldsProperty, sourceProperty, titleProperty, type ValueType } from './filter-properties.ts';

/**
 * ragql's two collections. Chunks carry the vectors and the keyword index; document records carry
 * what a document is (title, metadata, revision, chunk count) without the cost of a vector index
 * or of a `kind` condition on every search. Both are multi-tenant with automatic tenant creation,
 * so a tenant's shard appears on its first write, and both carry the filterable properties, so a
 * filter applies alike to searches (over chunks) and to listings (over records).
 */
export interface CollectionNames {
  chunks: string;
  documents: string;
}

export function collectionNames(prefix: string): CollectionNames {
  return { chunks: `${prefix}Chunks`, documents: `${prefix}Documents` };
}

/** The properties of a chunk object. */
export type ChunkProperties = {
  /** The chunk's ragql id, `<documentId>#<index>`. */
  chunkId: string;
  documentId: string;
  /** The document id as filter-properties.ts encodes text: exact, and ordered as the embedded store orders ids. */
  documentKey: string;
  /** The write that stored the chunk: readers use the chunks of the write the record names (see document-writer.ts). */
  writeId: string;
  chunkIndex: number;
  content: string;
  /**
   * The BM25 field: ragql's own English analysis (src/text/analysis.ts) of the title and the chunk
   * text, as space-separated terms, tokenised by whitespace. Weaviate has no stemming; analysing in
   * ragql gives both stores the same terms (Lucene-style stopwords, Porter stems, CJK pairs), and the
   * title and text in one field make the same "flat" BM25 document as the embedded store's.
   */
  searchText: string;
  startOffset: number;
  endOffset: number;
  contentHash: string;
  /**
   * Where the chunk sits in its file, its pages and section path, as ../chunk-location.ts encodes
   * it; absent for a chunk on no page and in no section, and on the chunks of collections an
   * older ragql wrote (see `chunkLocationProperty`).
   */
  location?: string;
};

/** The properties of a document record. */
export type DocumentProperties = {
  documentId: string;
  documentKey: string;
  /** Sorts ascending as the ids sort descending (see objects.ts). */
  documentKeyDescending: string;
  title?: string;
  source?: string;
  /** The metadata as JSON, returned as stored; the filterable copies are in typed properties. */
  metadataJson: string;
  contentHash: string;
  revisionHash: string;
  /** The write whose chunks are the document's (see document-writer.ts). */
  writeId: string;
  chunkCount: number;
  createdAt: Date;
  updatedAt: Date;
};

interface CollectionSettings {
  /** Copies of each tenant's shard; absent: Weaviate's default. */
  replicationFactor?: number | undefined;
}

const stored = { indexFilterable: false, indexSearchable: false } as const;
const exactText = { dataType: 'text', tokenization: 'field', indexSearchable: false } as const;

/**
 * The chunks' location property: read with the chunk, never searched, filtered or sorted on, so
 * without an index. Collections created before ragql kept chunks' locations lack it: the store
 * adds it to them (`CollectionSchema.addOwnProperty`) before any read or write asks for it.
 */
export const chunkLocationProperty = {
  name: 'location',
  dataType: 'text',
  indexFilterable: false,
  indexSearchable: false,
  indexRangeFilters: false,
} as const;

/** The properties both collections filter on; metadata properties are added as keys appear. */
const filterableProperties = [
  { name: 'documentKey', ...exactText },
  { name: titleProperty, ...exactText },
  { name: sourceProperty, ...exactText },
  { name: presentFieldsProperty, ...exactText, dataType: 'text[]' },
] as const;

export function chunkCollectionConfig(
  name: string,
  description: string,
  settings: CollectionSettings,
): CollectionConfigCreate {
  return {
    name,
    description,
    ...commonConfig(settings),
    // ragql analyses the text itself (see searchText), so Weaviate must remove nothing more.
    invertedIndex: weaviate.configure.invertedIndex({ stopwordsPreset: 'none', bm25k1: 1.2, bm25b: 0.75 }),
    vectorizers: weaviate.configure.vectors.selfProvided({
      vectorIndexConfig: weaviate.configure.vectorIndex.hnsw({
        distanceMetric: 'cosine',
        // Exact distances, so vector scores are the cosine similarities the embedded store reports.
        quantizer: weaviate.configure.vectorIndex.quantizer.none(),
      }),
    }),
    properties: [
      ...filterableProperties,
      { name: 'chunkId', dataType: 'text', ...stored },
      { name: 'documentId', dataType: 'text', ...stored },
      { name: 'writeId', ...exactText },
      { name: 'chunkIndex', dataType: 'int', indexSearchable: false },
      { name: 'content', dataType: 'text', ...stored },
      { name: 'searchText', dataType: 'text', tokenization: 'whitespace', indexFilterable: false },
      { name: 'startOffset', dataType: 'int', ...stored },
      { name: 'endOffset', dataType: 'int', ...stored },
      { name: 'contentHash', dataType: 'text', ...stored },
      chunkLocationProperty,
    ],
  };
}

export function documentCollectionConfig(name: string, settings: CollectionSettings): CollectionConfigCreate {
  return {
    name,
    description: 'ragql document records',
    ...commonConfig(settings),
    vectorizers: withoutVectorIndex(),
    properties: [
      ...filterableProperties,
      { name: 'documentKeyDescending', ...exactText },
      { name: 'documentId', dataType: 'text', ...stored },
      { name: 'title', dataType: 'text', ...stored },
      { name: 'source', dataType: 'text', ...stored },
      { name: 'metadataJson', dataType: 'text', ...stored },
      { name: 'contentHash', dataType: 'text', ...stored },
      { name: 'revisionHash', dataType: 'text', ...stored },
      { name: 'writeId', dataType: 'text', ...stored },
      { name: 'chunkCount', dataType: 'int', ...stored },
      { name: 'createdAt', dataType: 'date', ...stored },
      { name: 'updatedAt', dataType: 'date', ...stored },
    ],
  };
}

/**
 * The collection of the record of which generation serves (weaviate-generations.ts): one object,
 * not multi-tenant, never searched.
 */
export function generationRecordConfig(name: string, settings: CollectionSettings): CollectionConfigCreate {
  return {
    name,
    description: 'ragql: which generation of the collections serves',
    ...replicationOf(settings),
    vectorizers: withoutVectorIndex(),
    properties: [{ name: 'state', dataType: 'text', ...stored }],
  };
}

function commonConfig(settings: CollectionSettings) {
  return {
    multiTenancy: weaviate.configure.multiTenancy({
      enabled: true,
      autoTenantCreation: true,
      autoTenantActivation: true,
    }),
    ...replicationOf(settings),
  };
}

function replicationOf(settings: CollectionSettings) {
  return settings.replicationFactor === undefined
    ? {}
    : { replication: weaviate.configure.replication({ factor: settings.replicationFactor }) };
}

/** Objects ragql never searches by vector: no index to keep. */
function withoutVectorIndex() {
  return weaviate.configure.vectors.selfProvided({
    vectorIndexConfig: weaviate.configure.vectorIndex.hnsw({ skip: true }),
  });
}

/**
 * The property names of one collection, as last read from Weaviate. Metadata properties are added
 * when a document first brings a key (and type); filters consult the names, because Weaviate
 * rejects a filter on a property its schema lacks.
 */
export class CollectionSchema {
  readonly collection: string;
  private names: Promise<Set<string>> | undefined;

  constructor(collection: string) {
    this.collection = collection;
  }

  /** The property names, read from Weaviate on first use or after `forget`. */
  propertyNames(client: WeaviateClient): Promise<Set<string>> {
    if (!this.names) {
      const names = client.collections
        .get(this.collection)
        .config.get()
        .then((config) => new Set(config.properties.map((property) => property.name)));
      this.names = names;
      names.catch(() => {
        if (this.names === names) this.names = undefined;
      });
    }
    return this.names;
  }

  /** Reads the names again next time: another process may have added properties. */
  forget(): void {
    this.names = undefined;
  }

  /**
   * Adds ragql's own property `property` when the schema lacks it (a collection an older ragql
   * created), before anything reads or writes it: Weaviate refuses to return a property its schema
   * lacks, and its auto-schema would index one a write brings.
   */
  async addOwnProperty(client: WeaviateClient, property: typeof chunkLocationProperty): Promise<void> {
    this.forget();
    if ((await this.propertyNames(client)).has(property.name)) return;
    try {
      await client.collections.get(this.collection).config.addProperty(property);
    } catch (error) {
      // Another ragql process may have added it meanwhile; anything else is a real failure.
      this.forget();
      if (!(await this.propertyNames(client)).has(property.name)) throw error;
    }
    this.forget();
  }

  /** Adds the metadata properties the schema lacks. */
  async addMissing(client: WeaviateClient, needed: ReadonlyMap<string, ValueType>): Promise<void> {
    const known = await this.propertyNames(client);
    const missing = [...needed].filter(([name]) => !known.has(name));
    if (missing.length === 0) return;
    const config = client.collections.get(this.collection).config;
    for (const [name, type] of missing) {
      try {
        await config.addProperty(metadataPropertyConfig(name, type));
      } catch (error) {
        // Another writer may have added it meanwhile; anything else is a real failure.
        this.forget();
        if (!(await this.propertyNames(client)).has(name)) throw error;
      }
      known.add(name);
    }
  }
}

function metadataPropertyConfig(name: string, type: ValueType) {
  switch (type) {
    case 'text':
      return { name, ...exactText, dataType: 'text[]' } as const;
    case 'number':
      return { name, dataType: 'number[]', indexSearchable: false } as const;
    case 'boolean':
      return { name, dataType: 'boolean[]', indexSearchable: false } as const;
  }
}
