import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { SingleBar } from 'cli-progress';
import { createApiKey } from './access/api-keys.ts';
import { servicesForCaller, tenantDocuments } from './composition/caller-services.ts';
import { ConfigError, loadConfig } from './composition/config.ts';
import { startServing } from './composition/serve.ts';
import { createServices } from './composition/services.ts';
import { RagqlError } from './errors.ts';
import { readableFormats } from './files/file-formats.ts';
import { collectDocumentFiles, crawlSites, ingestFiles, ingestPages, isUrl } from './files/ingest-files.ts';
import { maxUrlsPerCall } from './files/url-ingestion.ts';
import { createLogger } from './observability/logger.ts';
import { defaultTenant, tenantNamePattern } from './ports.ts';
import type { CompletedAnswer } from './rag/index.ts';
import { printRagqlSchema } from './schema/index.ts';
import { mcpServerFor, tierCostCheck } from './transport/mcp.ts';
import { TierCost } from './transport/query-cost.ts';

const usage = `Usage: ragql <command>

Commands:
  serve                      Serve GraphQL at http://HOST:PORT/graphql (and /healthz, /readyz)
  ingest <paths|urls...>     Ingest PDF, Word, HTML, Markdown and text files (folders
                             recursively) and pages by URL into RAGQL_DATA_DIR; with
                             --crawl <n>, each URL's site, up to n pages (its sitemap or links,
                             as its robots.txt allows)
  ask "<question>"           Answer a question from the ingested documents
  mcp                        Serve the MCP tools over stdio, for desktop agents, as --tenant
                             with --tier's limits
  reembed --model <m>        Build the embedding space of model <m> (RAGQL_EMBEDDER's provider;
                             --dimensions <n> if it takes them) from the stored chunks, then
                             switch to it. Resumable: run it again after a crash. Servers on the
                             store follow the switch by themselves
  reembed --drop-retired     Delete the spaces earlier switches left behind
  reembed --abandon          Delete a build that stopped before its switch
  schema                     Print the GraphQL schema (SDL)
  keys create                Create an API key for --tenant and --tier; prints the key once,
                             and the entry to add to apiKeys in the config file

Options:
  --tenant <name>            The tenant whose documents ingest and ask use, or a new key is for
                             (default: default)
  --tier <name>              The new key's tier, or mcp's (default: free)
  --name <label>             The new key's name in logs

Configuration comes from environment variables; see README.md.`;

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      tenant: { type: 'string', default: defaultTenant },
      tier: { type: 'string', default: 'free' },
      name: { type: 'string' },
      model: { type: 'string' },
      dimensions: { type: 'string' },
      'drop-retired': { type: 'boolean', default: false },
      abandon: { type: 'boolean', default: false },
      crawl: { type: 'string' },
    },
  });
  const [command, ...rest] = positionals;
  const { tenant } = values;
  switch (command) {
    case 'serve':
      return serve();
    case 'ingest':
      return ingest(tenant, rest, values.crawl);
    case 'ask':
      return ask(tenant, rest.join(' '));
    case 'mcp':
      return serveMcpOverStdio(tenant, values.tier);
    case 'reembed':
      return reembedStore(values);
    case 'schema':
      process.stdout.write(printRagqlSchema());
      return 0;
    case 'keys':
      if (rest[0] !== 'create') break;
      return createKey({ tenant, tier: values.tier, name: values.name });
  }
  process.stderr.write(`${usage}\n`);
  return command === undefined ? 0 : 2;
}

/** Prints a new key once, and the config entry that stands for it: ragql stores only the hash. */
function createKey(entry: { tenant: string; tier: string; name: string | undefined }): number {
  if (!tenantNamePattern.test(entry.tenant)) {
    process.stderr.write('ragql keys create: --tenant must be 1 to 64 letters, digits, - or _.\n');
    return 2;
  }
  const { key, hash } = createApiKey();
  const configEntry = {
    ...(entry.name ? { name: entry.name } : {}),
    tenant: entry.tenant,
    tier: entry.tier,
    hash,
  };
  process.stdout.write(
    `API key (shown only now; ragql keeps its hash): ${key}\n\nAdd to apiKeys in your config file (RAGQL_CONFIG_FILE):\n  ${JSON.stringify(configEntry)},\n`,
  );
  return 0;
}

