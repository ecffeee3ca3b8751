/**
 * The Model Context Protocol door for agents: ragql's documents, search and answers as MCP tools,
 * over Streamable HTTP at /mcp (the official SDK, with sessions, so that a client's cancellation
 * reaches the call it names). The caller's API key decides the tenant and tier exactly as for
 * GraphQL, and every call goes through the same caller services, so the same validation, rate
 * limits, budgets and usage apply.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { DocumentNode } from 'graphql';
import { LRUCache } from 'lru-cache';
import { bearerKey, type Caller } from '../access/api-keys.ts';
import type { RateLimits } from '../access/rate-limits.ts';
import { badInput, RagqlError } from '../errors.ts';
import { type DocumentInput, type FilterConditionInput, parseFilter } from '../rag/index.ts';
import type { CallerAnswerQuery, CallerSearchQuery, CallerServices } from '../schema/context.ts';
import { schema } from '../schema/index.ts';
import { version } from '../version.ts';
import { type ToolArguments, toolArguments } from './graphql-tool-arguments.ts';
import type { TierCost } from './query-cost.ts';

export const mcpPath = '/mcp';

export interface McpDependencies {
  authenticate(key: string | null): Caller | null;
  servicesFor(caller: Caller): CallerServices;
  rateLimits: RateLimits;
  /** Counts each tool call, as GraphQL operations are counted. */
  recordCall: ToolCallRecorder;
  /** The tiers' query-cost limits, as for GraphQL (see costedOperations). */
  cost: TierCost;
  /** The largest request body, as for GraphQL (RAGQL_MAX_BODY_BYTES); the SDK's own is 4 MiB. */
  maxBodyBytes: number;
}

/** Sessions kept at once, for every caller together, and per API key. */
const mostSessions = 1000;
const mostSessionsPerKey = 16;
/** A session nobody used for this long is closed. */
const sessionIdleMs = 30 * 60 * 1000;

interface Session {
  keyId: string;
  transport: StreamableHTTPServerTransport;
  server: McpServer;
}

/**
 * The MCP sessions of this process. A session is one client's: its requests, the streams it
 * opens, and the cancellations that name its calls, which is why ragql keeps them rather than
 * serving each POST alone. Each is bound to the API key that opened it, and bounded in number
 * (per key, and for all) and in idle time.
 */
export class McpSessions {
  private readonly deps: McpDependencies;
  private readonly sessions = new LRUCache<string, Session>({
    max: mostSessions,
    ttl: sessionIdleMs,
    updateAgeOnGet: true,
    dispose: (session) => {
      void session.transport.close();
      void session.server.close();
    },
  });

  constructor(deps: McpDependencies) {
    this.deps = deps;
  }

  /** Serves one request to /mcp. */
  async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const caller = this.deps.authenticate(bearerKey(request.headers.authorization));
    if (!caller)
      return jsonRpcError(response, 401, -32001, 'An API key is required: Authorization: Bearer <key>.');
    try {
      await this.deps.rateLimits.admitRequest(caller);
    } catch (error) {
      if (error instanceof RagqlError) return jsonRpcError(response, 429, -32002, error.message);
      throw error;
    }
    const sessionId = request.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const session = this.sessions.get(sessionId);
      // Another key's session is as unknown as one that ended (the spec: 404 for those).
      if (!session || session.keyId !== caller.keyId) {
        return jsonRpcError(response, 404, -32003, 'No such MCP session: start a new one.');
      }
      await session.transport.handleRequest(request, response);
      return;
    }
    if (request.method !== 'POST') {
      return jsonRpcError(response, 400, -32000, 'Start a session with an initialize request (POST).');
    }
    if (this.countOf(caller.keyId) >= mostSessionsPerKey) {
      return jsonRpcError(
        response,
        429,
        -32002,
        `An API key may hold ${mostSessionsPerKey} MCP sessions at once; end one (DELETE) first.`,
      );
    }
    const server = mcpServerFor(this.deps.servicesFor(caller), {
      recordCall: this.deps.recordCall,
      checkCost: tierCostCheck(this.deps.cost, caller.tier),
    });
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      maxRequestBodySize: this.deps.maxBodyBytes,
      onsessioninitialized: (id) => {
        this.sessions.set(id, { keyId: caller.keyId, transport, server });
      },
      onsessionclosed: (id) => {
        this.sessions.delete(id);
      },
    });
    await server.connect(transport);
    await transport.handleRequest(request, response);
  }

  close(): void {
    this.sessions.clear();
  }

  private countOf(keyId: string): number {
    let count = 0;
    for (const session of this.sessions.values()) if (session.keyId === keyId) count++;
    return count;
  }
}

