/**
 * Tier limits, per API key: requests per minute shared by two ragql servers through the real Redis
 * on this machine (and not shared without it), and concurrent answer streams held until a stream
 * ends. Over a limit: RATE_LIMITED with retryAfter, and HTTP 429 with Retry-After.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/access/api-keys.ts';
import {
  AnswerDocument,
  AnswerStreamDocument,
  IngestDocumentsDocument,
  SearchDocument,
} from '../generated/graphql.ts';
import { dataOf, graphqlClient } from '../support/graphql-client.ts';
import { withStandinChat } from '../support/ragql-environment.ts';
import { startRagql, temporaryDataDir } from '../support/ragql-instance.ts';
import { collect, subscriptionClient } from '../support/subscription-clients.ts';
import { useRagql } from '../support/use-ragql.ts';
import { useOpenAIStandin } from '../support/use-standin.ts';

const machineRedis = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A config file with a tiny tier, in a folder of its own; each call makes fresh keys. */
function writeConfig(folder: string) {
  const limited = createApiKey();
  const streaming = createApiKey();
  const frugal = createApiKey();
  const path = join(folder, 'ragql.config.mjs');
  writeFileSync(
    path,
    `export default ${JSON.stringify({
      tiers: {
        tiny: { requestsPerMinute: 3, tokensPerDay: 1000, concurrentStreams: 5 },
        streaming: { requestsPerMinute: 100, tokensPerDay: 100000, concurrentStreams: 1 },
        frugal: { requestsPerMinute: 100, tokensPerDay: 100, concurrentStreams: 5 },
      },
      apiKeys: [
        { tenant: 'acme', tier: 'tiny', hash: limited.hash },
        { tenant: 'acme', tier: 'streaming', hash: streaming.hash },
        { tenant: 'acme', tier: 'frugal', hash: frugal.hash },
      ],
    })};\n`,
  );
  return { path, limited: limited.key, streaming: streaming.key, frugal: frugal.key };
}

async function twoServers(redisUrl: string | null) {
  const folders = [temporaryDataDir(), temporaryDataDir()];
  const config = writeConfig(folders[0]?.path ?? '');
  const servers = await Promise.all(
    folders.map((folder) =>
      startRagql(folder.path, {
        RAGQL_AUTH: 'on',
        RAGQL_CONFIG_FILE: config.path,
        ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
      }),
    ),
  );
  return {
    servers,
    config,
    stop: async () => {
      for (const server of servers) await server.stop();
      for (const folder of folders) folder.remove();
    },
  };
}

