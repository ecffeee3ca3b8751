/**
 * The dependency rule of docs/architecture.md, checked on the sources: each import of a ragql
 * module from another, resolved to a path, against the rooms it may not reach.
 */
import { globSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');

interface Import {
  from: string;
  to: string;
}

/** The package's own exports, as integrators import them. */
const packageExports: Record<string, string> = { 'ragql/plugin': 'src/plugin-api/index.ts' };

/**
 * Every import and re-export (static or dynamic) of a ragql module, relative or by the package's
 * exports, in the TypeScript under src/ and plugins/.
 */
function ragqlImports(): Import[] {
  const files = globSync(['src/**/*.ts', 'plugins/**/*.ts'], { cwd: root });
  return files.flatMap((from) => {
    const text = readFileSync(join(root, from), 'utf8');
    const specifiers = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^import\s+)'([^']+)'/gm)].map(
      (match) => match[1] as string,
    );
    return specifiers.flatMap((specifier) => {
      const exported = packageExports[specifier];
      if (exported) return [{ from, to: exported }];
      if (!specifier.startsWith('.')) return [];
      return [{ from, to: relative(root, join(root, dirname(from), specifier)) }];
    });
  });
}

/** Read once: every rule below checks the same imports. */
const imports = ragqlImports();

/** The imports from files matching `from` to files matching `to`, as "from -> to" lines. */
function crossing(from: RegExp, to: RegExp): string[] {
  return imports
    .filter((edge) => from.test(edge.from) && to.test(edge.to))
    .map((edge) => `${edge.from} -> ${edge.to}`);
}

describe('the dependency rule', () => {
  it('finds the imports it checks', () => {
    // A scanner that found nothing would pass every rule below.
    expect(crossing(/^src\/rag\//, /^src\/ports\.ts$/).length).toBeGreaterThan(3);
    expect(crossing(/^src\/ports\.ts$/, /^src\/ports\//).length).toBeGreaterThan(3);
    expect(crossing(/^plugins\//, /^src\/plugin-api\/index\.ts$/).length).toBeGreaterThan(3);
  });

  it('keeps the pipeline (rag/) off the GraphQL schema, the transports, the stores and the providers', () => {
    expect(
      crossing(
        /^src\/rag\//,
        /^src\/(schema|transport|stores|providers)\/|^src\/composition\/|^src\/(server|cli)\.ts$/,
      ),
    ).toEqual([]);
  });

  it('keeps the pipeline apart from the gateway and the access policy: what one asks of the other is in the ports', () => {
    expect(crossing(/^src\/rag\//, /^src\/(gateway|access)\//)).toEqual([]);
    expect(crossing(/^src\/(gateway|access)\//, /^src\/rag\//)).toEqual([]);
  });

  it('leaves the wiring to the composition room: no other room imports it or the built-in plugins', () => {
    const rooms =
      /^src\/(rag|gateway|access|stores|providers|plugin-api|schema|transport|observability|ranking|text|threads|files)\//;
    expect(crossing(rooms, /^src\/composition\/|^plugins\//)).toEqual([]);
  });

  it("keeps file reading (files/) on the pipeline's public face and the floor it needs", () => {
    expect(
      crossing(
        /^src\/files\//,
        /^src\/(?!files\/|rag\/index\.ts$|threads\/|abort\.ts$|errors\.ts$|version\.ts$|ports\.ts$)/,
      ),
    ).toEqual([]);
    expect(
      crossing(/^src\/(rag|schema|transport|stores|providers|gateway|access)\//, /^src\/files\//),
    ).toEqual([]);
  });

  it('keeps stores and providers off the pipeline and the edge', () => {
    expect(crossing(/^src\/(stores|providers)\//, /^src\/(rag|schema|transport)\//)).toEqual([]);
  });

  it('lets the built-in plugins use only the public plugin API', () => {
    expect(crossing(/^plugins\//, /^(?!plugins\/|src\/plugin-api\/index\.ts$)/)).toEqual([]);
  });

  it('keeps the plugin API off the pipeline, the stores and the providers, so integrators get it alone', () => {
    expect(crossing(/^src\/plugin-api\//, /^src\/(rag|stores|providers|gateway|access)\//)).toEqual([]);
  });

  it('keeps the floor (shared helpers, text, ranking, threads) off every room above it', () => {
    const floor =
      /^src\/(text|ranking|threads)\/|^src\/(abort|budgeted-completion|errors|hash|module-default-export|validation-problems|version)\.ts$/;
    const floorOrPorts = new RegExp(`${floor.source}|^src\\/ports(\\.ts$|\\/)`);
    expect(crossing(floor, new RegExp(`^(?!${floorOrPorts.source})`))).toEqual([]);
  });

  it('keeps observability below the rooms it observes', () => {
    expect(crossing(/^src\/observability\//, /^src\/(?!observability\/|ports\.ts$|errors\.ts$)/)).toEqual([]);
  });

  it('keeps the ports free of any other ragql module, and the files in ports/ behind src/ports.ts', () => {
    const ports = /^src\/ports(\.ts$|\/)/;
    const notPorts = new RegExp(`^(?!${ports.source})`);
    expect(crossing(ports, notPorts)).toEqual([]);
    expect(crossing(notPorts, /^src\/ports\//)).toEqual([]);
  });
});
