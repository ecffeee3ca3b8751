import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { environmentSchema } from '../../src/composition/config.ts';

/**
 * README's configuration table is what operators read; the zod schema in src/composition/config.ts is what
 * ragql does. A variable added, renamed or given a new default on one side only must fail here.
 */
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** Variables the table documents that ragql reads outside src/composition/config.ts, with where. */
const readElsewhere: Record<string, string> = {
  NODE_ENV: 'bin/ragql.js sets it before graphql loads',
};

interface TableRow {
  variable: string;
  /** The default cell as written: a literal in backticks, prose, or empty. */
  defaultCell: string;
}

/** The rows of the first table under "## Configuration". */
function configurationTable(markdown: string): TableRow[] {
  const section = markdown.split(/^## Configuration$/m)[1]?.split(/^## /m)[0] ?? '';
  const rows = section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => line.split('|').map((cell) => cell.trim()));
  return rows.map(([, variable = '', defaultCell = '']) => ({
    variable: variable.replace(/^`|`$/g, ''),
    defaultCell,
  }));
}

/** A cell that states one literal value: exactly one backticked string and nothing else. */
function literalOf(cell: string): string | undefined {
  return /^`([^`]*)`$/.exec(cell)?.[1];
}

const table = configurationTable(readme);
const defaults: Record<string, unknown> = environmentSchema.parse({});
const schemaVariables = Object.keys(environmentSchema.shape);

describe("README's configuration table", () => {
  it('is found', () => {
    expect(table.length).toBeGreaterThan(10);
  });

  it('lists every variable of the config schema, and only those', () => {
    const documented = new Set(table.map((row) => row.variable));
    expect({
      missingFromReadme: schemaVariables.filter((variable) => !documented.has(variable)),
      missingFromSchema: [...documented].filter(
        (variable) => !schemaVariables.includes(variable) && !(variable in readElsewhere),
      ),
    }).toEqual({ missingFromReadme: [], missingFromSchema: [] });
  });

  it('lists each variable once', () => {
    const documented = table.map((row) => row.variable);
    expect(documented.filter((variable, index) => documented.indexOf(variable) !== index)).toEqual([]);
  });

  it('states each schema default as a literal, and no literal where the schema has none', () => {
    const mismatches = table
      .filter((row) => !(row.variable in readElsewhere))
      .map((row) => ({
        variable: row.variable,
        readme: literalOf(row.defaultCell),
        schema: defaults[row.variable] === undefined ? undefined : String(defaults[row.variable]),
      }))
      .filter((entry) => entry.readme !== entry.schema);
    expect(mismatches).toEqual([]);
  });
});
