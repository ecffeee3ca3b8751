import { type LookupAddress, lookup } from 'node:dns';
import { Agent, fetch } from 'undici';
import { deadline } from '../abort.ts';
import { version } from '../version.ts';
import { type AddressPolicy, literalAddressOf } from './address-policy.ts';
import type { NamedFile } from './document-files.ts';
import { FileRefusedError } from './parsed-file.ts';

export interface FetchLimits {
  /** Longest a fetch may take, redirects and the body included. @default 15 s */
  timeoutMs: number;
  /** Largest body read. */
  maxBytes: number;
}

export const defaultFetchTimeoutMs = 15_000;
/** Redirects followed before a URL is refused, as browsers cap them too. */
const maxRedirects = 5;
const redirectStatuses = new Set([301, 302, 303, 307, 308]);

/** What a page's last fetch answered, to ask next time whether it changed. */
export interface PageValidators {
  etag?: string;
  lastModified?: string;
}

export interface FetchedPage {
  /** The URL the page came from, after redirects. */
  url: string;
  contentType: string | undefined;
  bytes: Uint8Array;
  validators: PageValidators;
}

export type FetchOutcome = { page: FetchedPage } | { notModified: true };

/**
 * A fetched page as a file to read, named by its URL's path, whose extension says the format
 * first (a .md page served as text/plain is Markdown), else its Content-Type; its URL the title
 * when the page has none.
 */
export function pageAsFile(page: FetchedPage, url: string): NamedFile {
  return { name: new URL(page.url).pathname, type: page.contentType, bytes: page.bytes, title: url };
}

class AddressRefusedError extends Error {}

/**
 * Fetches pages for ingestion, safely by default: http and https only, every address the host
 * resolves to checked against the address policy when the connection is made (so a DNS answer
 * that changes between a check and the connect cannot slip past it), on every redirect, within a
 * time and a size limit.
 */
export class PageFetcher {
  private readonly limits: FetchLimits;
  private readonly policy: AddressPolicy;
  private readonly agent: Agent;

  constructor(policy: AddressPolicy, limits: FetchLimits) {
    this.policy = policy;
    this.limits = limits;
    this.agent = new Agent({ connect: { lookup: this.checkedLookup } });
  }

  /**
   * The page, or `notModified` when `validators` are given and the server says it is unchanged.
   * FileRefusedError says why a page cannot be had; the caller's abort is thrown as it is.
   */
  async fetch(url: string, validators?: PageValidators, signal?: AbortSignal): Promise<FetchOutcome> {
    const clock = deadline(signal, this.limits.timeoutMs);
    try {
      return await this.follow(new URL(url), validators, clock.signal);
    } catch (error) {
      signal?.throwIfAborted();
      if (clock.timedOut()) {
        throw new FileRefusedError(`it did not answer within ${this.limits.timeoutMs / 1000} s, the limit`);
      }
      throw refusalOf(error);
    } finally {
      clock.release();
    }
  }

  /** The page, asked for without validators: a server has nothing to answer 304 to. */
  async fetchPage(url: string, signal?: AbortSignal): Promise<FetchedPage> {
    const outcome = await this.fetch(url, undefined, signal);
    if ('page' in outcome) return outcome.page;
    throw new FileRefusedError('it answered 304 Not Modified to a plain request');
  }

  close(): Promise<void> {
    return this.agent.close();
  }

  private async follow(
    start: URL,
    validators: PageValidators | undefined,
    signal: AbortSignal,
  ): Promise<FetchOutcome> {
    let current = start;
    for (let redirects = 0; ; redirects++) {
      this.checkTarget(current);
      const response = await fetch(current, {
        dispatcher: this.agent,
        redirect: 'manual',
        signal,
        headers: {
          'user-agent': `ragql/${version}`,
          accept:
            'text/html, application/xhtml+xml, application/pdf, text/markdown, text/plain;q=0.9, */*;q=0.5',
          ...(validators?.etag && { 'if-none-match': validators.etag }),
          ...(validators?.lastModified && { 'if-modified-since': validators.lastModified }),
        },
      });
      if (redirectStatuses.has(response.status)) {
        await response.body?.cancel();
        const location = response.headers.get('location');
        if (!location) throw new FileRefusedError(`it answered ${response.status} without saying where to`);
        if (redirects === maxRedirects)
          throw new FileRefusedError(`it redirected more than ${maxRedirects} times`);
        current = new URL(location, current);
        continue;
      }
      if (response.status === 304 && validators) {
        await response.body?.cancel();
        return { notModified: true };
      }
      if (!response.ok) {
        await response.body?.cancel();
        throw new FileRefusedError(`it answered ${response.status} ${response.statusText}`.trim());
      }
      const bytes = await this.readBody(response);
      return {
        page: {
          url: current.href,
          contentType: response.headers.get('content-type') ?? undefined,
          bytes,
          validators: {
            ...(response.headers.get('etag') && { etag: response.headers.get('etag') as string }),
            ...(response.headers.get('last-modified') && {
              lastModified: response.headers.get('last-modified') as string,
            }),
          },
        },
      };
    }
  }

  /** Refuses a scheme other than http(s), and a host written as an address the policy refuses. */
  private checkTarget(url: URL): void {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new FileRefusedError(`ragql fetches http and https URLs only, not ${url.protocol}`);
    }
    const literal = literalAddressOf(url.hostname);
    const refusal = literal === undefined ? undefined : this.policy.refusal(literal);
    if (refusal) throw new FileRefusedError(refusal.replace('it resolves to', 'it is'));
  }

  /** The body, counted as it streams in (after decompression): past the limit, the fetch stops. */
  private async readBody(response: Awaited<ReturnType<typeof fetch>>): Promise<Uint8Array> {
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    const tooLarge = () =>
      new FileRefusedError(`it is larger than ${this.limits.maxBytes} bytes, the limit for one file`);
    if (declared > this.limits.maxBytes) {
      await response.body?.cancel();
      throw tooLarge();
    }
    const parts: Uint8Array[] = [];
    let length = 0;
    for await (const part of response.body ?? []) {
      length += part.byteLength;
      if (length > this.limits.maxBytes) throw tooLarge();
      parts.push(part);
    }
    return Buffer.concat(parts, length);
  }

  /** DNS as usual, then every address the host resolves to checked; one refused address refuses the host. */
  private readonly checkedLookup = (
    hostname: string,
    options: { all?: boolean },
    callback: (error: Error | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const refusal = addresses.map((entry) => this.policy.refusal(entry.address)).find(Boolean);
      if (refusal) return callback(new AddressRefusedError(refusal), []);
      const [first] = addresses;
      if (options.all) return callback(null, addresses);
      return callback(null, first?.address ?? '', first?.family);
    });
  };
}

/** A failed fetch as a refusal that says why: a refused address, a name that does not resolve, a refused connection. */
function refusalOf(error: unknown): Error {
  if (error instanceof FileRefusedError) return error;
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof AddressRefusedError) return new FileRefusedError(cause.message);
    const code = (cause as { code?: unknown }).code;
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
      return new FileRefusedError('its host name does not resolve');
    if (typeof code === 'string' && code.startsWith('E')) {
      return new FileRefusedError(`it could not be reached (${code})`);
    }
    if (typeof code === 'string' && code.startsWith('UND_ERR')) {
      return new FileRefusedError(`it could not be read (${code})`);
    }
  }
  return new FileRefusedError('it could not be fetched');
}
