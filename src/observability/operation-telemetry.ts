import { type ExecutionArgs, getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';

/** What the logs need of the context: whose operation it was, and its request id. */
interface OperationContext {
  tenant?: string;
  requestId?: string;
}

/**
 * Counts, times and logs every GraphQL operation on every transport (one `operation finished`
 * line with request id, tenant, operation, outcome and latency), and counts the subscriptions
 * streaming now.
 */
export function useOperationTelemetry(metrics: Metrics, logger: Logger): Plugin {
  const record = (args: ExecutionArgs, outcome: 'success' | 'error', started: number) => {
    // The document's own name: clients need not repeat it as operationName.
    const operation = getOperationAST(args.document, args.operationName);
    const type = operation?.operation ?? 'unknown';
    const seconds = (performance.now() - started) / 1000;
    const labels = { operation: metrics.operationLabel(operation?.name?.value), type, outcome };
    metrics.operations.inc(labels);
    metrics.operationSeconds.observe(labels, seconds);
    const context = (args.contextValue ?? {}) as OperationContext;
    logger.info(
      {
        requestId: context.requestId,
        tenant: context.tenant,
        operation: operation?.name?.value ?? null,
        type,
        outcome,
        latencyMs: Math.round(seconds * 1e6) / 1000,
      },
      'operation finished',
    );
  };
  return {
    onExecute({ args }) {
      const started = performance.now();
      return {
        onExecuteDone({ result }) {
          const outcome = 'errors' in result && result.errors?.length ? 'error' : 'success';
          record(args, outcome, started);
        },
      };
    },
    onSubscribe({ args }) {
      const started = performance.now();
      return {
        onSubscribeResult({ result }) {
          if (!(Symbol.asyncIterator in result)) {
            record(args, 'error', started);
            return;
          }
          metrics.activeSubscriptions.inc();
          return {
            onEnd() {
              metrics.activeSubscriptions.dec();
              record(args, 'success', started);
            },
          };
        },
      };
    },
  };
}
