import { type ExecutionArgs, getOperationAST, type OperationDefinitionNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';
import { currentRequestId } from './request-context.ts';

/**
 * How an operation ended: it ran and answered without errors (`success`) or with some (`error`,
 * also a subscription whose stream failed), or it was refused before it ran (`refused`: it did not
 * parse or validate, cost more than the tier allows, came without a valid key, or hit a rate limit).
 */
export type OperationOutcome = 'success' | 'error' | 'refused';

/** What telemetry needs of the context: whose operation it was, its request id and its parameters. */
interface OperationContext {
  tenant?: string;
  requestId?: string;
  /** The request's GraphQL parameters, as Yoga and the WebSocket transport put them in the context. */
  params?: { operationName?: string | null };
}

/** Operations that ended without a GraphQL error but failed their caller (see markOperationFailed). */
const failedOperations = new WeakSet<object>();

/**
 * Marks the operation of `context` as failed though its result carries no error: an answer stream
 * that ends in AnswerFailed completes normally, and would otherwise count as a success.
 */
export function markOperationFailed(context: object): void {
  failedOperations.add(context);
}

/**
 * Yoga's parse cache throws a document's earlier parse failure before any plugin's parse hook
 * sees it, so it keeps none: every unparsable document reaches the telemetry (and costs little to
 * parse again, since graphql-armor stops a parse at its token limit).
 */
export const parseFailuresUncached = { get: () => undefined, set: () => {} };

/**
 * Counts, times and logs every GraphQL operation on every transport (one `operation finished`
 * line with request id, tenant, operation, outcome and latency), refused ones included, and counts
 * the subscriptions streaming now.
 */
export function useOperationTelemetry(metrics: Metrics, logger: Logger): Plugin {
  const record = (
    operation: OperationDefinitionNode | null | undefined,
    context: OperationContext,
    outcome: OperationOutcome,
    started: number,
  ) => {
    const type = operation?.operation ?? 'unknown';
    const seconds = (performance.now() - started) / 1000;
    const labels = { operation: metrics.operationLabel(operation?.name?.value), type, outcome };
    metrics.operations.inc(labels);
    metrics.operationSeconds.observe(labels, seconds);
    logger.info(
      {
        // Refused before the context was built, an operation has only the request's id.
        requestId: context.requestId ?? currentRequestId(),
        tenant: context.tenant,
        operation: operation?.name?.value ?? null,
        type,
        outcome,
        latencyMs: Math.round(seconds * 1e6) / 1000,
      },
      'operation finished',
    );
  };
  // The document's own name: clients need not repeat it as operationName.
  const operationOf = (args: ExecutionArgs) => getOperationAST(args.document, args.operationName);
  const contextOf = (args: ExecutionArgs) => (args.contextValue ?? {}) as OperationContext;
  return {
    onResponse({ response }) {
      // useAuthentication answers 401 before any GraphQL hook runs: the one refusal counted here.
      if (response.status === 401) record(null, {}, 'refused', performance.now());
    },
    onParse({ context }) {
      const started = performance.now();
      return ({ result }) => {
        if (result instanceof Error) record(null, context as OperationContext, 'refused', started);
      };
    },
    onValidate({ context, params }) {
      const started = performance.now();
      return ({ valid }) => {
        if (valid) return;
        const { operationName } = (context as OperationContext).params ?? {};
        record(getOperationAST(params.documentAST, operationName), context, 'refused', started);
      };
    },
    onExecute({ args, executeFn, setExecuteFn }) {
      const started = performance.now();
      // A later plugin may stop the operation before it runs (query cost, rate limit).
      let ran = false;
      setExecuteFn((executionArgs) => {
        ran = true;
        return executeFn(executionArgs);
      });
      return {
        onExecuteDone({ result }) {
          const failed = 'errors' in result && result.errors?.length;
          record(
            operationOf(args),
            contextOf(args),
            ran ? (failed ? 'error' : 'success') : 'refused',
            started,
          );
        },
      };
    },
    onSubscribe({ args, subscribeFn, setSubscribeFn }) {
      const started = performance.now();
      let ran = false;
      setSubscribeFn((subscriptionArgs) => {
        ran = true;
        return subscribeFn(subscriptionArgs);
      });
      let streaming = false;
      /** Counts a stream once, however it ends: completed, left by its client, or thrown. */
      const finish = (outcome: OperationOutcome) => {
        if (!streaming) return;
        streaming = false;
        metrics.activeSubscriptions.dec();
        record(operationOf(args), contextOf(args), outcome, started);
      };
      return {
        onSubscribeResult({ result }) {
          if (!(Symbol.asyncIterator in result)) {
            record(operationOf(args), contextOf(args), ran ? 'error' : 'refused', started);
            return;
          }
          streaming = true;
          metrics.activeSubscriptions.inc();
          return {
            onEnd: () => finish(failedOperations.has(args.contextValue as object) ? 'error' : 'success'),
          };
        },
        // A stream that throws never reaches onEnd.
        onSubscribeError: () => finish('error'),
      };
    },
  };
}
