/**
 * The answer page at `/`, in headless Chromium with every request beyond loopback refused: a
 * question's tokens show as they arrive, before the answer completes; a citation opens the chunk
 * it cites, with its pages; the model, routing and usage show under the answer; Stop cancels the
 * stream and, with it, the model's; a search with the retriever and reranker chosen shows each
 * hit's scores; the documents screen uploads files (each with its status), lists, filters, shows
 * chunks and deletes. With authentication on, the key field is what lets the page in, and a
 * restarted or failed stream is shown as such. Every control has an accessible name, the page
 * works from the keyboard and fits a phone's width. The model is the OpenAI stand-in, scripted
 * token by token. Screenshots of each screen land in test-results/screenshots, for people.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/access/api-keys.ts';
import { defaultTiers } from '../../src/access/tiers.ts';
import { IngestDocumentsDocument } from '../generated/graphql.ts';
import { launchChromium, loopbackOnlyPage } from '../support/browser.ts';
import { pdfFile } from '../support/document-files.ts';
import { dataOf, graphqlClient } from '../support/graphql-client.ts';
import { withAuthentication, withStandinChat, withStandinGateway } from '../support/ragql-environment.ts';
import { useRagql } from '../support/use-ragql.ts';
import { useOpenAIStandin } from '../support/use-standin.ts';

const screenshots = join(import.meta.dirname, '../../test-results/screenshots');
mkdirSync(screenshots, { recursive: true });
/** A screenshot for people to look at; not compared with anything. */
const screenshot = (page: Page, name: string) =>
  page.screenshot({ path: join(screenshots, `answer-page-${name}.png`), fullPage: true });

