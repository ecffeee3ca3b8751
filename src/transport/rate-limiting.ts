import type { ExecutionResult, GraphQLError } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import type { RateLimits, StreamSlot } from '../access/rate-limits.ts';
import { RagqlError } from '../errors.ts';
import type { Metrics } from '../observability/metrics.ts';
import { innermostCause } from '../schema/client-errors.ts';
import type { RagqlContext } from '../schema/index.ts';
import { isWebSocketOperation, type TransportContext } from './transport-context.ts';

/**
 * Applies the caller's tier to every operation on every transport: each counts against requests
 * per minute, and a subscription holds a stream slot until it ends. An operation over a limit gets
 * RATE_LIMITED with `retryAfter` (seconds), and over HTTP the status 429 with a Retry-After header.
 * So does a refusal a resolver throws (a token budget spent), once the operation has run.
 */
export function useRateLimits(limits: RateLimits, metrics: Metrics): Plugin<RagqlContext> {
  /**
   * A refusal counted, as the GraphQL error the client gets. One a resolver threw keeps its
   * details and place in the result, as the error masker would have kept them.
   */
  const refusalError = (
    context: RagqlContext & TransportContext,
    refusal: RagqlError,
    thrown?: GraphQLError,
  ) => {
    metrics.rateLimitRejections.inc({ tier: context.caller.tier, limit: String(refusal.details?.limit) });
    const retryAfter = refusal.details?.retryAfter;
    // Yoga turns `http` into the response's status and headers; a WebSocket has neither.
    const http = {
      status: 429,
      ...(retryAfter === undefined ? {} : { headers: { 'retry-after': String(retryAfter) } }),
    };
    return createGraphQLError(refusal.message, {
      ...(thrown ? { nodes: thrown.nodes, path: thrown.path, source: thrown.source } : {}),
      extensions: {
        ...(thrown ? refusal.details : { retryAfter }),
        code: 'RATE_LIMITED',
        ...(isWebSocketOperation(context) ? {} : { http }),
      },
    });
  };
  /** The GraphQL error for a RATE_LIMITED refusal, or nothing when the check passed. */
  const refusalOf = async (context: RagqlContext & TransportContext, check: () => Promise<void>) => {
    try {
      await check();
      return null;
    } catch (error) {
      if (!isRefusal(error)) throw error;
      return refusalError(context, error);
    }
  };
  /** The result with the refusals its resolvers threw made into counted, HTTP-aware errors. */
  const withRefusals = (context: RagqlContext & TransportContext, result: ExecutionResult) => {
    if (!result.errors?.some((error) => isRefusal(innermostCause(error)))) return null;
    return {
      ...result,
      errors: result.errors.map((error) => {
        const cause = innermostCause(error);
        return isRefusal(cause) ? refusalError(context, cause, error) : error;
      }),
    };
  };
  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const context = contextOf(args);
      const refusal = await refusalOf(context, () => limits.admitRequest(context.caller));
      if (refusal) {
        setResultAndStopExecution({ errors: [refusal] });
        return;
      }
      return {
        onExecuteDone({ result, setResult }) {
          if (isAsyncIterable(result)) return;
          const refused = withRefusals(context, result);
          if (refused) setResult(refused);
        },
      };
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
          // A subscription refused before it streams (bad input, budget) never ends as a stream.
          if (!isAsyncIterable(result)) {
            void slot?.release();
            const refused = withRefusals(context, result);
            if (refused) setResult(refused);
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

function isRefusal(error: unknown): error is RagqlError {
  return error instanceof RagqlError && error.code === 'RATE_LIMITED';
}

function isAsyncIterable(value: object): value is AsyncIterable<unknown> {
  return Symbol.asyncIterator in value;
}

function contextOf(args: { contextValue: unknown }): RagqlContext & TransportContext {
  return args.contextValue as RagqlContext & TransportContext;
}
