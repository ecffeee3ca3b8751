/**
 * One value, one field: an answer's model is `model`; the fields that repeated it stay for
 * existing clients, marked deprecated so that schema tooling and codegen warn.
 */
import { GraphQLInterfaceType, GraphQLObjectType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../../src/schema/index.ts';

function fieldOf(typeName: string, field: string) {
  const type = schema.getType(typeName);
  if (!(type instanceof GraphQLObjectType || type instanceof GraphQLInterfaceType)) {
    throw new Error(`${typeName} is not an object or interface type`);
  }
  return type.getFields()[field];
}

describe('deprecated answer fields', () => {
  it('keeps model and deprecates generator and routing.model, pointing at model', () => {
    for (const typeName of ['GeneratedAnswer', 'Answer', 'AnswerCompleted']) {
      expect(fieldOf(typeName, 'model')?.deprecationReason, typeName).toBeUndefined();
      expect(fieldOf(typeName, 'generator')?.deprecationReason, typeName).toMatch(/\bmodel\b/);
    }
    expect(fieldOf('Routing', 'model')?.deprecationReason).toMatch(/GeneratedAnswer\.model/);
  });
});
