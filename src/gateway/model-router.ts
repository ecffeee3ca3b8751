/**
 * Picks the chat model for each question: the client's explicit choice, else the first routing
 * rule that matches and that the caller's tier allows, else the default model. The model it
 * returns is the tier's fallback chain starting at that choice.
 */

import { defaultFallbacks, type Tier } from '../access/tiers.ts';
import { badInput } from '../errors.ts';
import type { ChatModel, ChatRouter, ModelChoice, RouteRequest } from '../ports.ts';
import { countTokens } from '../text/token-count.ts';
import { type FallbackEvents, withFallbacks } from './fallback-chat-model.ts';

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
  private readonly events: FallbackEvents;

  /** Throws when a rule or tier names a model that is not configured. */
  constructor(options: ModelRouterOptions) {
    this.models = options.models;
    this.defaultName = options.defaultModel;
    this.tiers = options.tiers;
    this.events = options.events ?? {};
    const unknown = [
      ...[options.defaultModel]
        .filter((name) => !this.models.has(name))
        .map((name) => `default model '${name}'`),
      ...options.rules.filter((rule) => !this.models.has(rule.model)).map((rule) => `rule '${rule.name}'`),
      ...Object.entries(options.tiers).flatMap(([tier, settings]) =>
        [...(settings.models ?? []), ...settings.fallbacks]
          .filter((name) => !this.models.has(name))
          .map((name) => `tier '${tier}' (${name})`),
      ),
    ];
    if (unknown.length > 0) {
      throw new Error(
        `Routing names models that are not configured: ${unknown.join(', ')}. The models are ${[...this.models.keys()].join(', ')}.`,
      );
    }
    this.rules = options.rules.map((rule) => ({
      ...rule,
      regex: rule.pattern === undefined ? null : new RegExp(rule.pattern, 'iu'),
    }));
  }

  get defaultModel(): ChatModel {
    return this.modelNamed(this.defaultName);
  }

  choose(request: RouteRequest): ModelChoice {
    const tier = this.tiers[request.tier];
    const allowed = (name: string) => !tier?.models || tier.models.includes(name);
    const chain = (name: string, reason: string): ModelChoice => ({
      model: withFallbacks(
        [...new Set([name, ...(tier?.fallbacks ?? defaultFallbacks)])].map((model) => this.modelNamed(model)),
        this.events,
      ),
      reason,
    });

    if (request.requested) {
      if (!this.models.has(request.requested) || !allowed(request.requested)) {
        throw badInput(`Model '${request.requested}' is not available to tier '${request.tier}'.`, {
          allowedModels: this.allowedNames(allowed),
        });
      }
      return chain(request.requested, 'requested by the client');
    }
    const tokens = countTokens(request.question);
    for (const rule of this.rules) {
      if (allowed(rule.model) && matches(rule, request.question, tokens)) {
        return chain(rule.model, `rule '${rule.name}'`);
      }
    }
    if (allowed(this.defaultName)) return chain(this.defaultName, 'default model');
    const [first] = this.allowedNames(allowed);
    if (!first) throw badInput(`Tier '${request.tier}' allows no chat model.`);
    return chain(first, `the default model is not available to tier '${request.tier}'`);
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

function matches(rule: CompiledRule, question: string, tokens: number): boolean {
  return (
    (rule.minQuestionTokens === undefined || tokens >= rule.minQuestionTokens) &&
    (rule.maxQuestionTokens === undefined || tokens <= rule.maxQuestionTokens) &&
    (rule.regex === null || rule.regex.test(question))
  );
}
