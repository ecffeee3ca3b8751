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
 * graphql-armor's cost limit with a tier's maximum, for any request: GraphQL operations (through
 * useTierQueryCost) and the MCP tools (each checked as the GraphQL operation it stands for).
 * Verdicts are cached by document, maximum and the size of what each field returns.
 *
 * Armor counts fields, and multiplies a field's cost only by a literal `first` or `last`; each
 * search, answer and connection is multiplied here by what it may return (ResultSizes), so that a
 * tier's maximum bounds the response, not only the number of fields.
 */
export class TierCost {
  private readonly tiers: Readonly<Record<string, Tier>>;
  private readonly sizes: ResultSizes;
  /** Per document, by maximum and multipliers: why it costs too much, or null. */
  private readonly verdicts = new WeakMap<DocumentNode, LRUCache<string, { rejection: string | null }>>();

  constructor(tiers: Readonly<Record<string, Tier>>, plugins: PluginRegistry) {
    this.tiers = tiers;
    this.sizes = new ResultSizes(plugins);
  }

  /** Why the request costs more than the tier allows (saying so), or null when it does not. */
  refusal(request: SizedRequest, tier: string): { message: string; maxCost: number } | null {
    const maxCost = this.tiers[tier]?.maxQueryCost;
    if (maxCost === undefined) return null;
    const rejection = this.rejectionOf(request, maxCost);
    if (rejection === null) return null;
    return { message: `${rejection} The ${tier} tier allows a cost of ${maxCost}.`, maxCost };
  }

  private rejectionOf(request: SizedRequest, maxCost: number): string | null {
    const { schema, document } = request;
    const multipliers = this.sizes.multipliersOf(request);
    const key = `${maxCost}:${multipliers.join(',')}`;
    let byKey = this.verdicts.get(document);
    if (!byKey) {
      byKey = new LRUCache({ max: verdictsPerDocument });
      this.verdicts.set(document, byKey);
    }
    let verdict = byKey.get(key)?.rejection;
    if (verdict === undefined) {
      let rejection: string | null = null;
      validate(schema, this.sizes.sizedDocument(schema, document, multipliers), [
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
  }
}

/**
 * The tier cost limit on GraphQL operations. It runs before execution rather than as a
 * validation rule because Yoga caches validation by document and rule names, which would let one
 * tier's verdict serve another.
 */
export function useTierQueryCost(cost: TierCost): Plugin<RagqlContext> {
  const refusal = (args: {
    schema: GraphQLSchema;
    document: DocumentNode;
    contextValue: unknown;
    variableValues?: SizedRequest['variables'];
    operationName?: SizedRequest['operationName'];
  }) => {
    const context = args.contextValue as RagqlContext & TransportContext;
    const refused = cost.refusal(
      {
        schema: args.schema,
        document: args.document,
        variables: args.variableValues,
        operationName: args.operationName,
      },
      context.caller.tier,
    );
    if (refused === null) return null;
    return createGraphQLError(refused.message, {
      extensions: {
        code: 'GRAPHQL_VALIDATION_FAILED',
        maxQueryCost: refused.maxCost,
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
