import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { type DocumentNode, type GraphQLSchema, validate } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import type { Tier } from '../gateway/tiers.ts';
import type { RagqlContext } from '../schema/index.ts';
import { isWebSocketOperation, type TransportContext } from './transport-context.ts';

/** How graphql-armor counts a query's cost: its defaults, as the global limit used them. */
const costOptions = { objectCost: 2, scalarCost: 1, depthCostFactor: 1.5, ignoreIntrospection: true };

/**
 * graphql-armor's cost limit with the caller's tier's maximum. It runs before execution rather
 * than as a validation rule because Yoga caches validation by document and rule names, which
 * would let one tier's verdict serve another; verdicts are cached here by document and maximum.
 */
export function useTierQueryCost(tiers: Readonly<Record<string, Tier>>): Plugin<RagqlContext> {
  /** Per document and maximum: why it costs too much, or null. */
  const verdicts = new WeakMap<DocumentNode, Map<number, string | null>>();
  const rejectionOf = (schema: GraphQLSchema, document: DocumentNode, maxCost: number) => {
    let byMaximum = verdicts.get(document);
    if (!byMaximum) {
      byMaximum = new Map();
      verdicts.set(document, byMaximum);
    }
    let verdict = byMaximum.get(maxCost);
    if (verdict === undefined) {
      let rejection: string | null = null;
      validate(schema, document, [
        costLimitRule({
          ...costOptions,
          maxCost,
          // Reported here rather than thrown out of validate().
          propagateOnRejection: false,
          onReject: [(_context, error) => (rejection = error.message.replace(/^Syntax Error: /, ''))],
        }),
      ]);
      verdict = rejection;
      byMaximum.set(maxCost, verdict);
    }
    return verdict;
  };
  /** The refusal of a query over the tier's cost, or null. */
  const refusal = (args: { schema: GraphQLSchema; document: DocumentNode; contextValue: unknown }) => {
    const context = args.contextValue as RagqlContext & TransportContext;
    const maxCost = tiers[context.caller.tier]?.maxQueryCost;
    if (maxCost === undefined) return null;
    const rejection = rejectionOf(args.schema, args.document, maxCost);
    if (rejection === null) return null;
    return createGraphQLError(`${rejection} The ${context.caller.tier} tier allows a cost of ${maxCost}.`, {
      extensions: {
        code: 'GRAPHQL_VALIDATION_FAILED',
        maxQueryCost: maxCost,
        ...(isWebSocketOperation(context) ? {} : { http: { status: 400 } }),
      },
    });
  };
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const error = refusal(args);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const error = refusal(args);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
  };
}
