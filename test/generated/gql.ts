/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "mutation IngestDocuments($documents: [DocumentInput!]!) {\n  ingestDocuments(documents: $documents) {\n    documents {\n      id\n      status\n      chunkCount\n    }\n    created\n    updated\n    unchanged\n    embeddedChunks\n  }\n}\n\nmutation DeleteDocument($id: ID!) {\n  deleteDocument(id: $id) {\n    id\n    deleted\n  }\n}\n\nquery Document($id: ID!) {\n  document(id: $id) {\n    id\n    title\n    source\n    metadata\n    contentHash\n    chunkCount\n    chunks {\n      id\n      index\n      content\n      startOffset\n      endOffset\n    }\n    createdAt\n    updatedAt\n  }\n}\n\nquery Documents($first: Int, $after: String, $filter: [FilterCondition!]) {\n  documents(first: $first, after: $after, filter: $filter) {\n    edges {\n      cursor\n      node {\n        id\n        title\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}": typeof types.IngestDocumentsDocument,
    "query Search($query: String!, $limit: Int, $alpha: Float, $fusion: FusionType, $filter: [FilterCondition!]) {\n  search(\n    query: $query\n    limit: $limit\n    alpha: $alpha\n    fusion: $fusion\n    filter: $filter\n  ) {\n    mode\n    alpha\n    hits {\n      score\n      scores {\n        keyword\n        vector\n        fused\n      }\n      chunk {\n        id\n        index\n        content\n        document {\n          id\n          title\n          source\n          metadata\n        }\n      }\n    }\n  }\n}\n\nquery Answer($question: String!, $limit: Int, $filter: [FilterCondition!]) {\n  answer(question: $question, limit: $limit, filter: $filter) {\n    text\n    citations {\n      marker\n      chunk {\n        id\n      }\n      document {\n        id\n        title\n      }\n    }\n    invalidCitations\n    sources {\n      score\n      chunk {\n        id\n        content\n      }\n    }\n    mode\n    generator\n    model\n  }\n}\n\nquery ServerInfo {\n  serverInfo {\n    version\n    store\n    embedder\n    generator\n  }\n}": typeof types.SearchDocument,
};
const documents: Documents = {
    "mutation IngestDocuments($documents: [DocumentInput!]!) {\n  ingestDocuments(documents: $documents) {\n    documents {\n      id\n      status\n      chunkCount\n    }\n    created\n    updated\n    unchanged\n    embeddedChunks\n  }\n}\n\nmutation DeleteDocument($id: ID!) {\n  deleteDocument(id: $id) {\n    id\n    deleted\n  }\n}\n\nquery Document($id: ID!) {\n  document(id: $id) {\n    id\n    title\n    source\n    metadata\n    contentHash\n    chunkCount\n    chunks {\n      id\n      index\n      content\n      startOffset\n      endOffset\n    }\n    createdAt\n    updatedAt\n  }\n}\n\nquery Documents($first: Int, $after: String, $filter: [FilterCondition!]) {\n  documents(first: $first, after: $after, filter: $filter) {\n    edges {\n      cursor\n      node {\n        id\n        title\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}": types.IngestDocumentsDocument,
    "query Search($query: String!, $limit: Int, $alpha: Float, $fusion: FusionType, $filter: [FilterCondition!]) {\n  search(\n    query: $query\n    limit: $limit\n    alpha: $alpha\n    fusion: $fusion\n    filter: $filter\n  ) {\n    mode\n    alpha\n    hits {\n      score\n      scores {\n        keyword\n        vector\n        fused\n      }\n      chunk {\n        id\n        index\n        content\n        document {\n          id\n          title\n          source\n          metadata\n        }\n      }\n    }\n  }\n}\n\nquery Answer($question: String!, $limit: Int, $filter: [FilterCondition!]) {\n  answer(question: $question, limit: $limit, filter: $filter) {\n    text\n    citations {\n      marker\n      chunk {\n        id\n      }\n      document {\n        id\n        title\n      }\n    }\n    invalidCitations\n    sources {\n      score\n      chunk {\n        id\n        content\n      }\n    }\n    mode\n    generator\n    model\n  }\n}\n\nquery ServerInfo {\n  serverInfo {\n    version\n    store\n    embedder\n    generator\n  }\n}": types.SearchDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation IngestDocuments($documents: [DocumentInput!]!) {\n  ingestDocuments(documents: $documents) {\n    documents {\n      id\n      status\n      chunkCount\n    }\n    created\n    updated\n    unchanged\n    embeddedChunks\n  }\n}\n\nmutation DeleteDocument($id: ID!) {\n  deleteDocument(id: $id) {\n    id\n    deleted\n  }\n}\n\nquery Document($id: ID!) {\n  document(id: $id) {\n    id\n    title\n    source\n    metadata\n    contentHash\n    chunkCount\n    chunks {\n      id\n      index\n      content\n      startOffset\n      endOffset\n    }\n    createdAt\n    updatedAt\n  }\n}\n\nquery Documents($first: Int, $after: String, $filter: [FilterCondition!]) {\n  documents(first: $first, after: $after, filter: $filter) {\n    edges {\n      cursor\n      node {\n        id\n        title\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}"): (typeof documents)["mutation IngestDocuments($documents: [DocumentInput!]!) {\n  ingestDocuments(documents: $documents) {\n    documents {\n      id\n      status\n      chunkCount\n    }\n    created\n    updated\n    unchanged\n    embeddedChunks\n  }\n}\n\nmutation DeleteDocument($id: ID!) {\n  deleteDocument(id: $id) {\n    id\n    deleted\n  }\n}\n\nquery Document($id: ID!) {\n  document(id: $id) {\n    id\n    title\n    source\n    metadata\n    contentHash\n    chunkCount\n    chunks {\n      id\n      index\n      content\n      startOffset\n      endOffset\n    }\n    createdAt\n    updatedAt\n  }\n}\n\nquery Documents($first: Int, $after: String, $filter: [FilterCondition!]) {\n  documents(first: $first, after: $after, filter: $filter) {\n    edges {\n      cursor\n      node {\n        id\n        title\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Search($query: String!, $limit: Int, $alpha: Float, $fusion: FusionType, $filter: [FilterCondition!]) {\n  search(\n    query: $query\n    limit: $limit\n    alpha: $alpha\n    fusion: $fusion\n    filter: $filter\n  ) {\n    mode\n    alpha\n    hits {\n      score\n      scores {\n        keyword\n        vector\n        fused\n      }\n      chunk {\n        id\n        index\n        content\n        document {\n          id\n          title\n          source\n          metadata\n        }\n      }\n    }\n  }\n}\n\nquery Answer($question: String!, $limit: Int, $filter: [FilterCondition!]) {\n  answer(question: $question, limit: $limit, filter: $filter) {\n    text\n    citations {\n      marker\n      chunk {\n        id\n      }\n      document {\n        id\n        title\n      }\n    }\n    invalidCitations\n    sources {\n      score\n      chunk {\n        id\n        content\n      }\n    }\n    mode\n    generator\n    model\n  }\n}\n\nquery ServerInfo {\n  serverInfo {\n    version\n    store\n    embedder\n    generator\n  }\n}"): (typeof documents)["query Search($query: String!, $limit: Int, $alpha: Float, $fusion: FusionType, $filter: [FilterCondition!]) {\n  search(\n    query: $query\n    limit: $limit\n    alpha: $alpha\n    fusion: $fusion\n    filter: $filter\n  ) {\n    mode\n    alpha\n    hits {\n      score\n      scores {\n        keyword\n        vector\n        fused\n      }\n      chunk {\n        id\n        index\n        content\n        document {\n          id\n          title\n          source\n          metadata\n        }\n      }\n    }\n  }\n}\n\nquery Answer($question: String!, $limit: Int, $filter: [FilterCondition!]) {\n  answer(question: $question, limit: $limit, filter: $filter) {\n    text\n    citations {\n      marker\n      chunk {\n        id\n      }\n      document {\n        id\n        title\n      }\n    }\n    invalidCitations\n    sources {\n      score\n      chunk {\n        id\n        content\n      }\n    }\n    mode\n    generator\n    model\n  }\n}\n\nquery ServerInfo {\n  serverInfo {\n    version\n    store\n    embedder\n    generator\n  }\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;