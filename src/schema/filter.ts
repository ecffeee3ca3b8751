import { builder } from './builder.ts';

/** The filter language's input type, shared by search, answers and document listing. */
export const FilterConditionInput = builder.inputType('FilterCondition', {
  description:
    'One condition of a metadata filter; a filter is a list of them that must all hold. ' +
    'Give exactly one operator. On array-valued metadata a condition holds when any element satisfies it.',
  fields: (t) => ({
    field: t.string({ required: true, description: '`title`, `source` or `metadata.<key>`.' }),
    eq: t.field({ type: 'JSON', required: false, description: 'Equal to a string, number or boolean.' }),
    ne: t.field({ type: 'JSON', required: false, description: 'Not equal (a missing field is not equal).' }),
    in: t.field({ type: ['JSON'], required: false, description: 'Equal to one of the values.' }),
    gt: t.field({ type: 'JSON', required: false, description: 'Greater than a number or string.' }),
    gte: t.field({ type: 'JSON', required: false }),
    lt: t.field({ type: 'JSON', required: false }),
    lte: t.field({ type: 'JSON', required: false }),
    exists: t.boolean({ required: false, description: 'The field is present (true) or absent (false).' }),
  }),
});
