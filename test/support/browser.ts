/**
 * A real browser for the tests: Debian's Chromium (the `chromium` on PATH, or RAGQL_CHROMIUM),
 * driven by playwright-core, headless. A machine without it fails the tests that need it, naming
 * what to install; .ci/run installs it.
 */
import { execFileSync } from 'node:child_process';
import { type Browser, chromium, type Page } from 'playwright-core';

function chromiumPath(): string {
  if (process.env.RAGQL_CHROMIUM) return process.env.RAGQL_CHROMIUM;
  try {
    return execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      'These tests need Chromium: `apt-get install -y chromium` (or set RAGQL_CHROMIUM to its binary).',
    );
  }
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
}

/** Whether a URL is on this machine's loopback, the only network the browser tests allow. */
export function isLoopback(url: string): boolean {
  const { protocol, hostname } = new URL(url);
  if (protocol === 'data:' || protocol === 'blob:') return true;
  return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]';
}

/** A page in a context of its own that reaches loopback only; `refused` lists what else it asked for. */
export async function loopbackOnlyPage(browser: Browser): Promise<{ page: Page; refused: string[] }> {
  const context = await browser.newContext();
  const refused: string[] = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (isLoopback(url)) return route.continue();
    refused.push(url);
    return route.abort('internetdisconnected');
  });
  return { page: await context.newPage(), refused };
}
