import pino from 'pino';
import { currentRequestId } from './request-context.ts';

export type Logger = pino.Logger;

/**
 * Structured JSON logs (on stderr unless given another destination), each line naming its
 * request; secrets in logged objects are redacted.
 */
export function createLogger(
  level: pino.LevelWithSilent,
  destination: pino.DestinationStream = pino.destination(2),
): Logger {
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
        censor: '[redacted]',
      },
    },
    destination,
  );
}
