/**
 * GraphiQL in headless Chromium (Debian's `/usr/bin/chromium`, driven by `playwright-core` with
 * `executablePath`; never a downloaded browser): the page loads, a token is pasted into the
 * Headers editor, and a query runs against the real server.
 *
 * The page and its assets are served by Tianshu itself (api/graphiql.ts), so this works with no
 * network beyond loopback: a request to any other host fails the test.
 */
import type { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithComponents, mustLocate } from './rig/components.js';
import { startHarness } from './api-harness.js';
import type { Harness } from './api-harness.js';

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

describeWithComponents(['chromium'], 'GraphiQL in headless Chromium', () => {
  let h: Harness;
  let browser: Browser;
  let url: string;

  beforeAll(async () => {
    h = await startHarness();
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: mustLocate('chromium'), args: ARGS, headless: true });
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('serves the GraphiQL page', async () => {
    const page = await browser.newPage();
    const res = await page.goto(`${url}/graphiql`);
    expect(res?.status()).toBe(200);
    expect(await page.title()).toBe('GraphiQL');
    await page.close();
  });

  it('runs a query with a pasted token, loading nothing from outside this server', async () => {
    const token = await h.token('operator');
    const page = await browser.newPage();
    const foreign: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(url)) foreign.push(r.url());
    });
    await page.goto(`${url}/graphiql`);
    await page.waitForSelector('.graphiql-container', { timeout: 30_000 });
    // Query editor: replace its text.
    const editors = page.locator('.graphiql-editor .CodeMirror');
    await editors.first().click();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('{ viewer { role } fleetSummary { clouds } }');
    // Headers editor: open the tab and paste the Authorization header.
    await page.getByRole('button', { name: 'Headers', exact: true }).click();
    const headers = page.locator('.graphiql-editor-tool .CodeMirror').last();
    await headers.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.type(JSON.stringify({ Authorization: `Bearer ${token}` }));
    await page.locator('.graphiql-execute-button').click();
    await expect.poll(async () => (await page.locator('.result-window').innerText()).replace(/\s+/g, ''), { timeout: 15_000 }).toContain('"role":"operator"');
    expect((await page.locator('.result-window').innerText()).replace(/\s+/g, '')).toContain('"clouds":12');
    expect(foreign).toEqual([]);
    await page.close();
  });
});
