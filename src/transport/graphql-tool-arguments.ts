/**
 * An MCP tool's arguments as the arguments of a GraphQL field: the tool's input schema is made
 * from the field's argument types (names, types, enums, required, descriptions), and its input
 * is coerced by graphql-js exactly as a GraphQL request's variables are (enum values, scalars,
 * input objects), so the tool and the field take the same input and refuse the same mistakes.
 */
import {
  coerceInputValue,
  type DocumentNode,
  type GraphQLArgument,
  type GraphQLInputType,
  type GraphQLSchema,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  parse,
} from 'graphql';
import { z } from 'zod';
import { badInput } from '../errors.ts';

export interface ToolArguments {
  /** The tool's input schema, as the MCP SDK takes it (a zod object shape). */
  shape: Record<string, z.ZodType>;
  /**
   * The GraphQL operation the tool stands for, asking for `selection`: what the tier's cost limit
   * judges, with the tool's input as its variables.
   */
  operation(selection: string): DocumentNode;
  /** The input as the field's resolver would get it; BAD_USER_INPUT listing every problem otherwise. */
  coerce(input: Readonly<Record<string, unknown>>): Record<string, unknown>;
}

/** The arguments of `Query.<field>` or `Mutation.<field>`, all or the ones named. */
export function toolArguments(
  schema: GraphQLSchema,
  root: 'Query' | 'Mutation',
  fieldName: string,
  only?: readonly string[],
): ToolArguments {
  const rootType = root === 'Query' ? schema.getQueryType() : schema.getMutationType();
  const field = rootType?.getFields()[fieldName];
  if (!field) throw new Error(`The schema has no ${root}.${fieldName}`);
  const args = field.args.filter((arg) => !only || only.includes(arg.name));
  return {
    shape: Object.fromEntries(args.map((arg) => [arg.name, described(schemaOf(arg.type), arg)])),
    coerce: (input) => coerce(args, input),
    operation: (selection) => {
      const variables = args.map((arg) => `$${arg.name}: ${String(arg.type)}`).join(', ');
      const passed = args.map((arg) => `${arg.name}: $${arg.name}`).join(', ');
      const keyword = root === 'Query' ? 'query' : 'mutation';
      return parse(
        `${keyword}${variables ? ` (${variables})` : ''} { ${fieldName}${passed ? `(${passed})` : ''} ${selection} }`,
      );
    },
  };
}

function coerce(
  args: readonly GraphQLArgument[],
  input: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const arg of args) {
    const value = input[arg.name] ?? arg.defaultValue;
    if (value === undefined) {
      if (isNonNullType(arg.type)) problems.push(`${arg.name}: is required`);
      continue;
    }
    values[arg.name] = coerceInputValue(value, arg.type, (path, _invalid, error) => {
      problems.push(`${[arg.name, ...path].join('.')}: ${error.message}`);
    });
  }
  if (problems.length > 0) throw badInput(problems.join('; '), { problems });
  return values;
}

function described(type: z.ZodType, source: { description?: string | null }): z.ZodType {
  return source.description ? type.describe(source.description) : type;
}

/** A GraphQL input type as a zod type; nullable types are optional, as GraphQL's are. */
function schemaOf(type: GraphQLInputType): z.ZodType {
  if (isNonNullType(type)) return requiredSchemaOf(type.ofType);
  return requiredSchemaOf(type).nullable().optional();
}

function requiredSchemaOf(type: GraphQLInputType): z.ZodType {
  if (isNonNullType(type)) return requiredSchemaOf(type.ofType);
  if (isListType(type)) return z.array(schemaOf(type.ofType));
  if (isEnumType(type)) {
    const names = type.getValues().map((value) => value.name);
    return described(z.enum(names as [string, ...string[]]), type);
  }
  if (isInputObjectType(type)) {
    const fields = Object.values(type.getFields());
    return described(
      z.object(Object.fromEntries(fields.map((f) => [f.name, described(schemaOf(f.type), f)]))),
      type,
    );
  }
  if (isScalarType(type)) return described(scalarSchemas[type.name] ?? z.unknown(), type);
  throw new Error(`No tool schema for the GraphQL type ${String(type)}`);
}

const scalarSchemas: Readonly<Record<string, z.ZodType>> = {
  String: z.string(),
  ID: z.string(),
  Int: z.number().int(),
  Float: z.number(),
  Boolean: z.boolean(),
  DateTime: z.string(),
};
