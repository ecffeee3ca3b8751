import { badInput } from '../errors.ts';
import { tenantNamePattern } from '../ports.ts';

/** Refuses a tenant name outside `tenantNamePattern`, the rule every store's `forTenant` applies. */
export function assertTenantName(tenant: string): void {
  if (!tenantNamePattern.test(tenant)) {
    // Quoted only in part: the name comes from outside and may be long.
    throw badInput(`A tenant name has 1 to 64 letters, digits, "-" and "_"; got "${tenant.slice(0, 80)}".`);
  }
}
