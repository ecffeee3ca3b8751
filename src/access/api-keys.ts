import { randomBytes } from 'node:crypto';
import { sha256Hex } from '../hash.ts';
import { defaultTenant } from '../ports.ts';
import { anonymousTier } from './tiers.ts';

/** An API key as the config file stores it: only its hash, and whom it stands for. */
export interface ApiKeyEntry {
  /** `sha256:<64 hex digits>` of the key. */
  hash: string;
  tenant: string;
  tier: string;
  /** A label for logs, e.g. who holds the key. */
  name?: string;
  /** The key may run operations on the whole store (re-embedding), not only its tenant's documents. */
  operator?: boolean;
}

/** Who is calling: the tenant whose documents every store call reads and writes, and its tier. */
export interface Caller {
  tenant: string;
  tier: string;
  /** What rate limits count by: a prefix of the key's hash, or `anonymous`. */
  keyId: string;
  /** The key's name; null for the anonymous caller. */
  keyName: string | null;
  /** May run operations on the whole store: an operator key, or anyone on a server without keys. */
  operator: boolean;
}

/** Prefix of ragql keys, so a leaked one is recognisable (and secret scanners can match it). */
const keyPrefix = 'rq_';

/** A new random key (256 bits) and the hash to put in the config file. */
export function createApiKey(): { key: string; hash: string } {
  const key = `${keyPrefix}${randomBytes(32).toString('base64url')}`;
  return { key, hash: hashApiKey(key) };
}

/**
 * One fast hash suffices: the keys are random 256-bit values, so there is nothing for a slow
 * password hash to protect against.
 */
export function hashApiKey(key: string): string {
  return `sha256:${sha256Hex(key)}`;
}

/** Who may call: either everyone as one anonymous tenant, or the holders of the configured keys. */
export class Authenticator {
  readonly required: boolean;
  private readonly byHash: ReadonlyMap<string, ApiKeyEntry>;
  private readonly anonymous: Caller;

  constructor(
    required: boolean,
    entries: readonly ApiKeyEntry[],
    anonymous: Caller = {
      tenant: defaultTenant,
      tier: anonymousTier,
      keyId: 'anonymous',
      keyName: null,
      // Without keys, anyone may already do anything: there is no one to keep out.
      operator: true,
    },
  ) {
    this.required = required;
    this.byHash = new Map(entries.map((entry) => [entry.hash, entry]));
    this.anonymous = anonymous;
  }

  /**
   * The caller a key stands for; without authentication, the anonymous caller whatever was sent.
   * Null when authentication is required and the key is missing or unknown.
   */
  authenticate(key: string | null): Caller | null {
    if (!this.required) return this.anonymous;
    if (!key) return null;
    const entry = this.byHash.get(hashApiKey(key));
    if (!entry) return null;
    return {
      tenant: entry.tenant,
      tier: entry.tier,
      keyId: entry.hash.slice(7, 31),
      keyName: entry.name ?? null,
      operator: entry.operator === true,
    };
  }
}

/** The key in an `Authorization: Bearer <key>` value; null when there is none. */
export function bearerKey(authorization: unknown): string | null {
  if (typeof authorization !== 'string') return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  return match?.[1] ?? null;
}
