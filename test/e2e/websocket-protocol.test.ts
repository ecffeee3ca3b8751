/**
 * The graphql-ws protocol as a raw WebSocket client speaks it, misbehaving: every violation must
 * close the socket with the code the protocol defines (graphql-ws PROTOCOL.md), and the server
 * must go on serving other connections. A bad API key (4403) is tested in auth.test.ts, many
 * subscriptions on one socket in llm-answer-stream.test.ts.
 */
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { useRagql } from '../support/use-ragql.ts';

interface Closed {
  code: number;
  reason: string;
}

/** A graphql-transport-ws socket, with what it received and how it closed. */
function connect(graphqlUrl: string) {
  const socket = new WebSocket(graphqlUrl.replace(/^http/, 'ws'), 'graphql-transport-ws');
  const messages: Record<string, unknown>[] = [];
  socket.on('message', (data) => messages.push(JSON.parse(String(data)) as Record<string, unknown>));
  const opened = new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const closed = new Promise<Closed>((resolve) =>
    socket.once('close', (code, reason) => resolve({ code, reason: String(reason) })),
  );
  const send = (message: unknown) =>
    socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  const acknowledged = async () => {
    await opened;
    send({ type: 'connection_init' });
    while (!messages.some((message) => message.type === 'connection_ack')) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  return { socket, messages, opened, closed, send, acknowledged };
}

const subscribe = (id: string) => ({
  id,
  type: 'subscribe',
  payload: { query: 'subscription { answerStream(question: "What do tides do?") { __typename } }' },
});

describe('the graphql-ws protocol, misused', () => {
  const ragql = useRagql();

  it('closes with 4408 a connection that never sends connection_init', async () => {
    const client = connect(ragql.server.graphqlUrl);
    await client.opened;
    // graphql-ws's default wait for connection_init is 3 seconds.
    expect(await client.closed).toMatchObject({ code: 4408 });
  });

  it('closes with 4401 a subscribe sent before the connection is acknowledged', async () => {
    const client = connect(ragql.server.graphqlUrl);
    await client.opened;
    client.send(subscribe('early'));
    expect(await client.closed).toMatchObject({ code: 4401 });
  });

  it.each([
    ['text that is not JSON', 'this is not json'],
    ['a message of no known type', { type: 'launch_missiles' }],
    ['a subscribe without a payload', { id: 'x', type: 'subscribe' }],
  ])('closes with 4400 a connection that sends %s', async (_label, message) => {
    const client = connect(ragql.server.graphqlUrl);
    await client.acknowledged();
    client.send(message);
    expect(await client.closed).toMatchObject({ code: 4400 });
  });

  it('closes with 4409 a second subscribe under an operation id still in use', async () => {
    const client = connect(ragql.server.graphqlUrl);
    await client.acknowledged();
    client.send(subscribe('same'));
    client.send(subscribe('same'));
    expect(await client.closed).toMatchObject({ code: 4409 });
  });

  it('closes with 4429 a second connection_init', async () => {
    const client = connect(ragql.server.graphqlUrl);
    await client.acknowledged();
    client.send({ type: 'connection_init' });
    expect(await client.closed).toMatchObject({ code: 4429 });
  });

  it('answers a well-behaved client normally after all that', async () => {
    const client = connect(ragql.server.graphqlUrl);
    await client.acknowledged();
    client.send(subscribe('fine'));
    while (!client.messages.some((message) => message.type === 'complete' && message.id === 'fine')) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const types = client.messages
      .filter((message) => message.type === 'next')
      .map(
        (message) =>
          (message.payload as { data: { answerStream: { __typename: string } } }).data.answerStream
            .__typename,
      );
    expect(types.at(0)).toBe('AnswerSources');
    expect(types.at(-1)).toBe('AnswerCompleted');
    client.socket.close(1000);
    expect(await client.closed).toMatchObject({ code: 1000 });
  });
});
