import {
  type DocumentNode,
  type FieldNode,
  type GraphQLField,
  type GraphQLSchema,
  getArgumentValues,
  getOperationAST,
  getVariableValues,
  Kind,
  TypeInfo,
  visit,
  visitWithTypeInfo,
} from 'graphql';
import type { RetrieverChoice } from '../plugin-api/api.ts';
import type { PluginRegistry } from '../plugin-api/registry.ts';
import { maxCandidates } from '../rag/retrieval.ts';
import { isCountUpTo, maxSearchLimit, searchDefaults } from '../rag/search.ts';

/** The fields whose cost grows with what they return, by parent type and name. */
const retrievalFields = new Set(['Query.search', 'Query.answer', 'Subscription.answerStream']);
/** Relay connections: armor multiplies by `first`/`last`, but only when written inline. */
const connectionFields = new Set(['Query.documents']);

export interface SizedRequest {
  schema: GraphQLSchema;
  document: DocumentNode;
  variables: Readonly<Record<string, unknown>> | null | undefined;
  operationName: string | null | undefined;
}

/** A document's fields whose size their arguments say, found once per document. */
interface SizedField {
  node: FieldNode;
  definition: GraphQLField<unknown, unknown>;
  kind: 'retrieval' | 'connection';
}

/**
 * How much each field of a request may return, as the multiplier armor's cost limit applies to
 * it. A search or answer returns its hits (`limit`, or the reranker's `topN`) times the chunks
 * each hit may span (the retriever's `chunksPerHit`, e.g. a parent-document window), or reranks
 * `candidates` when they are more, counted in units of a default search (10 hits of one chunk).
 * A connection returns `first` or `last`, from a variable too.
 */
export class ResultSizes {
  private readonly fieldsByDocument = new WeakMap<DocumentNode, SizedField[]>();
  private readonly plugins: PluginRegistry;

  constructor(plugins: PluginRegistry) {
    this.plugins = plugins;
  }

  /** The multipliers of the request's sized fields, in document order. */
  multipliersOf(request: SizedRequest): number[] {
    const fields = this.sizedFields(request.schema, request.document);
    if (fields.length === 0) return [];
    const operation = getOperationAST(request.document, request.operationName);
    // Variables that do not fit are refused by execution; counted as absent meanwhile.
    const variables =
      operation?.variableDefinitions?.length && request.variables
        ? (getVariableValues(request.schema, operation.variableDefinitions, request.variables).coerced ?? {})
        : {};
    return fields.map(({ node, definition, kind }) => {
      let args: Record<string, unknown>;
      try {
        args = getArgumentValues(definition, node, variables);
      } catch {
        return 1;
      }
      return kind === 'retrieval'
        ? this.retrievalMultiplier(args)
        : withinOr(args.first ?? args.last, Number.MAX_SAFE_INTEGER, 1);
    });
  }

  /**
   * The document with each sized field given the `first` argument armor multiplies by: a copy
   * that only armor reads. Armor reads the first `first` or `last` it finds, so this one goes
   * before the field's own.
   */
  sizedDocument(schema: GraphQLSchema, document: DocumentNode, multipliers: readonly number[]): DocumentNode {
    const fields = this.sizedFields(schema, document);
    const multiplierOf = new Map(fields.map((field, index) => [field.node, multipliers[index] ?? 1]));
    return visit(document, {
      Field(node): FieldNode | undefined {
        const multiplier = multiplierOf.get(node);
        if (multiplier === undefined) return undefined;
        const first = {
          kind: Kind.ARGUMENT,
          name: { kind: Kind.NAME, value: 'first' },
          value: { kind: Kind.INT, value: String(multiplier) },
        } as const;
        return { ...node, arguments: [first, ...(node.arguments ?? [])] };
      },
    });
  }

  private sizedFields(schema: GraphQLSchema, document: DocumentNode): SizedField[] {
    let fields = this.fieldsByDocument.get(document);
    if (fields) return fields;
    const found: SizedField[] = [];
    const typeInfo = new TypeInfo(schema);
    visit(
      document,
      visitWithTypeInfo(typeInfo, {
        Field(node) {
          const definition = typeInfo.getFieldDef();
          const parent = typeInfo.getParentType();
          if (!definition || !parent) return;
          const name = `${parent.name}.${definition.name}`;
          if (retrievalFields.has(name)) found.push({ node, definition, kind: 'retrieval' });
          else if (connectionFields.has(name)) found.push({ node, definition, kind: 'connection' });
        },
      }),
    );
    fields = found;
    this.fieldsByDocument.set(document, fields);
    return fields;
  }

  private retrievalMultiplier(args: Record<string, unknown>): number {
    const limit = withinOr(args.limit, maxSearchLimit, searchDefaults.limit);
    const reranker = (args.reranker ?? null) as { topN?: unknown; candidates?: unknown } | null;
    const hits = reranker ? withinOr(reranker.topN, maxSearchLimit, limit) : limit;
    const retriever = (args.retriever ?? null) as RetrieverChoice | null;
    const chunks = hits * (retriever ? this.plugins.chunksPerHit(retriever) : 1);
    const candidates = reranker ? withinOr(reranker.candidates, maxCandidates, 0) : 0;
    return Math.max(1, Math.ceil(Math.max(chunks, candidates) / searchDefaults.limit));
  }
}

/**
 * A whole number from 1 to `max` as given, else the fallback: execution refuses what is out of
 * range with BAD_USER_INPUT, which says more than a cost refusal would.
 */
function withinOr(value: unknown, max: number, fallback: number): number {
  return isCountUpTo(value, max) ? value : fallback;
}
