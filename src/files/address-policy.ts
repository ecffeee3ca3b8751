import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Which addresses ragql may fetch a URL from: public unicast addresses only, unless an operator
 * allows private ranges (RAGQL_URL_ALLOW_PRIVATE). Otherwise a URL, or a redirect, could make the
 * server read what only it can reach: a cloud's metadata endpoint (169.254.169.254), a database on
 * localhost, a service on the private network.
 */
export class AddressPolicy {
  private readonly allowed: readonly [ipaddr.IPv4 | ipaddr.IPv6, number][];

  /** `allowedRanges`: CIDR ranges fetched although they are not public, e.g. `10.0.0.0/8`. */
  constructor(allowedRanges: readonly string[] = []) {
    this.allowed = allowedRanges.map((range) => ipaddr.parseCIDR(range));
  }

  /** Why ragql will not connect to this address, or undefined when it may. */
  refusal(address: string): string | undefined {
    if (!ipaddr.isValid(address)) return `${address} is not an IP address`;
    // An IPv4 address written as IPv6 (::ffff:10.0.0.1) is judged as the IPv4 address it is.
    const parsed = ipaddr.process(address);
    if (this.allowed.some((range) => parsed.kind() === range[0].kind() && parsed.match(range)))
      return undefined;
    const range = parsed.range();
    if (range === 'unicast') return undefined;
    return `it resolves to ${parsed.toString()}, a ${rangeNames[range] ?? `${range}`} address, which ragql does not fetch unless RAGQL_URL_ALLOW_PRIVATE allows it`;
  }
}

const rangeNames: Record<string, string> = {
  private: 'private',
  loopback: 'loopback',
  linkLocal: 'link-local',
  uniqueLocal: 'private (unique local)',
  unspecified: 'unspecified',
  carrierGradeNat: 'carrier-grade NAT',
  multicast: 'multicast',
  broadcast: 'broadcast',
  reserved: 'reserved',
};

/** Whether `range` is an address range in CIDR notation (`10.0.0.0/8`, `fd00::/8`). */
export function isCidrRange(range: string): boolean {
  try {
    ipaddr.parseCIDR(range);
    return true;
  } catch {
    return false;
  }
}

/** Whether a URL's host is an IP address written out, which no DNS lookup will be asked about. */
export function literalAddressOf(hostname: string): string | undefined {
  const bare = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  return isIP(bare) !== 0 ? bare : undefined;
}
