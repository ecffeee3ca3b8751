import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { RagqlError } from '../errors.ts';
import type { RateLimits, StreamSlot } from '../gateway/rate-limits.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { RagqlContext } from '../schema/index.ts';
import { isWebSocketOperation, type TransportContext } from './transport-context.ts';

/**
 * Applies the caller's tier to every operation on every transport: each counts against requests
 * per minute, and a subscription holds a stream slot until it ends. An operation over a limit gets
 * RATE_LIMITED with `retryAfter` (seconds), and over HTTP the status 429 with a Retry-After header.
 */
export function useRateLimits(limits: RateLimits, metrics: Metrics): Plugin<RagqlContext> {
  /** The GraphQL error for a RATE_LIMITED refusal, or nothing when the check passed. */
  const refusalOf = async (context: RagqlContext & TransportContext, check: () => Promise<void>) => {
    try {
      await check();
      return null;
    } catch (error) {
      if (!(error instanceof RagqlError && error.code === 'RATE_LIMITED')) throw error;
      metrics.rateLimitRejections.inc({ tier: context.caller.tier, limit: String(error.details?.limit) });
      const retryAfter = Number(error.details?.retryAfter);
      // Yoga turns `http` into the response's status and headers; a WebSocket has neither.
      const http = { status: 429, headers: { 'retry-after': String(retryAfter) } };
      return createGraphQLError(error.message, {
        extensions: { code: 'RATE_LIMITED', retryAfter, ...(isWebSocketOperation(context) ? {} : { http }) },
      });
    }
  };
  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const context = contextOf(args);
      const refusal = await refusalOf(context, () => limits.admitRequest(context.caller));
      if (refusal) setResultAndStopExecution({ errors: [refusal] });
    },
    async onSubscribe({ args, setResultAndStopExecution }) {
      const context = contextOf(args);
      const { caller } = context;
      let slot: StreamSlot | undefined;
      const refusal = await refusalOf(context, async () => {
        await limits.admitRequest(caller);
        slot = await limits.openStream(caller);
      });
      if (refusal) {
        setResultAndStopExecution({ errors: [refusal] });
        return;
      }
      return {
        onSubscribeResult({ result, setResult }) {
          // A subscription refused before it streams (bad input) never ends as a stream.
          if (!isAsyncIterable(result)) {
            void slot?.release();
            return;
          }
          setResult(releasingWhenDone(result, () => slot?.release()));
        },
      };
    },
  };
}

/**
 * The stream, giving its slot back before it completes (or when the client leaves), so that a
 * client that starts its next stream on completion finds the slot free.
 */
async function* releasingWhenDone<T>(stream: AsyncIterable<T>, release: () => Promise<void> | undefined) {
  try {
    yield* stream;
  } finally {
    await release();
  }
}

function isAsyncIterable(value: object): value is AsyncIterable<unknown> {
  return Symbol.asyncIterator in value;
}

function contextOf(args: { contextValue: unknown }): RagqlContext & TransportContext {
  return args.contextValue as RagqlContext & TransportContext;
}
