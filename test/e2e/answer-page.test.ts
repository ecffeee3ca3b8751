/**
 * The answer page at `/`, in headless Chromium with every request beyond loopback refused: a
 * question's tokens show as they arrive, before the answer completes; a citation opens the chunk
 * it cites; the model, routing and usage show under the answer; Stop cancels the stream and, with
 * it, the model's; and a search with the retriever and reranker chosen shows each hit's scores.
 * The model is the OpenAI stand-in, scripted token by token.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IngestDocumentsDocument } from '../generated/graphql.ts';
import { launchChromium, loopbackOnlyPage } from '../support/browser.ts';
import { dataOf } from '../support/graphql-client.ts';
import { withStandinChat } from '../support/ragql-environment.ts';
import { useRagql } from '../support/use-ragql.ts';
import { useOpenAIStandin } from '../support/use-standin.ts';

describe('the answer page', () => {
  const standin = useOpenAIStandin();
  const ragql = useRagql(() => ({ ...withStandinChat(standin), RAGQL_ANSWER_CACHE: 'off' }));
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchChromium();
    dataOf(
      await ragql.execute(IngestDocumentsDocument, {
        documents: [
          {
            id: 'tides',
            title: 'Tides',
            source: 'notes/tides.md',
            content: 'The moon pulls the tides twice a day.',
          },
        ],
      }),
    );
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** The page, and the requests it made beyond loopback (refused). */
  async function openPage(): Promise<{ page: Page; refused: string[] }> {
    const opened = await loopbackOnlyPage(browser);
    await opened.page.goto(new URL('/', ragql.server.graphqlUrl).href);
    return opened;
  }

  it('shows the tokens as they arrive, then the answer with its citation, model and usage', async () => {
    standin.scriptNextChat({ tokens: ['The ', 'moon ', 'pulls ', 'them ', '[1]', '.'], tokenDelayMs: 150 });
    const { page, refused } = await openPage();
    await page.getByLabel('Question').fill('What pulls the tides?');
    await page.getByRole('button', { name: 'Ask' }).click();
    // Part of the text while the answer still streams.
    await expect
      .poll(async () => (await page.locator('#text').textContent()) ?? '', { timeout: 5000 })
      .toMatch(/^The /);
    expect(await page.locator('#answer').getAttribute('data-state')).toBe('streaming');
    await page.locator('#answer[data-state="completed"]').waitFor({ timeout: 10_000 });
    expect(await page.locator('#text').textContent()).toBe('The moon pulls them [1].');
    expect(await page.locator('#model').textContent()).toBe('standin-chat');
    expect(await page.locator('#usage').textContent()).toMatch(/^\d+ tokens/);

    await page.getByRole('link', { name: '[1]' }).click();
    expect(await page.locator('#cited-text').textContent()).toBe('The moon pulls the tides twice a day.');
    expect(await page.locator('#cited-title').textContent()).toBe('Tides');
    expect(await page.locator('#cited-source').textContent()).toBe('notes/tides.md');
    expect(refused).toEqual([]);
    // For people to look at; not compared with anything.
    await page.screenshot({ path: join(tmpdir(), 'ragql-answer-page.png'), fullPage: true });
  });

  it("searches with the retriever and reranker chosen, showing each hit's scores", async () => {
    const { page, refused } = await openPage();
    await page.locator('#reranker option[value="mmr"]').waitFor({ state: 'attached', timeout: 5000 });
    expect(await page.locator('#details').isVisible()).toBe(false);
    await page.getByLabel('Query').fill('moon tides');
    await page.getByLabel('Retriever').selectOption('hybrid');
    await page.getByLabel('Reranker').selectOption('mmr');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect
      .poll(async () => page.locator('#search-status').textContent(), { timeout: 5000 })
      .toBe('1 hit (KEYWORD).');
    expect(await page.locator('#hits li strong').textContent()).toBe('Tides');
    expect(await page.locator('#hits li .scores').textContent()).toMatch(
      /keyword [\d.e+-]+ · vector – · fused [\d.e+-]+$/,
    );
    expect(refused).toEqual([]);
    await page.screenshot({ path: join(tmpdir(), 'ragql-answer-page-search.png'), fullPage: true });
  });

  it('serves the page at `/` exactly, whatever its query, and GraphQL nowhere else', async () => {
    const root = await fetch(new URL('/?/graphql', ragql.server.graphqlUrl));
    expect(root.status).toBe(200);
    expect(root.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(root.headers.get('content-security-policy')).toContain("default-src 'none'");
    for (const path of ['/index.html', '/ui/', '/ui/other.js', '/ui/answer-page.js/']) {
      expect((await fetch(new URL(path, ragql.server.graphqlUrl))).status, path).toBe(404);
    }
  });

  it('stops a stream, and the model call with it', async () => {
    standin.scriptNextChat({
      tokens: Array.from({ length: 40 }, (_, index) => `word${index} `),
      tokenDelayMs: 100,
    });
    const before = standin.chatStreams.length;
    const { page, refused } = await openPage();
    await page.getByLabel('Question').fill('Why does the moon pull the tides?');
    await page.getByRole('button', { name: 'Ask' }).click();
    await expect
      .poll(async () => (await page.locator('#text').textContent()) ?? '', { timeout: 5000 })
      .toMatch(/word0/);
    await page.getByRole('button', { name: 'Stop' }).click();
    await page.locator('#answer[data-state="stopped"]').waitFor({ timeout: 5000 });
    const stream = standin.chatStreams[before];
    await stream?.closed;
    expect(stream?.closedEarly).toBe(true);
    expect(refused).toEqual([]);
  });
});