async function serve(): Promise<number> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, undefined, { secrets: config.secrets });
  const { server, services, close } = await startServing(config, logger);
  logger.info(
    { url: server.graphqlUrl, store: services.info.store, embedder: services.info.embedder },
    'ragql is serving',
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  logger.info('shutting down');
  await close();
  return 0;
}

async function ingest(tenant: string, paths: string[], crawl: string | undefined): Promise<number> {
  if (paths.length === 0) {
    process.stderr.write('ragql ingest: name at least one file or folder.\n');
    return 2;
  }
  const maxPages = crawl === undefined ? undefined : Number(crawl);
  if (
    maxPages !== undefined &&
    !(Number.isInteger(maxPages) && maxPages >= 1 && maxPages <= maxUrlsPerCall)
  ) {
    process.stderr.write(`ragql ingest: --crawl takes the most pages per site, 1 to ${maxUrlsPerCall}.\n`);
    return 2;
  }
  const urls = paths.filter(isUrl);
  const files = await collectDocumentFiles(paths.filter((path) => !isUrl(path)));
  if (files.length === 0 && urls.length === 0) {
    process.stderr.write(`ragql ingest: found no files there that ragql reads: ${readableFormats}.\n`);
    return 1;
  }
  const services = await servicesFromEnvironment();
  try {
    const totals = await ingestFiles(files, services.files, {
      tenant,
      ingest: (documents) => services.ingest.ingest(tenant, documents),
      progress: process.stderr.isTTY,
    });
    if (maxPages === undefined) {
      await ingestPages(
        urls,
        (url) => services.urls.ingest([url], tenantDocuments(services, tenant)),
        totals,
      );
    } else {
      await crawlSites(
        urls,
        (url, onProgress) =>
          services.crawler.crawl(url, maxPages, tenantDocuments(services, tenant), { onProgress }),
        totals,
        { progress: process.stderr.isTTY },
      );
    }
    for (const { file, reason } of totals.refused) {
      process.stderr.write(
        `ragql ingest: refused ${isUrl(file) ? file : relative(process.cwd(), file)}: ${reason}.\n`,
      );
    }
    const ingested = totals.stored;
    process.stdout.write(
      `Ingested ${ingested} ${ingested === 1 ? 'file' : 'files'}: ${totals.created} created, ${totals.updated} updated, ${totals.unchanged} unchanged.${totals.refused.length > 0 ? ` Refused ${totals.refused.length} that could not be read.` : ''}\n`,
    );
    // Like cp with a file it cannot copy: the rest is done, and the exit status says not all.
    return totals.refused.length > 0 ? 1 : 0;
  } finally {
    await services.close();
  }
}

async function ask(tenant: string, question: string): Promise<number> {
  if (question.trim() === '') {
    process.stderr.write('ragql ask: give a question, e.g. ragql ask "What is hybrid search?"\n');
    return 2;
  }
  const services = await servicesFromEnvironment();
  try {
    let answer: CompletedAnswer | undefined;
    // Tokens are printed as the model writes them, as a chat client would show them.
    for await (const event of services.answers.stream({ tenant, question })) {
      if (event.type === 'token') process.stdout.write(event.text);
      if (event.type === 'completed') answer = event.answer;
      if (event.type === 'failed') {
        process.stderr.write(`\nragql ask: the answer failed: ${event.error.message}\n`);
        return 1;
      }
    }
    if (!answer) throw new Error('The answer stream ended without a completed event.');
    const documents = await services.store
      .forTenant(tenant)
      .getDocuments(answer.citations.map((citation) => citation.hit.chunk.documentId));
    process.stdout.write('\n');
    answer.citations.forEach((citation, position) => {
      const document = documents[position];
      const label = document?.title ?? document?.source ?? citation.hit.chunk.documentId;
      process.stdout.write(
        `[${citation.marker}] ${label}${document?.source ? ` (${document.source})` : ''}\n`,
      );
    });
    return 0;
  } finally {
    await services.close();
  }
}

/**
 * The MCP tools over stdio, as the tenant with the tier's limits, until the client closes its end.
 * stdout carries the protocol; logs go to stderr.
 */