/** The page of the server at `graphqlUrl`, and the requests it made beyond loopback (refused). */
async function openAnswerPage(
  browser: Browser,
  graphqlUrl: string,
): Promise<{ page: Page; refused: string[] }> {
  const opened = await loopbackOnlyPage(browser);
  await opened.page.goto(new URL('/', graphqlUrl).href);
  return opened;
}

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

  const openPage = () => openAnswerPage(browser, ragql.server.graphqlUrl);

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
    await screenshot(page, 'ask');
  });

  it("searches with the retriever and reranker chosen, showing each hit's scores", async () => {
    const { page, refused } = await openPage();
    await page.locator('#reranker option[value="mmr"]').waitFor({ state: 'attached', timeout: 5000 });
    expect(await page.locator('#details').isVisible()).toBe(false);
    await page.getByLabel('Query').fill('moon tides');
    await page.getByLabel('Retriever', { exact: true }).selectOption('hybrid');
    await page.getByLabel('Reranker', { exact: true }).selectOption('mmr');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect
      .poll(async () => page.locator('#search-status').textContent(), { timeout: 5000 })
      .toBe('1 hit (KEYWORD).');
    expect(await page.locator('#hits li strong').textContent()).toBe('Tides');
    expect(await page.locator('#hits li .scores').textContent()).toMatch(
      /keyword [\d.e+-]+ · vector – · fused [\d.e+-]+$/,
    );
    // The reranker's options, named from its schema, sent as typed; options it does not take are refused.
    expect(await page.locator('#reranker-options-hint').textContent()).toBe('(JSON: lambda (number))');
    await page.getByLabel('Reranker options').fill('{"lambda": 0.9}');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect
      .poll(async () => page.locator('#search-status').textContent(), { timeout: 5000 })
      .toBe('1 hit (KEYWORD).');
    await page.getByLabel('Reranker options').fill('{"strength": 2}');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect
      .poll(async () => page.locator('#search-status').textContent(), { timeout: 5000 })
      .toMatch(/^The search failed: BAD_USER_INPUT: .*strength/);
    await page.getByLabel('Reranker options').fill('{lambda');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect
      .poll(async () => page.locator('#search-status').textContent(), { timeout: 5000 })
      .toBe('The search failed: the reranker options are not JSON');
    expect(refused).toEqual([]);
    await screenshot(page, 'search');
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

  it('uploads files with a status each, lists and filters them, shows their chunks with pages, and deletes one', async () => {
    const report = await pdfFile(
      [
        { lines: [{ text: 'Spring tides are the highest of the month.' }] },
        { lines: [{ text: 'Neap tides are the lowest.' }] },
      ],
      'Tide report',
    );
    const { page, refused } = await openPage();
    await page.getByLabel('Upload files').setInputFiles([
      { name: 'report.pdf', mimeType: 'application/pdf', buffer: Buffer.from(report) },
      {
        name: 'harbour.md',
        mimeType: 'text/markdown',
        buffer: Buffer.from('# Harbour\n\nBoats moor at the quay.\n'),
      },
      { name: 'photo.png', mimeType: 'image/png', buffer: Buffer.from([0x89, 0x50, 0x4e, 0x47]) },
    ]);
    const uploads = page.getByRole('list', { name: 'Uploads' }).getByRole('listitem');
    await expect
      .poll(async () => uploads.allTextContents(), { timeout: 10_000 })
      .toEqual([
        'report.pdf: CREATED (1 chunk)',
        'harbour.md: CREATED (1 chunk)',
        'photo.png: refused: it is of a type ragql does not read; it reads PDF (.pdf), Word (.docx), HTML (.html, .htm), Markdown (.md) and text (.txt, .csv, .tsv, .json)',
      ]);
    const listed = page.getByRole('list', { name: 'Documents' }).getByRole('listitem');
    await expect
      .poll(async () => (await listed.locator('strong').allTextContents()).sort())
      .toEqual(['Harbour', 'Tide report', 'Tides']);

    await page.getByLabel('Field').fill('title');
    await page.getByLabel('Condition').selectOption('eq');
    await page.getByLabel('Value').fill('Tide report');
    await page.getByRole('button', { name: 'List' }).click();
    await expect.poll(async () => listed.locator('strong').allTextContents()).toEqual(['Tide report']);

    await page.getByRole('button', { name: 'Chunks of report.pdf' }).click();
    await expect
      .poll(async () => page.locator('#chunk-list li .scores').allTextContents())
      .toEqual(['pages 1–2']);
    await screenshot(page, 'documents');

    await page.getByRole('button', { name: 'Delete report.pdf' }).click();
    await expect
      .poll(async () => page.locator('#documents-status').textContent())
      .toBe('Deleted report.pdf.');
    expect(
      await ragql.services.store.forTenant('default').getDocuments(['report.pdf', 'harbour.md']),
    ).toEqual([null, expect.objectContaining({ id: 'harbour.md' })]);
    expect(refused).toEqual([]);
  });

  it('pages through the documents ten at a time, both ways, and takes files dropped on it', async () => {
    const documents = Array.from({ length: 11 }, (_, index) => ({
      id: `page-${String(index).padStart(2, '0')}`,
      content: `Harbour note number ${index}.`,
    }));
    dataOf(await ragql.execute(IngestDocumentsDocument, { documents }));
    const { page, refused } = await openPage();
    const ids = () =>
      page
        .locator('#document-list li')
        .evaluateAll((items) =>
          items.map((item) => item.querySelector('.scores')?.textContent?.trim().split(' ')[0]),
        );
    await expect.poll(ids).toHaveLength(10);
    const firstPage = await ids();
    await page.getByRole('button', { name: 'Next page' }).click();
    await expect.poll(ids).not.toEqual(firstPage);
    const secondPage = await ids();
    expect([...firstPage, ...secondPage].filter((id) => id?.startsWith('page-'))).toEqual(
      documents.map((document) => document.id),
    );
    expect(await page.getByRole('button', { name: 'Next page' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Previous page' }).click();
    await expect.poll(ids).toEqual(firstPage);

    // A file dropped on the upload area, as a browser hands it over (a DataTransfer).
    const dropped = await page.evaluateHandle(() => {
      const transfer = new DataTransfer();
      transfer.items.add(new File(['Dropped notes about the quay.'], 'dropped.txt', { type: 'text/plain' }));
      return transfer;
    });
    await page.locator('#drop-zone').dispatchEvent('drop', { dataTransfer: dropped });
    await expect
      .poll(async () => page.getByRole('list', { name: 'Uploads' }).getByRole('listitem').allTextContents())
      .toEqual(['dropped.txt: CREATED (1 chunk)']);
    for (const document of [...documents, { id: 'dropped.txt' }]) {
      await ragql.services.documents.delete('default', document.id);
    }
    expect(refused).toEqual([]);
  });

  it('gives every control an accessible name, works from the keyboard, and fits a phone', async () => {
    standin.scriptNextChat({ tokens: ['Tides ', 'follow ', 'the ', 'moon ', '[1]', '.'] });
    const { page, refused } = await openPage();
    await page.setViewportSize({ width: 375, height: 740 });
    await page.locator('#reranker option[value="mmr"]').waitFor({ state: 'attached', timeout: 5000 });
    const tree = await page.locator('body').ariaSnapshot();
    const unnamed = tree
      .split('\n')
      .filter((line) =>
        /^\s*- (textbox|button|combobox|searchbox|link|checkbox)(\s*\[[^\]]*\])?:?\s*$/.test(line),
      );
    expect(unnamed).toEqual([]);
    expect(tree).toContain('textbox "Question"');
    expect(tree).toContain('button "Upload files');
    // No part of the page wider than the phone.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);

    // The skip link first, then the question, typed into and sent with the keyboard alone.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to the question');
    await page.keyboard.press('Enter');
    await page.getByLabel('Question').focus();
    await page.keyboard.type('What do tides follow?');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('send');
    await page.keyboard.press('Enter');
    await page.locator('#answer[data-state="completed"]').waitFor({ timeout: 10_000 });
    // A citation is a link: Tab reaches it, Enter opens the chunk and moves the focus there.
    await page.getByRole('link', { name: '[1]' }).focus();
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('cited');
    await screenshot(page, 'phone');
    expect(refused).toEqual([]);
  });
});

describe('the answer page with authentication on', () => {
  const member = createApiKey();
  const strict = createApiKey();
  // Usage lives in the machine's Redis, which outlives test runs: tenants of this run only.
  const tenant = `page_${randomUUID().slice(0, 8)}`;
  const standin = useOpenAIStandin();
  const ragql = useRagql((dataDir) => ({
    ...withAuthentication(dataDir, {
      apiKeys: [
        { tenant, tier: 'pro', hash: member.hash },
        { tenant, tier: 'strict', hash: strict.hash },
      ],
      models: [{ provider: 'openai', model: 'gpt-4o' }],
      tiers: {
        pro: { ...defaultTiers.pro, fallbacks: ['gpt-4o'] },
        strict: { ...defaultTiers.pro, fallbacks: [] },
      },
    }),
    ...withStandinGateway(standin),
  }));
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchChromium();
    dataOf(
      await graphqlClient(ragql.server.graphqlUrl, member.key)(IngestDocumentsDocument, {
        documents: [{ id: 'tides', title: 'Tides', content: 'The moon pulls the tides twice a day.' }],
      }),
    );
  });
  afterAll(async () => {
    await browser?.close();
  });

  const openPage = () => openAnswerPage(browser, ragql.server.graphqlUrl);

  const ask = async (page: Page, question: string) => {
    await page.getByLabel('Question').fill(question);
    await page.getByRole('button', { name: 'Ask' }).click();
  };

  it('asks for the key, then answers with the key entered, kept for the tab', async () => {
    const { page, refused } = await openPage();
    await ask(page, 'What pulls the tides?');
    await page.locator('#answer[data-state="failed"]').waitFor({ timeout: 5000 });
    expect(await page.locator('#status').textContent()).toMatch(
      /^The answer failed: UNAUTHENTICATED: A valid API key is required/,
    );

    expect(await page.locator('#documents-status').textContent()).toMatch(/UNAUTHENTICATED/);

    await page.getByLabel('API key').fill(member.key);
    await page.getByLabel('API key').dispatchEvent('change');
    // The screens listed nothing without a key; with it, they list the tenant's documents and plugins.
    const listed = () => page.getByRole('list', { name: 'Documents' }).locator('strong').allTextContents();
    await expect.poll(listed).toEqual(['Tides']);
    await page.locator('#reranker option[value="mmr"]').waitFor({ state: 'attached', timeout: 5000 });
    await ask(page, 'What pulls the tides?');
    await page.locator('#answer[data-state="completed"]').waitFor({ timeout: 10_000 });
    await page.reload();
    expect(await page.getByLabel('API key').inputValue()).toBe(member.key);
    await expect.poll(listed).toEqual(['Tides']);
    await screenshot(page, 'authenticated');
    expect(refused).toEqual([]);
  });

  it('shows a stream restarted on the fallback model as such, and only the answer that completed', async () => {
    standin.scriptNextChat({
      reply: 'Void partial words here',
      failAfterTokens: { count: 2, kind: 'reset' },
      tokenDelayMs: 20,
    });
    const { page } = await openPage();
    await page.getByLabel('API key').fill(member.key);
    await ask(page, 'What pulls the tides?');
    await page.locator('#answer[data-state="completed"]').waitFor({ timeout: 10_000 });
    expect(await page.locator('#status').textContent()).toBe('Answered after a restart, by gpt-4o.');
    expect(await page.locator('#model').textContent()).toBe('gpt-4o');
    expect(await page.locator('#routing').textContent()).toMatch(/; fell back from gpt-4o-mini to gpt-4o \(/);
    expect(await page.locator('#text').textContent()).not.toContain('Void');
    await screenshot(page, 'restarted');
  });

  it('shows a stream that failed as failed, with its code', async () => {
    standin.scriptNextChat({
      reply: 'Cut off here',
      failAfterTokens: { count: 1, kind: 'reset' },
      tokenDelayMs: 20,
    });
    const { page } = await openPage();
    await page.getByLabel('API key').fill(strict.key);
    await ask(page, 'What pulls the tides?');
    await page.locator('#answer[data-state="failed"]').waitFor({ timeout: 10_000 });
    expect(await page.locator('#status').textContent()).toMatch(/^UPSTREAM_FAILED: /);
    await screenshot(page, 'failed');
  });
});
