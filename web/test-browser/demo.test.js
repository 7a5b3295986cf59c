// The demo page in a real browser: Debian's Chromium, headless, driven by playwright-core
// (never a downloaded browser) against web/serve.mjs on localhost. Loads the page, classifies
// the cat photo through the file picker and a sample through a click, checks the top-1 labels
// in the DOM, and saves screenshots under web/test-results/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';
import { serve } from '../serve.mjs';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const RESULTS = fileURLToPath(new URL('../test-results/', import.meta.url));
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const cases = JSON.parse(readFileSync(`${REPO}demo-models/vectors/cases.json`, 'utf8')).cases;
const expectedTop1 = (image) =>
  cases.find((c) => c.model === 'efficientnet-lite0/model.onnx' && c.image === image && c.level === 'image').expected[0];

let server;
let browser;
let page;
const problems = [];

before(async () => {
  mkdirSync(RESULTS, { recursive: true });
  ({ server, url: globalThis.base } = await serve({ port: 0, root: REPO, quiet: true }));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
});

after(async () => {
  await browser?.close();
  server?.close();
});

test('the demo loads the model', async () => {
  await page.goto(`${globalThis.base}/web/demo/`);
  await page.waitForSelector('#status[data-state="ready"], #status[data-state="error"]', { timeout: 120_000 });
  assert.equal(await page.locator('#status').getAttribute('data-state'), 'ready', await page.locator('#status').textContent());
  assert.match(await page.locator('#model-info').textContent(), /MB/);
});

test('classifies the cat photo picked with the file input', async () => {
  await page.setInputFiles('#file', `${REPO}demo-models/images/chelsea.png`);
  await page.waitForSelector('#status[data-state="done"], #status[data-state="error"]');
  assert.equal(await page.locator('#status').getAttribute('data-state'), 'done', await page.locator('#status').textContent());
  const top1 = page.locator('#results li').first();
  const want = expectedTop1('images/chelsea.png');
  assert.equal(await top1.getAttribute('data-label'), want.label);
  assert.equal(Number(await top1.getAttribute('data-index')), want.index);
  assert.equal(await page.locator('#results li').count(), 5);
  assert.match(await page.locator('#latency').textContent(), /\d+(\.\d)? ms/);
  await page.screenshot({ path: `${RESULTS}demo-chelsea.png`, fullPage: true });
});

test('classifies a sample image on click', async () => {
  await page.evaluate(() => {
    document.getElementById('status').dataset.state = 'busy';
  });
  await page.click('.sample[data-src$="coffee.png"]');
  await page.waitForSelector('#status[data-state="done"], #status[data-state="error"]');
  const want = expectedTop1('images/coffee.png');
  assert.equal(await page.locator('#results li').first().getAttribute('data-label'), want.label);
  await page.screenshot({ path: `${RESULTS}demo-coffee.png`, fullPage: true });
});

test('errors in the page are LedgeErrors, and there were no others', async () => {
  const kind = await page.evaluate(async () => {
    const { Model, LedgeError } = await import('/web/dist/index.js');
    try {
      Model.fromBytes(new Uint8Array([1, 2, 3]));
    } catch (e) {
      return `${e instanceof Error} ${e instanceof LedgeError} ${e.kind}`;
    }
    return 'no error';
  });
  assert.equal(kind, 'true true ModelFormat');
  assert.deepEqual(problems, []);
});