async function serveMcpOverStdio(tenant: string, tier: string): Promise<number> {
  if (!tenantNamePattern.test(tenant)) {
    process.stderr.write('ragql mcp: --tenant must be 1 to 64 letters, digits, - or _.\n');
    return 2;
  }
  const services = await servicesFromEnvironment();
  try {
    if (!(tier in services.tiers)) {
      process.stderr.write(
        `ragql mcp: --tier names no tier; the tiers are ${Object.keys(services.tiers).join(', ')}.\n`,
      );
      return 2;
    }
    const server = mcpServerFor(
      servicesForCaller(services, { tenant, tier, keyId: `stdio:${tenant}`, keyName: null, operator: false }),
      { checkCost: tierCostCheck(new TierCost(services.tiers, services.plugins), tier) },
    );
    const transport = new StdioServerTransport();
    const closed = new Promise<void>((resolve) => {
      transport.onclose = resolve;
      process.stdin.once('end', resolve);
    });
    await server.connect(transport);
    await closed;
    await server.close();
    return 0;
  } finally {
    await services.close();
  }
}

/** The services for a one-shot command, logging at the configured level. */
/**
 * Re-embeds the store into another model, with a progress bar, or drops the spaces left behind.
 * The switch happens in this process: the configuration must then name the new model
 * (RAGQL_EMBEDDING_MODEL) for the server to start on it, which the last line says.
 */
async function reembedStore(options: {
  model?: string;
  dimensions?: string;
  'drop-retired': boolean;
  abandon: boolean;
}): Promise<number> {
  const dimensions = options.dimensions === undefined ? undefined : Number(options.dimensions);
  const maintenance = options['drop-retired'] || options.abandon;
  if (
    !maintenance &&
    (!options.model || (dimensions !== undefined && !(Number.isInteger(dimensions) && dimensions > 0)))
  ) {
    process.stderr.write(
      'ragql reembed: give --model <name> (and --dimensions <n>, a whole number), --drop-retired or --abandon.\n',
    );
    return 2;
  }
  const services = await servicesFromEnvironment();
  try {
    const { reembedding } = services;
    if (!reembedding) {
      process.stderr.write(
        'ragql reembed: no embedder is configured (RAGQL_EMBEDDER); set the one whose model you embed with now.\n',
      );
      return 1;
    }
    if (options.abandon) {
      const abandoned = await reembedding.abandonBuild();
      process.stdout.write(
        abandoned === null ? 'No build to abandon.\n' : `Abandoned generation ${abandoned}.\n`,
      );
      return 0;
    }
    if (options['drop-retired']) {
      const dropped = await reembedding.dropRetired();
      process.stdout.write(
        dropped.length === 0 ? 'No retired spaces.\n' : `Dropped generations ${dropped.join(', ')}.\n`,
      );
      return 0;
    }
    const bar = process.stderr.isTTY
      ? new SingleBar({ format: 're-embedding {tenant} [{bar}] {value}/{total} documents' })
      : undefined;
    let barTenant: string | undefined;
    const { done } = await reembedding.start(options.model as string, dimensions, (progress) => {
      if (!bar) return;
      if (progress.tenant !== barTenant) {
        barTenant = progress.tenant;
        bar.stop();
        bar.start(progress.total, 0, { tenant: progress.tenant });
      }
      bar.update(progress.done, { tenant: progress.tenant });
    });
    const report = await done.finally(() => bar?.stop());
    process.stdout.write(
      `Switched to ${report.space.provider}/${report.space.modelId} (${report.space.dimensions} dimensions), generation ${report.generation}: ${report.copied} documents embedded, ${report.skipped} already done, ${report.removed} removed. Set RAGQL_EMBEDDING_MODEL=${report.space.modelId}${dimensions === undefined ? '' : ` and RAGQL_EMBEDDING_DIMENSIONS=${dimensions}`} before the server starts again.\n`,
    );
    return 0;
  } finally {
    await services.close();
  }
}

function servicesFromEnvironment() {
  const config = loadConfig();
  return createServices(config, createLogger(config.logLevel, undefined, { secrets: config.secrets }));
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // Expected failures are explained to the operator in one message, without a stack trace.
    const expected = error instanceof ConfigError || error instanceof RagqlError;
    process.stderr.write(`ragql: ${expected ? error.message : ((error as Error)?.stack ?? String(error))}\n`);
    process.exitCode = 1;
  },
);