/** Each tool's arguments: those of the GraphQL field it stands for (see graphql-tool-arguments.ts). */
const toolArgs = {
  search: toolArguments(schema, 'Query', 'search'),
  answer: toolArguments(schema, 'Query', 'answer'),
  ingestDocuments: toolArguments(schema, 'Mutation', 'ingestDocuments'),
  document: toolArguments(schema, 'Query', 'document'),
  documents: toolArguments(schema, 'Query', 'documents', ['first', 'after', 'filter']),
  deleteDocument: toolArguments(schema, 'Mutation', 'deleteDocument'),
};
/**
 * The GraphQL operations the tools that may return much stand for, asking for what they return:
 * the tier's query-cost limit judges each call as that operation, as it judges GraphQL's.
 */
const costedOperations = {
  search: toolArgs.search.operation(
    '{ mode hits { score scores { keyword vector } chunk { id content pages { first last } sectionPath document { id } } } }',
  ),
  answer: toolArgs.answer.operation(
    '{ text model cached citations { marker chunk { id pages { first last } document { id } } } }',
  ),
  documents: toolArgs.documents.operation('{ edges { node { id title } } }'),
};

/** Why a call costs more than the caller's tier allows, or null: its operation, its input as variables. */
export type CostCheck = (operation: DocumentNode, variables: Record<string, unknown>) => string | null;

/** The tier's cost limit as a tool call is judged by it: as the GraphQL operation it stands for. */
export function tierCostCheck(cost: TierCost, tier: string): CostCheck {
  return (document, variables) =>
    cost.refusal({ schema, document, variables, operationName: null }, tier)?.message ?? null;
}

/** The most documents list_documents returns at once, as GraphQL's connections do. */
const mostDocumentsListed = 100;

/** What a tool call is, for the metrics: its name and how it ended. */
export type ToolCallRecorder = (tool: string, outcome: 'success' | 'error', seconds: number) => void;

/**
 * The tools, bound to one caller's services. Each takes the arguments of the GraphQL field it
 * stands for, checked the same way, and calls the service that field's resolver calls.
 */
