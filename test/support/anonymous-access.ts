/**
 * The access parts of a server with authentication off, for suites and benchmarks that assemble
 * services around adapters of their own (assembleServices takes every part, with no defaults).
 */
import { Authenticator } from '../../src/access/api-keys.ts';
import { RateLimits } from '../../src/access/rate-limits.ts';
import { defaultTiers } from '../../src/access/tiers.ts';
import { UsageLedger } from '../../src/access/usage-ledger.ts';
import type { Logger } from '../../src/observability/logger.ts';
import { Metrics } from '../../src/observability/metrics.ts';

/** Anyone may call, as the anonymous tenant, with the default tiers' limits counted in process. */
export function anonymousAccess(logger: Logger) {
  return {
    auth: new Authenticator(false, []),
    tiers: defaultTiers,
    rateLimits: new RateLimits({ tiers: defaultTiers, logger }),
    usage: new UsageLedger({ logger }),
    metrics: new Metrics(),
    answerCache: null,
    similarAnswerCache: null,
    knownPages: null,
  };
}
