import { z } from 'zod';
import { badInput } from '../errors.ts';
import { validationProblems } from '../validation-problems.ts';
import { type PluginDefinition, type PluginKind, pluginApiVersion, type RetrieverChoice } from './api.ts';

/** What clients learn of a plugin (the `plugins` query). */
export interface PluginInfo {
  name: string;
  kind: PluginKind;
  version: string;
  description: string;
  /** The options as JSON Schema, so a client can render a form. */
  optionsSchema: Record<string, unknown>;
}

/** A definition that cannot be registered: the message names the plugin and what is wrong. */
export class PluginDefinitionError extends Error {
  override name = 'PluginDefinitionError';
}

const pluginNamePattern = /^[a-z0-9][a-z0-9-]{0,63}$/;
const kinds: readonly PluginKind[] = ['retriever', 'reranker'];

/**
 * The registered retrievers and rerankers, built-ins and integrators' alike. Definitions are
 * checked when registered, so a broken plugin stops the server at start-up rather than failing
 * requests; per-request options are checked strictly against each plugin's schema.
 */
export class PluginRegistry {
  private readonly plugins = new Map<string, PluginDefinition>();

  /** Registers a definition; `origin` (a file, "built-in") goes into error messages. */
  register(definition: unknown, origin = 'registration'): void {
    const plugin = checkDefinition(definition, origin);
    const existing = this.plugins.get(plugin.name);
    if (existing) {
      throw new PluginDefinitionError(
        `Plugin "${plugin.name}" (${origin}) is already registered as a ${existing.kind}; plugin names must be unique.`,
      );
    }
    this.plugins.set(plugin.name, { ...plugin, options: plugin.options.strict() });
  }

  /** The plugin of that kind and name; BAD_USER_INPUT naming the ones there are otherwise. */
  get<Kind extends PluginKind>(kind: Kind, name: string): Extract<PluginDefinition, { kind: Kind }> {
    const plugin = this.plugins.get(name);
    if (plugin?.kind === kind) return plugin as Extract<PluginDefinition, { kind: Kind }>;
    const known = this.list(kind).map((info) => info.name);
    throw badInput(`There is no ${kind} plugin named "${name}"; the ${kind}s are: ${known.join(', ')}.`, {
      problems: [`unknown ${kind} "${name}"`],
    });
  }

  /** A request's options for a plugin, checked; BAD_USER_INPUT listing every problem otherwise. */
  parseOptions(plugin: PluginDefinition, options: unknown): Record<string, unknown> {
    const result = plugin.options.safeParse(options ?? {});
    if (result.success) return result.data as Record<string, unknown>;
    const problems = validationProblems(result.error);
    throw badInput(`Invalid options for the ${plugin.kind} "${plugin.name}": ${problems.join('; ')}`, {
      problems,
    });
  }

  /**
   * The most chunks one hit of this retriever may span (see `chunksPerHit`); 1 for a retriever or
   * options the request will be refused for anyway.
   */
  chunksPerHit(retriever: RetrieverChoice): number {
    const plugin = this.plugins.get(retriever.name);
    if (plugin?.kind !== 'retriever' || !plugin.chunksPerHit) return 1;
    const options = plugin.options.safeParse(retriever.options ?? {});
    if (!options.success) return 1;
    return Math.max(
      1,
      plugin.chunksPerHit(options.data, (other) => this.chunksPerHit(other)),
    );
  }

  list(kind?: PluginKind): PluginInfo[] {
    return [...this.plugins.values()]
      .filter((plugin) => kind === undefined || plugin.kind === kind)
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((plugin) => ({
        name: plugin.name,
        kind: plugin.kind,
        version: plugin.version,
        description: plugin.description,
        optionsSchema: z.toJSONSchema(plugin.options, { io: 'input' }) as Record<string, unknown>,
      }));
  }
}

function checkDefinition(definition: unknown, origin: string): PluginDefinition {
  const candidate = (definition ?? {}) as Partial<Record<keyof PluginDefinition, unknown>>;
  const label =
    typeof candidate.name === 'string' ? `Plugin "${candidate.name}" (${origin})` : `The plugin of ${origin}`;
  const problems = [
    ...(typeof candidate.name === 'string' && pluginNamePattern.test(candidate.name)
      ? []
      : ['its name must be 1 to 64 lowercase letters, digits and -']),
    ...(kinds.includes(candidate.kind as PluginKind) ? [] : [`its kind must be one of ${kinds.join(', ')}`]),
    ...(typeof candidate.version === 'string' && candidate.version !== '' ? [] : ['it needs a version']),
    ...(typeof candidate.description === 'string' && candidate.description !== ''
      ? []
      : ['it needs a description']),
    ...(isZodObject(candidate.options) ? [] : ['its options must be a zod object schema (z.object)']),
    ...(typeof candidate.create === 'function' ? [] : ['it needs a create function']),
    ...(candidate.apiVersion === undefined || candidate.apiVersion === pluginApiVersion
      ? []
      : [
          `it was written for plugin API version ${String(candidate.apiVersion)}; this server has ${pluginApiVersion}`,
        ]),
  ];
  if (problems.length > 0) throw new PluginDefinitionError(`${label} is invalid: ${problems.join('; ')}.`);
  return definition as PluginDefinition;
}

/** Duck-typed: a plugin loaded from a folder may bring its own copy of zod 4. */
function isZodObject(value: unknown): value is z.ZodObject {
  const internals = (value as { _zod?: { def?: { type?: unknown } } } | null)?._zod;
  return internals?.def?.type === 'object' && typeof (value as z.ZodObject).strict === 'function';
}
