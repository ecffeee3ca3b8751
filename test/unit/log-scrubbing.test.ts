import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/composition/config.ts';
import { createLogger } from '../../src/observability/logger.ts';

/** A real pino logger writing into memory, with the secrets of the given configuration. */
function loggerWith(environment: Record<string, string>) {
  const lines: string[] = [];
  const logger = createLogger(
    'info',
    { write: (line: string) => void lines.push(line) },
    {
      secrets: loadConfig(environment).secrets,
    },
  );
  return { logger, text: () => lines.join('') };
}

describe('secrets in log lines', () => {
  it('removes a short key wherever it stands as a word: messages, error messages and stacks', () => {
    const { logger, text } = loggerWith({ OPENAI_API_KEY: 'abc1234' });
    logger.warn('Incorrect API key provided: abc1234.');
    logger.warn({ err: new Error('401 Incorrect API key provided: abc1234') }, 'upstream refused');
    logger.warn({ detail: 'key\nabc1234\tabc1234' }, 'quoted after JSON escapes');
    expect(text()).not.toContain('abc1234');
    expect(text()).toContain('Incorrect API key provided: [redacted].');
  });

  it('leaves a short secret inside longer words alone, so that the logs stay readable', () => {
    const { logger, text } = loggerWith({ CO_API_KEY: 'tide' });
    logger.info('tides and riptide, then tide');
    expect(text()).toContain('tides and riptide, then [redacted]');
  });

  it('removes a long secret even inside a longer word', () => {
    const { logger, text } = loggerWith({ WEAVIATE_API_KEY: 'wv-0123456789' });
    logger.info('token=wv-0123456789abc');
    expect(text()).not.toContain('wv-0123456789');
  });

  it('removes a secret holding quotes or backslashes, which JSON escapes', () => {
    const secret = 'pa"ss\\word';
    const { logger, text } = loggerWith({ OPENAI_API_KEY: secret });
    logger.info(`quoted: ${secret}`);
    expect(JSON.parse(text()).msg).toBe('quoted: [redacted]');
  });

  it('removes the passwords of configured URLs, percent-encoded and decoded', () => {
    const { logger, text } = loggerWith({
      REDIS_URL: 'redis://:p%40ss1@127.0.0.1:6379',
      WEAVIATE_URL: 'http://admin:wv-pass@127.0.0.1:8080',
    });
    logger.warn('AUTH p@ss1 failed; the URL was written p%40ss1; Weaviate refused wv-pass');
    expect(text()).not.toMatch(/p@ss1|p%40ss1|wv-pass/);
  });

  it("removes DATABASE_URL's password, in its user info or in its password parameter", () => {
    const { logger, text } = loggerWith({
      DATABASE_URL: 'postgres://ragql@db.internal:5432/ragql?sslmode=require&password=pg%2Fsecret',
    });
    logger.warn('password authentication failed: pg/secret (written pg%2Fsecret)');
    expect(text()).not.toMatch(/pg\/secret|pg%2Fsecret/);
  });

  it('removes credentials by their shape: any URL user info, bearer and basic credentials', () => {
    const { logger, text } = loggerWith({});
    logger.warn('connecting to rediss://default:unconfigured@cache.internal:6380 failed');
    logger.warn({ header: 'Bearer short' }, 'refused Basic dXNlcjpwYXNz');
    expect(text()).toContain('rediss://[redacted]@cache.internal:6380');
    expect(text()).not.toMatch(/unconfigured|short|dXNlcjpwYXNz/);
  });
});

describe('secrets in the configuration', () => {
  it('refuses a secret too short to scrub, naming the variable', () => {
    expect(() => loadConfig({ OPENAI_API_KEY: 'abc' })).toThrow(
      /OPENAI_API_KEY: holds a secret of 3 characters; at least 4 are needed/,
    );
    expect(() => loadConfig({ RAGQL_METRICS_TOKEN: 'abc' })).toThrow(
      /RAGQL_METRICS_TOKEN: holds a secret of 3 characters; at least 4 are needed/,
    );
    expect(() => loadConfig({ REDIS_URL: 'redis://:pw@127.0.0.1:6379' })).toThrow(
      /REDIS_URL: holds a secret of 2 characters/,
    );
  });

  it('lists every key and URL password it holds as a secret', () => {
    const config = loadConfig({
      OPENAI_API_KEY: 'abcd',
      CO_API_KEY: 'co-key',
      WEAVIATE_API_KEY: 'wv-key',
      REDIS_URL: 'redis://user:redis%2Fpass@127.0.0.1:6379',
      OPENAI_BASE_URL: 'http://proxy:proxy-pass@127.0.0.1:11434/v1',
      COHERE_BASE_URL: 'http://127.0.0.1:8080',
      RAGQL_METRICS_TOKEN: 'scrape-token',
    });
    expect(config.secrets.sort()).toEqual(
      ['abcd', 'co-key', 'wv-key', 'redis%2Fpass', 'redis/pass', 'proxy-pass', 'scrape-token'].sort(),
    );
  });
});
