import pino from 'pino';
import { currentRequestId } from './request-context.ts';

export type Logger = pino.Logger;

export interface LoggerOptions {
  /** Values that must never be written (the provider and store keys in use), wherever they appear. */
  secrets?: readonly (string | undefined)[];
}

/**
 * Credentials by their shape, wherever they appear in a line: OpenAI-style `sk-` keys, ragql's own
 * `rq_` keys, and bearer tokens. Providers quote keys in error messages, which end up in logged
 * errors' messages and stacks, where field redaction cannot reach.
 */
const credentialPatterns = [/\bsk-[A-Za-z0-9_-]{8,}/g, /\brq_[A-Za-z0-9_-]{16,}/g, /\bBearer\s+[^\s"\\]+/gi];
const censor = '[redacted]';

/**
 * Structured JSON logs (on stderr unless given another destination), each line naming its
 * request. Secrets are kept out twice: fields that hold credentials are redacted, and every
 * finished line is scrubbed of the configured secrets and of anything shaped like a credential.
 */
export function createLogger(
  level: pino.LevelWithSilent,
  destination: pino.DestinationStream = pino.destination(2),
  options: LoggerOptions = {},
): Logger {
  const secrets = (options.secrets ?? []).filter(
    (secret): secret is string => typeof secret === 'string' && secret.length >= 8,
  );
  return pino(
    {
      name: 'ragql',
      level,
      mixin: () => {
        const requestId = currentRequestId();
        return requestId ? { requestId } : {};
      },
      redact: {
        paths: [
          '*.authorization',
          '*.headers.authorization',
          '*.apiKey',
          '*.token',
          'config.embedder.apiKey',
        ],
        censor,
      },
      hooks: { streamWrite: (line) => scrub(line, secrets) },
    },
    destination,
  );
}

function scrub(line: string, secrets: readonly string[]): string {
  let scrubbed = line;
  for (const secret of secrets) scrubbed = scrubbed.split(secret).join(censor);
  for (const pattern of credentialPatterns) scrubbed = scrubbed.replace(pattern, censor);
  return scrubbed;
}
