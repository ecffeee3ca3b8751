import { Agent, request } from 'node:http';

/**
 * A lean HTTP client for benchmarks: node:http over one kept-alive connection. fetch (undici)
 * adds about a millisecond of its own per request on this class of machine, which would be
 * counted as the server's if the benchmark used it.
 */
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

export function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown }> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json',
          'content-length': Buffer.byteLength(payload),
          ...headers,
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          try {
            resolve({
              status: response.statusCode ?? 0,
              body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
            });
          } catch (error) {
            reject(error);
          }
        });
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(payload);
  });
}

/** Lets the process exit once the benchmark is done. */
export function closeConnections(): void {
  agent.destroy();
}
