import { dateOf, dayMs, type ModelUsage, maxUsageDays, type UsageDay } from '../access/usage-ledger.ts';
import { badInput } from '../errors.ts';
import { builder } from './builder.ts';

const usageFields = {
  answers:
    "Answers written (answers served from the cache cost nothing and are not counted). Other model calls made for them (plugins', the router's classifier's) add their tokens and cost but are not answers.",
  unpricedAnswers: 'Answers of models whose price ragql does not know: their cost is not in costUsd.',
};

const ModelUsageType = builder.objectRef<ModelUsage>('ModelUsage').implement({
  description: "One model's share of a day.",
  fields: (t) => ({
    model: t.exposeString('model'),
    answers: t.exposeInt('answers', { description: usageFields.answers }),
    promptTokens: t.exposeInt('promptTokens'),
    completionTokens: t.exposeInt('completionTokens'),
    totalTokens: t.exposeInt('totalTokens'),
    costUsd: t.exposeFloat('costUsd'),
    unpricedAnswers: t.exposeInt('unpricedAnswers', { description: usageFields.unpricedAnswers }),
  }),
});

const UsageDayType = builder.objectRef<UsageDay>('UsageDay').implement({
  description: "The caller's tenant's answers on one day (UTC): tokens as providers reported them, and cost.",
  fields: (t) => ({
    date: t.exposeString('date', { description: 'YYYY-MM-DD, UTC.' }),
    answers: t.exposeInt('answers', { description: usageFields.answers }),
    promptTokens: t.exposeInt('promptTokens'),
    completionTokens: t.exposeInt('completionTokens'),
    totalTokens: t.exposeInt('totalTokens'),
    costUsd: t.exposeFloat('costUsd', { description: 'At the configured or list prices.' }),
    unpricedAnswers: t.exposeInt('unpricedAnswers', { description: usageFields.unpricedAnswers }),
    models: t.expose('models', { type: [ModelUsageType] }),
  }),
});

const datePattern = /^(\d{4})-\d{2}-\d{2}$/;
/** Days before `to` that `from` is when left out: a 30-day report. */
const defaultDaysBefore = 29;
/** Years a date argument may name: four digits, and none before the ledger could have recorded. */
const firstYear = 1970;
const lastYear = 9999;

/** A YYYY-MM-DD argument, checked to be a real calendar date from 1970 to 9999. */
function parseDate(name: string, value: string): string {
  const year = Number(datePattern.exec(value)?.[1]);
  const midnight = Date.parse(`${value}T00:00:00Z`);
  if (
    !(year >= firstYear && year <= lastYear) ||
    Number.isNaN(midnight) ||
    dateOf(new Date(midnight)) !== value
  ) {
    throw badInput(
      `${name} must be a calendar date from ${firstYear}-01-01 to ${lastYear}-12-31 as YYYY-MM-DD, e.g. 2026-01-31.`,
      { argument: name },
    );
  }
  return value;
}

builder.queryField('usage', (t) =>
  t.field({
    type: [UsageDayType],
    description:
      "The caller's tenant's token usage and cost by day, oldest first; days without answers are left out.",
    args: {
      from: t.arg.string({
        required: false,
        description: `YYYY-MM-DD (UTC), inclusive. Default: ${defaultDaysBefore} days before \`to\`.`,
      }),
      to: t.arg.string({ required: false, description: 'YYYY-MM-DD (UTC), inclusive. Default: today.' }),
    },
    resolve: (_root, args, context) => {
      // An empty string is a date that is wrong, not one left out.
      const to = typeof args.to === 'string' ? parseDate('to', args.to) : dateOf(new Date());
      const from =
        typeof args.from === 'string'
          ? parseDate('from', args.from)
          : dateOf(new Date(Date.parse(to) - defaultDaysBefore * dayMs));
      const days = (Date.parse(to) - Date.parse(from)) / dayMs + 1;
      if (days < 1 || days > maxUsageDays) {
        throw badInput(`from must not be after to, and the span at most ${maxUsageDays} days.`, { from, to });
      }
      return context.services.usage(from, to);
    },
  }),
);
