/**
 * Picks the chat model for each question: the client's explicit choice, else the first routing
 * rule that matches and that the caller's tier allows, else (when the config file has a
 * `classifier`) the model of the question's label, else the default model. The model it returns
 * is the tier's fallback chain starting at that choice.
 */

import { defaultFallbacks, type Tier } from '../access/tiers.ts';
import { badInput } from '../errors.ts';
import type { ChatModel, ChatRouter, ModelChoice, RouteRequest } from '../ports.ts';
import { countTokens } from '../text/token-count.ts';
import { type FallbackEvents, withFallbacks } from './fallback-chat-model.ts';
import { heuristicLabels, type QuestionClassifier } from './question-classifier.ts';

/** A routing rule: the questions it matches go to `model`. Every condition given must hold. */
export interface RoutingRule {
  /** Named in `routing.reason`. */
  name: string;
  model: string;
  /** Questions of at least this many tokens (cl100k). */
  minQuestionTokens?: number;
  /** Questions of at most this many tokens. */
  maxQuestionTokens?: number;
  /** Questions in which this regular expression (case-insensitive) finds a match, e.g. `\bcompare\b`. */
  pattern?: string;
}

export interface ModelRouterOptions {
  /** Every chat model by name, each behind its own retries and circuit. */
  models: ReadonlyMap<string, ChatModel>;
  /** The model a question no rule matches goes to. */
  defaultModel: string;
  rules: readonly RoutingRule[];
  tiers: Readonly<Record<string, Tier>>;
  /** Routes the questions no rule takes by their label; absent: they go to the default model. */
  classifier?: QuestionClassifier | undefined;
  events?: FallbackEvents;
}

interface CompiledRule extends RoutingRule {
  regex: RegExp | null;
}

export class ModelRouter implements ChatRouter {
  private readonly models: ReadonlyMap<string, ChatModel>;
  private readonly defaultName: string;
  private readonly rules: CompiledRule[];
  private readonly tiers: Readonly<Record<string, Tier>>;
  private readonly classifier: QuestionClassifier | undefined;
  private readonly events: FallbackEvents;

  /** Throws when a rule or tier names a model that is not configured. */
  constructor(options: ModelRouterOptions) {
    this.models = options.models;
    this.defaultName = options.defaultModel;
    this.tiers = options.tiers;
    this.classifier = options.classifier;
    this.events = options.events ?? {};
    const unknown = [
      ...[options.defaultModel]
        .filter((name) => !this.models.has(name))
        .map((name) => `default model '${name}'`),
      ...options.rules.filter((rule) => !this.models.has(rule.model)).map((rule) => `rule '${rule.name}'`),
      ...Object.entries(options.classifier?.labelModels ?? {})
        .filter(([, model]) => !this.models.has(model))
        .map(([label]) => `classifier label '${label}'`),
      ...Object.entries(options.tiers).flatMap(([tier, settings]) =>
        [
          ...(settings.models ?? []),
          ...settings.fallbacks,
          ...(settings.classifierModel ? [settings.classifierModel] : []),
        ]
          .filter((name) => !this.models.has(name))
          .map((name) => `tier '${tier}' (${name})`),
      ),
    ];
    if (unknown.length > 0) {
      throw new Error(
        `Routing names models that are not configured: ${unknown.join(', ')}. The models are ${[...this.models.keys()].join(', ')}.`,
      );
    }
    const classifierProblems = Object.entries(options.tiers).flatMap(([tier, settings]) =>
      classifierProblemsOf(tier, settings, options.classifier),
    );
    if (classifierProblems.length > 0) {
      throw new Error(`The classifier's configuration does not fit: ${classifierProblems.join('; ')}.`);
    }
    this.rules = options.rules.map((rule) => ({
      ...rule,
      regex: rule.pattern === undefined ? null : new RegExp(rule.pattern, 'iu'),
    }));
  }

  get defaultModel(): ChatModel {
    return this.modelNamed(this.defaultName);
  }

