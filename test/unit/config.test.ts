import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/composition/config.ts';

describe('configuration of the generator', () => {
  it('defaults to the extractive generator', () => {
    expect(loadConfig({}).generator).toEqual({ kind: 'extractive' });
  });

  it('configures an OpenAI chat model with its model, window, timeout and connection', () => {
    const config = loadConfig({
      RAGQL_GENERATOR: 'openai',
      RAGQL_CHAT_MODEL: 'gpt-4.1-mini',
      RAGQL_CHAT_CONTEXT_WINDOW: '32000',
      RAGQL_CHAT_TIMEOUT_MS: '5000',
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: 'http://localhost:11434/v1',
    });
    expect(config.generator).toEqual({
      kind: 'openai',
      model: 'gpt-4.1-mini',
      contextWindow: 32_000,
      apiKey: 'sk-test',
      baseUrl: 'http://localhost:11434/v1',
    });
    // One setting for every chat model: the generator and the config file's models alike.
    expect(config.chatIdleTimeoutMs).toBe(5000);
  });

  it("gives a Cohere chat model Cohere's key and a 60 s idle timeout by default", () => {
    const config = loadConfig({
      RAGQL_GENERATOR: 'cohere',
      CO_API_KEY: 'co-key',
      OPENAI_API_KEY: 'sk-other',
    });
    expect(config.generator).toEqual({
      kind: 'cohere',
      model: undefined,
      contextWindow: undefined,
      apiKey: 'co-key',
      baseUrl: undefined,
    });
    expect(config.chatIdleTimeoutMs).toBe(60_000);
  });

  it('requires a key or a base URL for the vendor of the generator and of the embedder', () => {
    expect(() => loadConfig({ RAGQL_GENERATOR: 'openai' })).toThrow(
      /OPENAI_API_KEY: is required when RAGQL_GENERATOR=openai \(or set OPENAI_BASE_URL/,
    );
    expect(() => loadConfig({ RAGQL_EMBEDDER: 'cohere' })).toThrow(
      /CO_API_KEY: is required when RAGQL_EMBEDDER=cohere \(or set COHERE_BASE_URL/,
    );
    expect(
      loadConfig({ RAGQL_GENERATOR: 'cohere', COHERE_BASE_URL: 'http://localhost:8080' }).generator,
    ).toMatchObject({
      kind: 'cohere',
      baseUrl: 'http://localhost:8080',
    });
  });

  it('refuses an unknown generator and a window or timeout that is not a positive integer', () => {
    const problems = (() => {
      try {
        loadConfig({
          RAGQL_GENERATOR: 'llama',
          RAGQL_CHAT_CONTEXT_WINDOW: '0',
          RAGQL_CHAT_TIMEOUT_MS: '1.5',
        });
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as Error).message;
      }
      return '';
    })();
    expect(problems).toMatch(/RAGQL_GENERATOR/);
    expect(problems).toMatch(/RAGQL_CHAT_CONTEXT_WINDOW/);
    expect(problems).toMatch(/RAGQL_CHAT_TIMEOUT_MS/);
  });
});

describe('configuration of the store', () => {
  it('defaults to the embedded store', () => {
    expect(loadConfig({}).store).toEqual({ kind: 'embedded' });
  });

  it("configures Weaviate, with gRPC on the HTTP host's port 50051 unless told", () => {
    expect(
      loadConfig({
        RAGQL_STORE: 'weaviate',
        WEAVIATE_URL: 'http://weaviate.internal:8080',
        WEAVIATE_API_KEY: 'wv-key',
      }).store,
    ).toEqual({
      kind: 'weaviate',
      httpUrl: 'http://weaviate.internal:8080',
      grpcAddress: 'weaviate.internal:50051',
      apiKey: 'wv-key',
      consistencyLevel: undefined,
      replicationFactor: 1,
      collectionPrefix: 'Ragql',
    });
    expect(
      loadConfig({
        RAGQL_STORE: 'weaviate',
        WEAVIATE_URL: 'http://127.0.0.1:8080',
        WEAVIATE_GRPC_URL: '127.0.0.1:50052',
        RAGQL_WEAVIATE_CONSISTENCY: 'QUORUM',
        RAGQL_WEAVIATE_REPLICATION_FACTOR: '3',
      }).store,
    ).toMatchObject({ grpcAddress: '127.0.0.1:50052', consistencyLevel: 'QUORUM', replicationFactor: 3 });
  });

  it('names every Weaviate variable that is missing or malformed', () => {
    expect(() => loadConfig({ RAGQL_STORE: 'weaviate' })).toThrow(
      /WEAVIATE_URL: is required when RAGQL_STORE=weaviate/,
    );
    expect(() =>
      loadConfig({
        RAGQL_STORE: 'weaviate',
        WEAVIATE_URL: 'http://127.0.0.1:8080',
        WEAVIATE_GRPC_URL: 'http://127.0.0.1:50051',
        RAGQL_WEAVIATE_CONSISTENCY: 'MOST',
      }),
    ).toThrow(/WEAVIATE_GRPC_URL: must be host:port[\s\S]*RAGQL_WEAVIATE_CONSISTENCY/);
  });
});

describe('configuration of the HTTP server', () => {
  it('exposes introspection and GraphiQL and allows any origin unless told otherwise', () => {
    expect(loadConfig({}).http).toEqual({
      introspection: true,
      graphiql: true,
      answerPage: true,
      corsOrigins: '*',
      maxBodyBytes: 64 * 1024 * 1024,
    });
    expect(
      loadConfig({
        RAGQL_INTROSPECTION: 'off',
        RAGQL_GRAPHIQL: 'off',
        RAGQL_CORS_ORIGINS: 'https://app.example.com, http://localhost:3000',
      }).http,
    ).toMatchObject({
      introspection: false,
      graphiql: false,
      corsOrigins: ['https://app.example.com', 'http://localhost:3000'],
    });
    expect(loadConfig({ RAGQL_CORS_ORIGINS: 'none' }).http.corsOrigins).toBe('none');
  });

  it('refuses an origin with a path, and a body limit a document of the largest size would not fit', () => {
    expect(() => loadConfig({ RAGQL_CORS_ORIGINS: 'https://app.example.com/login' })).toThrow(
      /RAGQL_CORS_ORIGINS: must be \*, none, or origins/,
    );
    expect(() => loadConfig({ RAGQL_MAX_DOCUMENT_BYTES: '5000', RAGQL_MAX_BODY_BYTES: '5000' })).toThrow(
      /RAGQL_MAX_BODY_BYTES: must be larger than RAGQL_MAX_DOCUMENT_BYTES \(5000\)/,
    );
  });
});
