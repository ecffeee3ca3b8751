/**
 * The access parts of a server with authentication off, for suites and benchmarks that assemble
 * services around adapters of their own (assembleServices takes every part, with no defaults).
 */
import { Authenticator } from '../../src/gateway/api-keys.ts';
import { RateLimits } from '../../src/gateway/rate-limits.ts';
import { defaultTiers } from '../../src/gateway/tiers.ts';
import { UsageLedger } from '../../src/gateway/usage-ledger.ts';
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
  };
}