  async choose(request: RouteRequest): Promise<ModelChoice> {
    const byRules = this.byRules(request);
    if (byRules.decided || !this.classifier) return byRules.choice;
    const tier = this.tiers[request.tier];
    const classifierModel = tier?.classifierModel ? this.modelNamed(tier.classifierModel) : null;
    const classification = await this.classifier.classify(
      {
        question: request.question,
        tenant: request.tenant,
        tier: request.tier,
        budget: request.budget ?? null,
        signal: request.signal,
      },
      classifierModel,
    );
    if (classification.label === null) {
      return { ...byRules.choice, reason: `classifier ${classification.why}: ${byRules.choice.reason}` };
    }
    const by = classification.by === 'model' ? 'classifier' : 'heuristic classifier';
    const target = this.classifier.modelFor(classification.label);
    if (!target || !this.allows(request.tier, target)) {
      return {
        ...byRules.choice,
        reason: `${by}: ${classification.label}, no model for it: ${byRules.choice.reason}`,
      };
    }
    return this.chain(request.tier, target, `${by}: ${classification.label}`);
  }

  chooseByRules(request: Pick<RouteRequest, 'question' | 'tier' | 'requested'>): ModelChoice {
    return this.byRules(request).choice;
  }

  /**
   * The choice of the client and the rules; `decided` is false when only the default (or the
   * tier's first model) was left, which the classifier may improve on.
   */
  private byRules(request: Pick<RouteRequest, 'question' | 'tier' | 'requested'>): {
    choice: ModelChoice;
    decided: boolean;
  } {
    const allowed = (name: string) => this.allows(request.tier, name);
    if (request.requested) {
      if (!this.models.has(request.requested) || !allowed(request.requested)) {
        throw badInput(`Model '${request.requested}' is not available to tier '${request.tier}'.`, {
          allowedModels: this.allowedNames(allowed),
        });
      }
      return {
        choice: this.chain(request.tier, request.requested, 'requested by the client'),
        decided: true,
      };
    }
    const tokens = countTokens(request.question);
    for (const rule of this.rules) {
      if (allowed(rule.model) && matches(rule, request.question, tokens)) {
        return { choice: this.chain(request.tier, rule.model, `rule '${rule.name}'`), decided: true };
      }
    }
    if (allowed(this.defaultName)) {
      return { choice: this.chain(request.tier, this.defaultName, 'default model'), decided: false };
    }
    const [first] = this.allowedNames(allowed);
    if (!first) throw badInput(`Tier '${request.tier}' allows no chat model.`);
    return {
      choice: this.chain(request.tier, first, `the default model is not available to tier '${request.tier}'`),
      decided: false,
    };
  }

  private allows(tierName: string, model: string): boolean {
    const tier = this.tiers[tierName];
    return !tier?.models || tier.models.includes(model);
  }

  /** The tier's fallback chain, starting at `name`. */
  private chain(tierName: string, name: string, reason: string): ModelChoice {
    const tier = this.tiers[tierName];
    return {
      model: withFallbacks(
        [...new Set([name, ...(tier?.fallbacks ?? defaultFallbacks)])].map((model) => this.modelNamed(model)),
        this.events,
      ),
      reason,
    };
  }

  private allowedNames(allowed: (name: string) => boolean): string[] {
    return [...this.models.keys()].filter(allowed);
  }

  private modelNamed(name: string): ChatModel {
    const model = this.models.get(name);
    if (!model) throw new Error(`No chat model named '${name}'.`);
    return model;
  }
}

/**
 * What keeps a tier from being classified as configured: a classifier model without a
 * `classifier`, or one the tier may not use, or heuristic labels (for a tier without a model)
 * that the `classifier` gives no model.
 */
function classifierProblemsOf(
  tier: string,
  settings: Tier,
  classifier: QuestionClassifier | undefined,
): string[] {
  if (!classifier) {
    return settings.classifierModel
      ? [`tier '${tier}' names a classifierModel, but the config file has no classifier`]
      : [];
  }
  if (settings.classifierModel) {
    return settings.models && !settings.models.includes(settings.classifierModel)
      ? [
          `tier '${tier}' may not use its classifierModel '${settings.classifierModel}' (it is not in its models)`,
        ]
      : [];
  }
  return heuristicLabels.some((label) => classifier.modelFor(label) !== undefined)
    ? []
    : [
        `tier '${tier}' has no classifierModel, so the heuristic labels its questions ${heuristicLabels.join(', ')}, and the classifier's labels name none of them`,
      ];
}

function matches(rule: CompiledRule, question: string, tokens: number): boolean {
  return (
    (rule.minQuestionTokens === undefined || tokens >= rule.minQuestionTokens) &&
    (rule.maxQuestionTokens === undefined || tokens <= rule.maxQuestionTokens) &&
    (rule.regex === null || rule.regex.test(question))
  );
}
