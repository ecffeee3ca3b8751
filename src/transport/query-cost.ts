import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { type DocumentNode, type GraphQLSchema, validate } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';
import type { Tier } from '../access/tiers.ts';
import type { PluginRegistry } from '../plugin-api/registry.ts';
import type { RagqlContext } from '../schema/index.ts';
import { ResultSizes, type SizedRequest } from './result-size.ts';
import { isWebSocketOperation, type TransportContext } from './transport-context.ts';

/** How graphql-armor counts a query's cost: its defaults, as the global limit used them. */
const costOptions = { objectCost: 2, scalarCost: 1, depthCostFactor: 1.5, ignoreIntrospection: true };

/**
 * Verdicts kept per document: one per tier maximum and multipliers seen, so that variables
 * cannot grow the cache without bound.
 */
const verdictsPerDocument = 32;

/**
 * graphql-armor's cost limit with the caller's tier's maximum. It runs before execution rather
 * than as a validation rule because Yoga caches validation by document and rule names, which
 * would let one tier's verdict serve another; verdicts are cached here by document, maximum and
 * the size of what each field returns.
 *
 * Armor counts fields, and multiplies a field's cost only by a literal `first` or `last`; each
 * search, answer and connection is multiplied here by what it may return (ResultSizes), so that a
 * tier's maximum bounds the response, not only the number of fields.
 */
export function useTierQueryCost(
  tiers: Readonly<Record<string, Tier>>,
  plugins: PluginRegistry,
): Plugin<RagqlContext> {
  const sizes = new ResultSizes(plugins);
  /** Per document, by maximum and multipliers: why it costs too much, or null. */
  const verdicts = new WeakMap<DocumentNode, LRUCache<string, { rejection: string | null }>>();
  const rejectionOf = (request: SizedRequest, maxCost: number) => {
    const { schema, document } = request;
    const multipliers = sizes.multipliersOf(request);
    const key = `${maxCost}:${multipliers.join(',')}`;
    let byKey = verdicts.get(document);
    if (!byKey) {
      byKey = new LRUCache({ max: verdictsPerDocument });
      verdicts.set(document, byKey);
    }
    let verdict = byKey.get(key)?.rejection;
    if (verdict === undefined) {
      let rejection: string | null = null;
      validate(schema, sizes.sizedDocument(schema, document, multipliers), [
        costLimitRule({
          ...costOptions,
          maxCost,
          // Reported here rather than thrown out of validate().
          propagateOnRejection: false,
          onReject: [(_context, error) => (rejection = error.message.replace(/^Syntax Error: /, ''))],
        }),
      ]);
      verdict = rejection;
      byKey.set(key, { rejection });
    }
    return verdict;
  };
  /** The refusal of a query over the tier's cost, or null. */
  const refusal = (args: {
    schema: GraphQLSchema;
    document: DocumentNode;
    contextValue: unknown;
    variableValues?: SizedRequest['variables'];
    operationName?: SizedRequest['operationName'];
  }) => {
    const context = args.contextValue as RagqlContext & TransportContext;
    const maxCost = tiers[context.caller.tier]?.maxQueryCost;
    if (maxCost === undefined) return null;
    const rejection = rejectionOf(
      {
        schema: args.schema,
        document: args.document,
        variables: args.variableValues,
        operationName: args.operationName,
      },
      maxCost,
    );
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
