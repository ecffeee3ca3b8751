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
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import { bearerKey, type Caller } from '../access/api-keys.ts';
import type { RateLimits } from '../access/rate-limits.ts';
import { RagqlError } from '../errors.ts';
import { parseFilter } from '../rag/index.ts';
import type { CallerServices } from '../schema/context.ts';
import { version } from '../version.ts';

export const mcpPath = '/mcp';

export interface McpDependencies {
  authenticate(key: string | null): Caller | null;
  servicesFor(caller: Caller): CallerServices;
  rateLimits: RateLimits;
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
    const server = mcpServerFor(this.deps.servicesFor(caller));
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

const filterCondition = z.object({
  field: z.string().describe('`title`, `source` or `metadata.<key>`'),
  eq: z.union([z.string(), z.number(), z.boolean()]).optional(),
  ne: z.union([z.string(), z.number(), z.boolean()]).optional(),
  in: z.array(z.union([z.string(), z.number(), z.boolean()])).optional(),
  gt: z.union([z.string(), z.number()]).optional(),
  gte: z.union([z.string(), z.number()]).optional(),
  lt: z.union([z.string(), z.number()]).optional(),
  lte: z.union([z.string(), z.number()]).optional(),
  exists: z.boolean().optional(),
});
const filter = z.array(filterCondition).optional().describe('Every condition must hold; one operator each.');

/** The tools, bound to one caller's services. Types here; ragql's own checks decide the values. */
export function mcpServerFor(services: CallerServices): McpServer {
  const server = new McpServer({ name: 'ragql', version });
  server.registerTool(
    'search',
    {
      description: "Hybrid search (BM25 and vectors) over the caller's documents; the best chunks first.",
      inputSchema: {
        query: z.string(),
        limit: z.number().int().optional(),
        alpha: z.number().optional().describe('0 = keyword only, 1 = vector only'),
        filter,
      },
    },
    (input) =>
      toolResult(async () => {
        const result = await services.search(input);
        return {
          mode: result.mode,
          hits: result.hits.map((hit) => ({
            chunkId: hit.chunk.id,
            documentId: hit.chunk.documentId,
            content: hit.chunk.content,
            score: hit.score,
          })),
        };
      }),
  );
  server.registerTool(
    'answer',
    {
      description: "An answer grounded in the caller's documents, with the chunks it cites.",
      inputSchema: {
        question: z.string(),
        limit: z.number().int().optional(),
        filter,
        model: z.string().optional(),
      },
    },
    (input, extra) =>
      toolResult(async () => {
        const answer = await services.answer({ ...input, signal: extra.signal });
        return {
          text: answer.text,
          citations: answer.citations.map((citation) => ({
            marker: citation.marker,
            chunkId: citation.hit.chunk.id,
            documentId: citation.hit.chunk.documentId,
          })),
          model: answer.model,
          cached: answer.cached,
        };
      }),
  );
  server.registerTool(
    'ingest_documents',
    {
      description: 'Stores documents (chunked and embedded); unchanged ones cost nothing.',
      inputSchema: {
        documents: z.array(
          z.object({
            id: z.string().optional(),
            title: z.string().optional(),
            source: z.string().optional(),
            content: z.string(),
            metadata: z.record(z.string(), z.unknown()).optional(),
          }),
        ),
      },
    },
    ({ documents }, extra) =>
      toolResult(async () => {
        const report = await services.ingest(documents, extra.signal);
        return {
          created: report.created,
          updated: report.updated,
          unchanged: report.unchanged,
          documents: report.documents.map((document) => ({ id: document.id, status: document.status })),
        };
      }),
  );
  server.registerTool(
    'get_document',
    { description: 'One document and its chunks; null when there is none.', inputSchema: { id: z.string() } },
    ({ id }) =>
      toolResult(async () => {
        const [document] = await services.documents.get([id]);
        if (!document) return { document: null };
        const chunks = await services.documents.chunks(id);
        return {
          document: {
            id: document.id,
            title: document.title,
            source: document.source,
            metadata: document.metadata,
            chunks: chunks.map((chunk) => ({ id: chunk.id, content: chunk.content })),
          },
        };
      }),
  );
  server.registerTool(
    'list_documents',
    {
      description: 'The documents in id order, a page at a time: pass the last id as `after` for the next.',
      inputSchema: {
        after: z.string().optional(),
        limit: z.number().int().min(1).max(100).optional(),
        filter,
      },
    },
    ({ after, limit, filter: conditions }) =>
      toolResult(async () => {
        const documents = await services.documents.list({
          ...(after === undefined ? {} : { after }),
          limit: limit ?? 20,
          filter: parseFilter(conditions),
        });
        return { documents: documents.map((document) => ({ id: document.id, title: document.title })) };
      }),
  );
  server.registerTool(
    'delete_document',
    { description: 'Deletes a document and its chunks.', inputSchema: { id: z.string() } },
    ({ id }, extra) =>
      toolResult(async () => ({ deleted: await services.documents.delete(id, extra.signal) })),
  );
  return server;
}

/**
 * A tool's result: its structured content (and the same as JSON text, for clients that read only
 * text); ragql's refusals become MCP tool errors that lead with ragql's code, e.g.
 * `BAD_USER_INPUT: …`, and anything unexpected a masked INTERNAL_SERVER_ERROR.
 */
async function toolResult(run: () => Promise<Record<string, unknown>>): Promise<CallToolResult> {
  try {
    const content = await run();
    return { content: [{ type: 'text', text: JSON.stringify(content) }], structuredContent: content };
  } catch (error) {
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
