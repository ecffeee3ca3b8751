import { type ResolveCursorConnectionArgs, resolveCursorConnection } from '@pothos/plugin-relay';
import type { ChunkRecord, DocumentRecord, PageRange } from '../ports.ts';
import { type IngestedDocument, type IngestReport, parseFilter } from '../rag/index.ts';
import { builder } from './builder.ts';
import type { CrawlResult } from './context.ts';
import { FilterConditionInput } from './filter.ts';

/** Documents are loaded through a per-request DataLoader: one store read however many hits name them. */
export const DocumentType = builder.loadableObjectRef<DocumentRecord, string>('Document', {
  load: async (ids: string[], context) => {
    const documents = await context.services.documents.get(ids);
    return documents.map(
      (document, position) => document ?? new Error(`Document ${ids[position]} not found.`),
    );
  },
});

export const ChunkType = builder.objectRef<ChunkRecord>('Chunk');

DocumentType.implement({
  description: 'An ingested document; its content is stored as chunks.',
  fields: (t) => ({
    id: t.exposeID('id'),
    title: t.exposeString('title', { nullable: true }),
    source: t.exposeString('source', { nullable: true }),
    metadata: t.field({ type: 'JSON', resolve: (document) => document.metadata }),
    contentHash: t.exposeString('contentHash', { description: 'sha256 of the content, hex.' }),
    chunkCount: t.exposeInt('chunkCount'),
    chunks: t.field({
      type: [ChunkType],
      resolve: (document, _args, context) => context.services.documents.chunks(document.id),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

const PageRangeType = builder.objectRef<PageRange>('PageRange').implement({
  description: 'Pages of a file, numbered from 1, both ends included.',
  fields: (t) => ({ first: t.exposeInt('first'), last: t.exposeInt('last') }),
});

ChunkType.implement({
  description: 'A piece of a document, the unit that is searched and cited.',
  fields: (t) => ({
    id: t.exposeID('id'),
    index: t.exposeInt('index', { description: 'Position in the document, from 0.' }),
    content: t.exposeString('content'),
    startOffset: t.exposeInt('startOffset', {
      description: "Where the chunk starts in the document's content, in UTF-16 code units.",
    }),
    endOffset: t.exposeInt('endOffset', { description: 'Where the chunk ends (exclusive).' }),
    pages: t.field({
      type: PageRangeType,
      nullable: true,
      description: 'The pages of its file the chunk is on (PDF); null for files without pages.',
      resolve: (chunk) => chunk.pages,
    }),
    sectionPath: t.stringList({
      description:
        'The headings the chunk starts under, outermost first (Markdown, HTML and Word headings); empty when its file has none.',
      resolve: (chunk) => [...chunk.sectionPath],
    }),
    document: t.field({ type: DocumentType, resolve: (chunk) => chunk.documentId }),
  }),
});

const IngestStatusEnum = builder.enumType('IngestStatus', {
  values: {
    CREATED: { description: 'A new document.' },
    UPDATED: { description: 'An existing document whose content, title, source or metadata changed.' },
    UNCHANGED: { description: 'Identical to what was stored: nothing was embedded or written.' },
  } as const,
});

const DocumentInputType = builder.inputType('DocumentInput', {
  fields: (t) => ({
    id: t.id({ required: false, description: 'Generated when absent. Ingesting an existing id updates it.' }),
    title: t.string({ required: false }),
    content: t.string({ required: true }),
    source: t.string({ required: false, description: 'Where the document came from: a URL, a path.' }),
    metadata: t.field({
      type: 'JSON',
      required: false,
      description: 'A flat object of strings, numbers, booleans or arrays of those; filterable.',
    }),
  }),
});

const IngestedDocumentType = builder.objectRef<IngestedDocument>('IngestedDocument').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    status: t.expose('status', { type: IngestStatusEnum }),
    chunkCount: t.exposeInt('chunkCount'),
  }),
});

const IngestResultType = builder.objectRef<IngestReport>('IngestResult').implement({
  fields: (t) => ({
    documents: t.expose('documents', { type: [IngestedDocumentType], description: 'In input order.' }),
    created: t.exposeInt('created'),
    updated: t.exposeInt('updated'),
    unchanged: t.exposeInt('unchanged'),
    embeddedChunks: t.exposeInt('embeddedChunks', {
      description:
        'Chunks this call sent to the embedding model. Chunks whose text is unchanged reuse their stored vectors, and a text this tenant ingested before may come from the embedding cache: neither counts.',
    }),
  }),
});

const RefusedPageType = builder.objectRef<CrawlResult['refused'][number]>('RefusedPage').implement({
  fields: (t) => ({ url: t.exposeString('url'), reason: t.exposeString('reason') }),
});

const CrawlResultType = builder.objectRef<CrawlResult>('CrawlResult').implement({
  fields: (t) => ({
    ingested: t.field({
      type: IngestResultType,
      description: 'The pages stored.',
      resolve: (result) => result,
    }),
    refused: t.field({
      type: [RefusedPageType],
      description: 'Pages found but not stored, each with why.',
      resolve: (result) => result.refused,
    }),
  }),
});

const DeleteResultType = builder.objectRef<{ id: string; deleted: boolean }>('DeleteResult').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    deleted: t.exposeBoolean('deleted', { description: 'False when there was no such document.' }),
  }),
});

