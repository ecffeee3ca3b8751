import { type ExecutionArgs, getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Metrics } from './metrics.ts';

/** Counts and times every GraphQL operation on every transport, and the subscriptions streaming now. */
export function useGraphQLMetrics(metrics: Metrics): Plugin {
  const labelsOf = (args: ExecutionArgs, outcome: string) => {
    // The document's own name: clients need not repeat it as operationName.
    const operation = getOperationAST(args.document, args.operationName);
    return {
      operation: metrics.operationLabel(operation?.name?.value),
      type: operation?.operation ?? 'unknown',
      outcome,
    };
  };
  const record = (labels: ReturnType<typeof labelsOf>, started: number) => {
    metrics.operations.inc(labels);
    metrics.operationSeconds.observe(labels, (performance.now() - started) / 1000);
  };
  return {
    onExecute({ args }) {
      const started = performance.now();
      return {
        onExecuteDone({ result }) {
          const outcome = 'errors' in result && result.errors?.length ? 'error' : 'success';
          record(labelsOf(args, outcome), started);
        },
      };
    },
    onSubscribe({ args }) {
      const started = performance.now();
      return {
        onSubscribeResult({ result }) {
          if (!(Symbol.asyncIterator in result)) {
            record(labelsOf(args, 'error'), started);
            return;
          }
          metrics.activeSubscriptions.inc();
          return {
            onEnd() {
              metrics.activeSubscriptions.dec();
              record(labelsOf(args, 'success'), started);
            },
          };
        },
      };
    },
  };
}
