/**
 * Scripted chat replies for the OpenAI and Cohere stand-ins. Each stand-in says how its vendor
 * frames a reply on the wire and shapes an error (`ChatDialect`); this module validates the
 * request, decides what the reply is, streams it token by token as a script says (delays, a
 * failure part way, a hang) and records what happened to the connection, so tests can prove that
 * a cancelled answer reaches the vendor.
 *
 * The reply is derived from the prompt: the first sentence of source [1] in the last user message
 * (the format of src/rag/prompt.ts), followed by ` [1]`.
 */
import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { countWords, type RecordedRequest, type RouteHandler, sendJson } from './standin-server.ts';

/**
 * How a scripted stream breaks off: the socket is destroyed, a chunk is not JSON, the vendor's
 * error event, or silence until the client leaves.
 */
export type ChatFailureKind = 'reset' | 'malformed' | 'error-event' | 'hang';

/** How the stand-in answers one chat request. A request without `stream` uses only `reply` and `tokens`. */
export interface ChatScript {
  /** The reply to send instead of the one derived from the prompt. */
  reply?: string;
  /** The exact tokens to send (overrides `reply`). */
  tokens?: readonly string[];
  /** Milliseconds to wait before writing each token. @default 0 */
  tokenDelayMs?: number;
  /** Send this many tokens, then fail this way instead of finishing. */
  failAfterTokens?: { count: number; kind: ChatFailureKind };
  /**
   * Stop writing and wait until the client leaves: `'after-headers'` sends the status and headers
   * first, `'before-headers'` sends nothing at all.
   */
  hang?: 'after-headers' | 'before-headers';
  /** Report no usage (OpenAI: no usage chunk; Cohere: a `message-end` without `usage`). @default false */
  omitUsage?: boolean;
}

/** What a stand-in observed of one chat request. */
export interface ChatStreamRecord {
  /** The request body as sent, with the vendor's wire field names. */
  body: Record<string, unknown>;
  /** Whether the client asked for a stream. */
  stream: boolean;
  /** The tokens the script meant to send, whole. */
  tokens: readonly string[];
  /** Tokens written so far; stops growing once the client has left. */
  tokensSent: number;
  /** The usage figure for the prompt: whitespace-separated words in all messages. */
  promptTokens: number;
  /** True once the whole reply was written and the response ended normally. */
  completed: boolean;
  /** True when the client closed the connection before the stand-in had written all it was scripted to. */
  closedEarly: boolean;
  /** Resolves to `performance.now()` when the connection closed, for whatever reason. */
  closed: Promise<number>;
}

/** The usage a stand-in reports, in words (see `countWords`). */
export interface WireUsage {
  promptTokens: number;
  completionTokens: number;
}

/** How one vendor frames a chat reply. Each method returns raw bytes to write (SSE frames). */
export interface ChatWireFormat {
  /** Frames before the first token. */
  opening(): string;
  /** The frame carrying one token; `index` counts from 0. */
  token(text: string, index: number): string;
  /** Frames after the last token; `usage` is null when the script omits it. */
  closing(usage: WireUsage | null): string;
  /** A frame that is not valid JSON. */
  malformed(): string;
  /** The vendor's error reported inside an open stream. */
  errorEvent(): string;
  /** The whole reply as one JSON body, for a request without `stream`. */
  completion(reply: string, usage: WireUsage): unknown;
}

/** A chat request the vendor's route has validated. */
interface ChatCall {
  body: Record<string, unknown>;
  messages: readonly ChatWireMessage[];
  stream: boolean;
  wire: ChatWireFormat;
}

/** What a vendor's chat route needs besides the script: its framing and its error shape. */
export interface ChatDialect {
  /** The wire format of the reply to one valid request. */
  wireFor(body: Record<string, unknown>): ChatWireFormat;
  /** Answers an invalid request with HTTP 400 in the vendor's error shape. */
  refuse(response: ServerResponse, problem: string): void;
}

export interface ChatWireMessage {
  role: string;
  /** A string, or a list of content parts such as `{ type: 'text', text }`. */
  content: unknown;
}

/** What a stand-in adds to its public API for chat. */
export interface ChatScripting {
  /** Every chat request received (and not failed by `failNext`), in order. */
  chatStreams: ChatStreamRecord[];
  /** Queues a script for the next chat request; calls queue up, one script per request. */
  scriptNextChat(script: ChatScript): void;
  /** The script for chat requests when the queue is empty. @default {} (the derived reply, at once) */
  setDefaultChatScript(script: ChatScript): void;
}

/** What the stand-in answers when the prompt has no source [1]. */
export const noSourcesReply = 'I have no sources to answer from.';

/** The reply a stand-in derives from a prompt: source [1]'s first sentence, cited. */
export function replyFromPrompt(messages: readonly ChatWireMessage[]): string {
  const lastUserMessage = messages.findLast((message) => message.role === 'user');
  const prompt = lastUserMessage ? messageText(lastUserMessage.content) : '';
  const source = /<source id="1"[^>]*>\n([\s\S]*?)\n<\/source>/.exec(prompt)?.[1]?.trim() ?? '';
  if (source === '') return noSourcesReply;
  const sentence = /^[\s\S]*?[.!?](?=\s|$)/.exec(source)?.[0] ?? source;
  return `${sentence.trim()} [1]`;
}

/** A reply as tokens: each word with the whitespace before it. */
export function splitIntoTokens(reply: string): string[] {
  return reply.match(/\s*\S+/g) ?? [];
}

