/**
 * Fails when schema.graphql differs from the schema the code builds, so the checked-in SDL that
 * clients and codegen read is never stale. Fix: `npm run schema`.
 */
import { readFileSync } from 'node:fs';
import { printRagqlSchema } from '../src/schema/index.ts';

const checkedIn = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');
if (checkedIn !== printRagqlSchema()) {
  process.stderr.write(
    'schema.graphql is stale: the code builds a different schema. Run `npm run schema` and commit it.\n',
  );
  process.exit(1);
}
process.stdout.write('schema.graphql is current.\n');