describe('requests per minute', () => {
  it('holds across two servers sharing Redis, and says when to retry', async () => {
    const { servers, config, stop } = await twoServers(machineRedis);
    try {
      const [first, second] = servers.map((server) =>
        graphqlClient(server.server.graphqlUrl, config.limited),
      );
      if (!first || !second) throw new Error('two servers expected');
      for (const execute of [first, second, first]) {
        expect((await execute(SearchDocument, { query: 'tides' })).errors).toBeUndefined();
      }
      const refused = await second(SearchDocument, { query: 'tides' });
      expect(refused.status).toBe(429);
      const [error] = refused.errors ?? [];
      expect(error?.extensions?.code).toBe('RATE_LIMITED');
      expect(error?.extensions?.retryAfter).toBeGreaterThanOrEqual(1);
      expect(error?.extensions?.retryAfter).toBeLessThanOrEqual(60);
      expect(error?.extensions).not.toHaveProperty('http');
      const metrics = await (await fetch(new URL('/metrics', servers[1]?.server.graphqlUrl))).text();
      expect(metrics).toContain('ragql_rate_limit_rejections_total{tier="tiny",limit="requests"} 1');

      const raw = await fetch(servers[0]?.server.graphqlUrl ?? '', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${config.limited}` },
        body: JSON.stringify({ query: '{ serverInfo { version } }' }),
      });
      expect(raw.status).toBe(429);
      expect(Number(raw.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    } finally {
      await stop();
    }
  });

  it('is counted by each server alone without Redis', async () => {
    const { servers, config, stop } = await twoServers(null);
    try {
      const [first, second] = servers.map((server) =>
        graphqlClient(server.server.graphqlUrl, config.limited),
      );
      if (!first || !second) throw new Error('two servers expected');
      for (let request = 0; request < 3; request++) {
        expect((await first(SearchDocument, { query: 'tides' })).errors).toBeUndefined();
      }
      expect((await first(SearchDocument, { query: 'tides' })).errors?.[0]?.extensions?.code).toBe(
        'RATE_LIMITED',
      );
      expect((await second(SearchDocument, { query: 'tides' })).errors).toBeUndefined();
    } finally {
      await stop();
    }
  });
});

describe('concurrent answer streams', () => {
  const standin = useOpenAIStandin();
  let key = '';
  let frugalKey = '';

  const ragql = useRagql((dataDir) => {
    const config = writeConfig(dataDir);
    key = config.streaming;
    frugalKey = config.frugal;
    return {
      RAGQL_AUTH: 'on',
      RAGQL_CONFIG_FILE: config.path,
      REDIS_URL: machineRedis,
      // Every stream must reach the slow model; a cached answer (kept in Redis across runs) would not.
      RAGQL_ANSWER_CACHE: 'off',
      ...withStandinChat(standin),
    };
  });
  beforeAll(async () => {
    // Something to answer from, or the answer ends at once without the model.
    dataOf(
      await graphqlClient(ragql.server.graphqlUrl, key)(IngestDocumentsDocument, {
        documents: [{ id: 'tides', content: 'The moon and the sun pull the tides.' }],
      }),
    );
  });

  it('refuses a second stream while the tier’s one slot is held, and frees the slot when it ends', async () => {
    const client = subscriptionClient('websocket', ragql.server.graphqlUrl, key);
    try {
      standin.setDefaultChatScript({ tokens: ['slow', ' tokens', ' here'], tokenDelayMs: 150 });
      const first = collect(client.subscribe(AnswerStreamDocument, { question: 'What pulls the tides?' }));
      await new Promise((resolve) => setTimeout(resolve, 100));
      const second = await collect(client.subscribe(AnswerStreamDocument, { question: 'And the moon?' }));
      expect(second.flatMap((result) => result.errors ?? []).map((error) => error.extensions)).toEqual([
        { code: 'RATE_LIMITED', retryAfter: 5 },
      ]);
      const firstEvents = await first;
      expect(firstEvents.at(-1)?.data?.answerStream?.__typename).toBe('AnswerCompleted');

      const third = await collect(client.subscribe(AnswerStreamDocument, { question: 'And the sun?' }));
      expect(third.at(-1)?.data?.answerStream?.__typename).toBe('AnswerCompleted');
    } finally {
      standin.setDefaultChatScript({});
      await client.dispose();
    }
  });

  it('refuses answers once the day’s tokens are spent, counting the usage the provider reported', async () => {
    const ask = (question: string) =>
      graphqlClient(ragql.server.graphqlUrl, frugalKey)(AnswerDocument, { question });
    // The stand-in reports each prompt's words as its tokens: about 70 per answer here.
    const first = await ask('What pulls the tides, first?');
    expect(first.errors).toBeUndefined();
    const spent = first.data?.answer.usage.totalTokens ?? 0;
    expect(spent).toBeGreaterThan(50);
    expect(spent).toBeLessThan(100);
    // Within budget when it starts; it may end over it.
    expect((await ask('What pulls the tides, second?')).errors).toBeUndefined();
    const refused = await ask('What pulls the tides, third?');
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED' });
    expect(refused.errors?.[0]?.message).toContain('100 tokens a day');
    // The budget is the UTC day's: it resets at 00:00 UTC.
    const now = new Date();
    const untilMidnight =
      (Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1) - now.getTime()) / 1000;
    expect(Number(refused.errors?.[0]?.extensions?.retryAfter)).toBeLessThanOrEqual(
      Math.ceil(untilMidnight) + 1,
    );
  });
});
