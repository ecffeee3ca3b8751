import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bearerKey } from '../access/api-keys.ts';
import type { Metrics } from '../observability/metrics.ts';

export const metricsPath = '/metrics';

const missingTokenMessage =
  'A valid metrics token is required: send it as "Authorization: Bearer <RAGQL_METRICS_TOKEN>".\n';

/**
 * Prometheus's scrape endpoint. With a token, only a scraper that sends it is answered (401
 * otherwise); without one it is open, like /healthz, and says nothing a tenant could use against
 * another (caches are per tenant, operation names are left out unless the operator opts in).
 */
export async function serveMetrics(
  metrics: Metrics,
  token: string | undefined,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  if (token !== undefined && !sameToken(bearerKey(request.headers.authorization), token)) {
    response
      .writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Bearer' })
      .end(missingTokenMessage);
    return;
  }
  try {
    const body = await metrics.registry.metrics();
    response.writeHead(200, { 'content-type': metrics.registry.contentType });
    response.end(body);
  } catch {
    response.writeHead(500).end();
  }
}

/**
 * Compares digests of equal length in constant time, so the time a wrong guess takes tells
 * nothing about how much of it was right (nor about the token's length).
 */
function sameToken(sent: string | null, token: string): boolean {
  if (sent === null) return false;
  return timingSafeEqual(digestOf(sent), digestOf(token));
}

function digestOf(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