builder.queryFields((t) => ({
  document: t.field({
    type: DocumentType,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, context) => (await context.services.documents.get([args.id]))[0] ?? null,
  }),
  documents: t.connection({
    type: DocumentType,
    description: 'All documents, in id order.',
    args: { filter: t.arg({ type: [FilterConditionInput], required: false }) },
    resolve: (_root, args, context) => {
      const filter = parseFilter(args.filter);
      return resolveCursorConnection(
        { args, toCursor: (document: DocumentRecord) => document.id },
        ({ before, after, limit, inverted }: ResolveCursorConnectionArgs) =>
          context.services.documents.list({ before, after, limit, descending: inverted, filter }),
      );
    },
  }),
}));

builder.mutationFields((t) => ({
  ingestDocuments: t.field({
    type: IngestResultType,
    description:
      'Chunks, embeds and stores documents. Unchanged documents cost nothing; invalid input stores nothing.',
    args: { documents: t.arg({ type: [DocumentInputType], required: true }) },
    resolve: (_root, args, context) => context.services.ingest(args.documents, context.signal),
  }),
  ingestFiles: t.field({
    type: IngestResultType,
    description:
      'Reads uploaded files into documents and ingests them, each with its file name as id and source: PDF (with page numbers), Word (.docx), HTML (its main content), Markdown (with its headings), and text, CSV or JSON as text. A file that cannot be read refuses the upload, naming it, and nothing is stored. Send it as a multipart request (the GraphQL multipart request spec) with an Authorization or `x-graphql-yoga-csrf` header.',
    args: { files: t.arg({ type: ['File'], required: true }) },
    resolve: (_root, args, context) => context.services.ingestFiles(args.files, context.signal),
  }),
  ingestUrls: t.field({
    type: IngestResultType,
    description:
      'Fetches pages (http and https, up to 100 a call) and ingests each by its type, as ingestFiles reads files, with its URL as id and source. A page fetched before is asked for with its ETag and Last-Modified, and is UNCHANGED without a download when the server says so. Private, loopback and link-local addresses are refused unless the operator allows them (RAGQL_URL_ALLOW_PRIVATE), on every redirect too. A URL that cannot be fetched or read refuses the call, naming it, and nothing is stored.',
    args: { urls: t.arg.stringList({ required: true }) },
    resolve: (_root, args, context) => context.services.ingestUrls(args.urls, context.signal),
  }),
  crawlSite: t.field({
    type: CrawlResultType,
    description:
      "Crawls one site from `url`: the pages its sitemap lists (robots.txt's, else /sitemap.xml) or, without one, those its pages link to, breadth first, on url's origin only, as its robots.txt allows the user agent ragql, up to `maxPages` (1 to 100). Each page is read as ingestUrls reads it and they are ingested in one call; a page that cannot be had is listed in `refused` and skipped.",
    args: {
      url: t.arg.string({ required: true }),
      maxPages: t.arg.int({ required: false, defaultValue: 20 }),
    },
    resolve: (_root, args, context) =>
      context.services.crawlSite(args.url, args.maxPages ?? 20, context.signal),
  }),
  deleteDocument: t.field({
    type: DeleteResultType,
    description: 'Deletes a document and its chunks. Idempotent.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, context) => ({
      id: args.id,
      deleted: await context.services.documents.delete(args.id, context.signal),
    }),
  }),
}));