export function mcpServerFor(
  services: CallerServices,
  { recordCall = () => {}, checkCost }: { recordCall?: ToolCallRecorder; checkCost: CostCheck },
): McpServer {
  const server = new McpServer({ name: 'ragql', version });
  const tool = (
    name: string,
    description: string,
    args: ToolArguments,
    run: (input: Record<string, unknown>, signal: AbortSignal) => Promise<Record<string, unknown>>,
    operation?: DocumentNode,
  ) =>
    server.registerTool(name, { description, inputSchema: args.shape }, (input, extra) =>
      toolResult(name, recordCall, () => {
        const coerced = args.coerce(input);
        const tooCostly = operation ? checkCost(operation, input) : null;
        if (tooCostly) throw badInput(tooCostly);
        return run(coerced, extra.signal);
      }),
    );
  tool(
    'search',
    "Hybrid search (BM25 and vectors) over the caller's documents, the best chunks first; the arguments of GraphQL's `search`.",
    toolArgs.search,
    async (input, signal) => {
      const result = await services.search({ ...(input as CallerSearchQuery), signal });
      return {
        mode: result.mode,
        hits: result.hits.map((hit) => ({
          chunkId: hit.chunk.id,
          documentId: hit.chunk.documentId,
          content: hit.chunk.content,
          pages: hit.chunk.pages,
          sectionPath: hit.chunk.sectionPath,
          score: hit.score,
          keywordScore: hit.keywordScore,
          vectorScore: hit.vectorScore,
        })),
      };
    },
    costedOperations.search,
  );
  tool(
    'answer',
    "An answer grounded in the caller's documents, with the chunks it cites; the arguments of GraphQL's `answer`.",
    toolArgs.answer,
    async (input, signal) => {
      const answer = await services.answer({ ...(input as CallerAnswerQuery), signal });
      return {
        text: answer.text,
        citations: answer.citations.map((citation) => ({
          marker: citation.marker,
          chunkId: citation.hit.chunk.id,
          documentId: citation.hit.chunk.documentId,
          pages: citation.hit.chunk.pages,
        })),
        model: answer.model,
        cached: answer.cached,
      };
    },
    costedOperations.answer,
  );
  tool(
    'ingest_documents',
    "Stores documents (chunked and embedded); unchanged ones cost nothing. The arguments of GraphQL's `ingestDocuments`.",
    toolArgs.ingestDocuments,
    async (input, signal) => {
      const report = await services.ingest(input.documents as DocumentInput[], signal);
      return {
        created: report.created,
        updated: report.updated,
        unchanged: report.unchanged,
        documents: report.documents.map((document) => ({ id: document.id, status: document.status })),
      };
    },
  );
  tool(
    'get_document',
    'One document and its chunks; null when there is none.',
    toolArgs.document,
    async (input) => {
      const id = input.id as string;
      const [document] = await services.documents.get([id]);
      if (!document) return { document: null };
      const chunks = await services.documents.chunks(id);
      return {
        document: {
          id: document.id,
          title: document.title,
          source: document.source,
          metadata: document.metadata,
          chunks: chunks.map((chunk) => ({
            id: chunk.id,
            content: chunk.content,
            pages: chunk.pages,
            sectionPath: chunk.sectionPath,
          })),
        },
      };
    },
  );
  tool(
    'list_documents',
    `The documents in id order, \`first\` (at most ${mostDocumentsListed}, default 20) at a time: pass the last id as \`after\` for the next.`,
    toolArgs.documents,
    async ({ first, after, filter }) => {
      const limit = (first as number | null | undefined) ?? 20;
      if (limit < 1 || limit > mostDocumentsListed) {
        throw badInput(`first must be from 1 to ${mostDocumentsListed}; got ${limit}`);
      }
      const documents = await services.documents.list({
        ...(typeof after === 'string' ? { after } : {}),
        limit,
        filter: parseFilter(filter as FilterConditionInput[] | null | undefined),
      });
      return { documents: documents.map((document) => ({ id: document.id, title: document.title })) };
    },
    costedOperations.documents,
  );
  tool(
    'delete_document',
    'Deletes a document and its chunks.',
    toolArgs.deleteDocument,
    async (input, signal) => ({
      deleted: await services.documents.delete(input.id as string, signal),
    }),
  );
  return server;
}

/**
 * A tool's result: its structured content (and the same as JSON text, for clients that read only
 * text); ragql's refusals become MCP tool errors that lead with ragql's code, e.g.
 * `BAD_USER_INPUT: …`, and anything unexpected a masked INTERNAL_SERVER_ERROR.
 */
async function toolResult(
  tool: string,
  recordCall: ToolCallRecorder,
  run: () => Promise<Record<string, unknown>>,
): Promise<CallToolResult> {
  const started = performance.now();
  try {
    const content = await run();
    recordCall(tool, 'success', (performance.now() - started) / 1000);
    return { content: [{ type: 'text', text: JSON.stringify(content) }], structuredContent: content };
  } catch (error) {
    recordCall(tool, 'error', (performance.now() - started) / 1000);
    const { code, message } =
      error instanceof RagqlError
        ? error
        : { code: 'INTERNAL_SERVER_ERROR', message: 'Unexpected error; the server logged it.' };
    return {
      isError: true,
      content: [{ type: 'text', text: `${code}: ${message}` }],
      structuredContent: { code, message },
    };
  }
}

function jsonRpcError(response: ServerResponse, status: number, code: number, message: string): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}