/** Why a chat request body is invalid, in words for the vendor's error; null when it is valid. */
function chatRequestProblem(body: Record<string, unknown>): string | null {
  if (typeof body.model !== 'string' || body.model === '') return 'model is required';
  const { messages } = body;
  if (!Array.isArray(messages) || messages.length === 0) return 'messages must be a non-empty list';
  const wellFormed = messages.every(
    (message: unknown) =>
      typeof message === 'object' &&
      message !== null &&
      typeof (message as ChatWireMessage).role === 'string' &&
      'content' in message,
  );
  return wellFormed ? null : 'every message needs a role and content';
}

/** A stand-in's chat state: the public `ChatScripting`, and a route handler for each vendor's dialect. */
export function createChatScripting(): ChatScripting & {
  chatRoute(dialect: ChatDialect): RouteHandler<RecordedRequest>;
} {
  const chatStreams: ChatStreamRecord[] = [];
  const queue: ChatScript[] = [];
  let defaultScript: ChatScript = {};
  return {
    chatStreams,
    scriptNextChat(script) {
      queue.push(script);
    },
    setDefaultChatScript(script) {
      defaultScript = script;
    },
    chatRoute: (dialect) => async (request, response) => {
      const body = (request.body ?? {}) as Record<string, unknown>;
      const problem = chatRequestProblem(body);
      if (problem) {
        dialect.refuse(response, problem);
        return;
      }
      const messages = body.messages as ChatWireMessage[];
      const script = queue.shift() ?? defaultScript;
      const tokens = script.tokens ?? splitIntoTokens(script.reply ?? replyFromPrompt(messages));
      const call = { body, messages, stream: body.stream === true, wire: dialect.wireFor(body) };
      const stream = new ScriptedStream(call, response, tokens);
      chatStreams.push(stream.record);
      await stream.play(script);
    },
  };
}

/** One chat response being written, watching its connection so it stops the moment the client leaves. */
class ScriptedStream {
  readonly record: ChatStreamRecord;
  /** Aborts when the connection closes: cancels a pending token delay and stops all writes. */
  private readonly connection = new AbortController();
  private finished = false;
  private readonly call: ChatCall;
  private readonly response: ServerResponse;

  constructor(call: ChatCall, response: ServerResponse, tokens: readonly string[]) {
    this.call = call;
    this.response = response;
    const { promise: closed, resolve: resolveClosed } = Promise.withResolvers<number>();
    this.record = {
      body: call.body,
      stream: call.stream,
      tokens,
      tokensSent: 0,
      promptTokens: call.messages.reduce((sum, message) => sum + countWords(messageText(message.content)), 0),
      completed: false,
      closedEarly: false,
      closed,
    };
    response.once('close', () => {
      this.record.closedEarly = !this.finished;
      this.connection.abort();
      resolveClosed(performance.now());
    });
  }

  async play(script: ChatScript): Promise<void> {
    const { call, record } = this;
    if (!call.stream) {
      record.tokensSent = record.tokens.length;
      this.finished = true;
      record.completed = true;
      sendJson(this.response, 200, call.wire.completion(record.tokens.join(''), this.usage()));
      return;
    }
    if (script.hang === 'before-headers') return this.hangUntilClosed();
    this.response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    this.response.flushHeaders();
    if (script.hang === 'after-headers') return this.hangUntilClosed();
    this.write(call.wire.opening());
    const failure = script.failAfterTokens;
    const tokensToSend = Math.min(record.tokens.length, failure?.count ?? Number.POSITIVE_INFINITY);
    for (let index = 0; index < tokensToSend; index += 1) {
      if (script.tokenDelayMs && !(await this.wait(script.tokenDelayMs))) return;
      if (!this.write(call.wire.token(record.tokens[index] ?? '', index))) return;
      record.tokensSent += 1;
    }
    if (failure) {
      // The failure comes where the next token would have: a reset sent right behind a token can
      // make the client's socket discard that token unread.
      if (script.tokenDelayMs && !(await this.wait(script.tokenDelayMs))) return;
      return this.fail(failure.kind);
    }
    this.write(call.wire.closing(script.omitUsage ? null : this.usage()));
    this.finished = true;
    record.completed = true;
    this.response.end();
  }

  private usage(): WireUsage {
    return { promptTokens: this.record.promptTokens, completionTokens: this.record.tokensSent };
  }

  private async fail(kind: ChatFailureKind): Promise<void> {
    if (kind === 'hang') return this.hangUntilClosed();
    this.finished = true;
    if (kind === 'reset') {
      if (this.connection.signal.aborted) return;
      // Let the tokens already written reach the client first: destroy() drops unflushed data.
      await new Promise((resolve) => this.response.write('', resolve));
      this.response.destroy();
      return;
    }
    this.write(kind === 'malformed' ? this.call.wire.malformed() : this.call.wire.errorEvent());
    this.response.end();
  }

  /** Writes unless the client has left; says whether it wrote. */
  private write(frames: string): boolean {
    if (this.connection.signal.aborted) return false;
    if (frames !== '') this.response.write(frames);
    return true;
  }

  /** Waits, unless the client leaves first (which cancels the timer); says whether the client is still there. */
  private async wait(milliseconds: number): Promise<boolean> {
    try {
      await delay(milliseconds, undefined, { signal: this.connection.signal });
      return true;
    } catch {
      return false;
    }
  }

  private async hangUntilClosed(): Promise<void> {
    await this.record.closed;
  }
}

/** The text of a message's content: a string, or the text parts of a list. */
function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part: unknown) =>
      typeof (part as { text?: unknown })?.text === 'string' ? (part as { text: string }).text : '',
    )
    .join('');
}
