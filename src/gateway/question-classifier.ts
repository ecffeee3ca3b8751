/**
 * Labels a question's complexity for the router, so that simple questions go to a cheap model
 * and complex ones to a strong one: by a cheap model (a tier's `classifierModel`), or, where a
 * tier names none, by a heuristic of the question's shape that needs no model at all.
 */
import { LRUCache } from 'lru-cache';
import { budgetedCompletion } from '../budgeted-completion.ts';
import { RagqlError } from '../errors.ts';
import { sha256Hex } from '../hash.ts';
import type { ChatMessage, ChatModel, TokenBudget, TokenUsage } from '../ports.ts';
import { countTokens } from '../text/token-count.ts';

/** What the config file's `classifier` says: each label's model, and how long a label may take. */
export interface ClassifierSettings {
  /** Label → the chat model its questions go to, e.g. `{ simple: 'gpt-4o-mini', complex: 'gpt-4o' }`. */
  labels: Record<string, string>;
  /** The longest a classifier model may take; past it the question takes the default route. */
  timeoutMs: number;
}

/** The labels the heuristic gives. */
export const heuristicLabels = ['simple', 'medium', 'complex'] as const;
export type HeuristicLabel = (typeof heuristicLabels)[number];

export const defaultClassifierTimeoutMs = 1500;
/** Labels kept per question and classifier model, for all tenants together. */
const cachedLabels = 10_000;
const labelLifetimeMs = 3_600_000;
/** A label is a word or two; a model that says more is cut short. */
const labelOutputTokens = 8;

/** Who a question is classified for: its labels are the caller's, and so is the call's cost. */
export interface ClassifyRequest {
  question: string;
  tenant: string;
  tier: string;
  budget: TokenBudget | null;
  signal: AbortSignal | undefined;
}

export type Classification =
  | { label: string; by: 'model' | 'heuristic' }
  /** The model did not answer in time, failed, or answered with no label: the default route. */
  | { label: null; why: 'timed out' | 'failed' | 'no label' };

export interface QuestionClassifierOptions {
  settings: ClassifierSettings;
  /** Told of every classifier model call once it ends: metrics and the tenant's usage. */
  onCall(call: { tenant: string; tier: string; model: ChatModel; usage: TokenUsage }): Promise<void>;
}

export class QuestionClassifier {
  private readonly settings: ClassifierSettings;
  private readonly onCall: QuestionClassifierOptions['onCall'];
  private readonly labels = new LRUCache<string, string>({ max: cachedLabels, ttl: labelLifetimeMs });

  constructor(options: QuestionClassifierOptions) {
    this.settings = options.settings;
    this.onCall = options.onCall;
  }

  /** Each label's model, as configured. */
  get labelModels(): Readonly<Record<string, string>> {
    return this.settings.labels;
  }

  /** The model a label routes to, if the config names one. */
  modelFor(label: string): string | undefined {
    return Object.hasOwn(this.settings.labels, label) ? this.settings.labels[label] : undefined;
  }

  /** Labels the question with `model`, or with the heuristic when there is none. */
  async classify(request: ClassifyRequest, model: ChatModel | null): Promise<Classification> {
    if (!model) return { label: heuristicLabel(request.question), by: 'heuristic' };
    // Per tenant: one tenant's questions never tell another what was asked.
    // Hashed: a question may have 8,192 characters, and 10,000 of them would weigh.
    const key = sha256Hex(JSON.stringify([request.tenant, model.modelId, request.question]));
    const known = this.labels.get(key);
    if (known !== undefined) return { label: known, by: 'model' };
    const timeout = AbortSignal.timeout(this.settings.timeoutMs);
    const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
    let reply: string;
    try {
      reply = await budgetedCompletion({
        model,
        messages: this.prompt(request.question),
        maxOutputTokens: labelOutputTokens,
        signal,
        budget: request.budget,
        onFinished: (call) => this.onCall({ tenant: request.tenant, tier: request.tier, ...call }),
      });
    } catch (error) {
      if (request.signal?.aborted) throw error;
      if (timeout.aborted) return { label: null, why: 'timed out' };
      // The caller's budget refusing the call refuses the answer too; a model failure does not.
      if (error instanceof RagqlError && error.code === 'RATE_LIMITED') throw error;
      return { label: null, why: 'failed' };
    }
    const label = labelIn(reply, Object.keys(this.settings.labels));
    if (label === null) return { label: null, why: 'no label' };
    this.labels.set(key, label);
    return { label, by: 'model' };
  }

  private prompt(question: string): ChatMessage[] {
    const labels = Object.keys(this.settings.labels).join(', ');
    return [
      {
        role: 'system',
        content: `You sort questions by how hard they are to answer well from a set of documents. Reply with exactly one of these labels and nothing else: ${labels}.`,
      },
      { role: 'user', content: question },
    ];
  }
}

/** The first of the labels the reply names as a word of its own, whatever its case. */
function labelIn(reply: string, labels: readonly string[]): string | null {
  const words = reply.toLowerCase().split(/[^\p{L}\p{N}_-]+/u);
  return words.map((word) => labels.find((label) => label.toLowerCase() === word)).find(Boolean) ?? null;
}

/** Words that ask for reasoning rather than a fact. */
const reasoningWords =
  /\b(why|how|explain|compare|contrast|difference|differences|versus|vs|trade-?offs?|evaluate|analy[sz]e|implications?|pros|cons|should)\b/giu;
/** Joints between the parts of a question. */
const clauseJoints = /[,;:]|\b(and|or|but|while|whereas|although|because|if|then|which|whose)\b/giu;

/**
 * The question's complexity from its shape alone: its length in tokens, the words that ask for
 * reasoning (why, how, compare…), its clauses, its question marks and the names in it (capitalised
 * words past the first). A short factual question is simple; a long one asking to compare or explain
 * several things is complex. Crude, free and instant: what routes when no classifier model is set.
 */
export function heuristicLabel(question: string): HeuristicLabel {
  const tokens = countTokens(question);
  const reasoning = question.match(reasoningWords)?.length ?? 0;
  const clauses = question.match(clauseJoints)?.length ?? 0;
  const questions = Math.max(0, (question.match(/\?/g)?.length ?? 0) - 1);
  const names = question
    .split(/\s+/)
    .slice(1)
    .filter((word) => /^\p{Lu}/u.test(word)).length;
  const score =
    Math.min(tokens / 20, 3) +
    reasoning * 1.5 +
    Math.min(clauses, 4) * 0.5 +
    questions +
    Math.min(names, 4) * 0.25;
  if (score < 2) return 'simple';
  return score < 4.5 ? 'medium' : 'complex';
}
