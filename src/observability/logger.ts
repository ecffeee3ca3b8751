import pino from 'pino';
import { currentRequestId } from './request-context.ts';

export type Logger = pino.Logger;

export interface LoggerOptions {
  /**
   * Values that must never be written (the provider and store keys and passwords in use), whatever
   * their length. The configuration refuses secrets too short to scrub (`minimumSecretLength`).
   */
  secrets?: readonly (string | undefined)[];
}

const censor = '[redacted]';

/**
 * Credentials by their shape, wherever they appear in a line: OpenAI-style `sk-` keys, ragql's own
 * `rq_` keys, the credentials of an Authorization header, and the user and password of a URL.
 * Providers quote keys in error messages, which end up in logged errors' messages and stacks,
 * where field redaction cannot reach.
 */
const credentialPatterns: readonly { pattern: RegExp; replacement: string }[] = [
  { pattern: /\bsk-[A-Za-z0-9_-]{8,}/g, replacement: censor },
  { pattern: /\brq_[A-Za-z0-9_-]{16,}/g, replacement: censor },
  { pattern: /\b(?:Bearer|Basic)\s+[^\s"\\]+/gi, replacement: censor },
  { pattern: /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"\\]+@/gi, replacement: `$1${censor}@` },
];

/**
 * Below this length a secret is removed only where it stands as a word of its own, so that a
 * short password such as `tide` does not censor every `tides` in the logs. Longer secrets are
 * random enough to be removed wherever they appear.
 */
const wholeWordBelowLength = 8;

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
  const secretPatterns = (options.secrets ?? [])
    .filter((secret): secret is string => typeof secret === 'string' && secret !== '')
    .flatMap(patternsFor);
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
      hooks: { streamWrite: (line) => scrub(line, secretPatterns) },
    },
    destination,
  );
}

/**
 * What finds a secret in a finished JSON line: the secret as written, and as JSON escapes it when
 * it holds a quote, a backslash or a control character.
 */
function patternsFor(secret: string): RegExp[] {
  const forms = new Set([secret, JSON.stringify(secret).slice(1, -1)]);
  return [...forms].map((form) => {
    const escaped = form.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    if (secret.length >= wholeWordBelowLength) return new RegExp(escaped, 'g');
    // A word boundary that also holds after a JSON escape such as \n, whose letter would
    // otherwise count as part of the word.
    return new RegExp(
      `(?<=^|[^\\p{L}\\p{N}]|\\\\[bfnrt]|\\\\u[0-9a-fA-F]{4})${escaped}(?![\\p{L}\\p{N}])`,
      'gu',
    );
  });
}

function scrub(line: string, secretPatterns: readonly RegExp[]): string {
  let scrubbed = line;
  for (const pattern of secretPatterns) scrubbed = scrubbed.replace(pattern, censor);
  for (const { pattern, replacement } of credentialPatterns)
    scrubbed = scrubbed.replace(pattern, replacement);
  return scrubbed;
}
