/**
 * GraphiQL at /graphql, served by ragql itself: in headless Chromium with every request beyond
 * loopback refused, the page renders its editor and runs a query, and asked for nothing outside.
 */

import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, loopbackOnlyPage } from '../support/browser.ts';
import { useRagql } from '../support/use-ragql.ts';

describe('GraphiQL without a network', () => {
  const ragql = useRagql(() => ({}));
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('renders and runs a query with only loopback reachable', async () => {
    const { page, refused } = await loopbackOnlyPage(browser);
    await page.goto(ragql.server.graphqlUrl);
    const editor = page.locator('.graphiql-query-editor');
    await editor.waitFor({ timeout: 20_000 });
    await editor.click();
    await page.keyboard.press('ControlOrMeta+a');
    await page.keyboard.press('Delete');
    // Inserted, not typed: the editor would close each brace typed a second time.
    await page.keyboard.insertText('{ serverInfo { version store } }');
    await page.locator('.graphiql-execute-button').click();
    const result = page.locator('.graphiql-response');
    await expect.poll(async () => result.textContent(), { timeout: 10_000 }).toMatch(/"store":\s*"embedded"/);
    expect(refused).toEqual([]);
    await page.context().close();
  });
});
