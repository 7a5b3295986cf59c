// The browser camera quick start (test-browser/camera-quick-start.html, the README's copy is
// checked verbatim by test/readme.test.js) in Debian's headless Chromium with a fake camera
// playing the cat photo at 30 frames per second: the page logs a detection line per processed
// frame, each with its own frame's timestamp.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';
import { serve } from '../serve.mjs';
import { crop, decodePng, frameOf } from '../test/frames.js';

const ROOT = process.env.LEDGE_WEB_ROOT ?? fileURLToPath(new URL('../../', import.meta.url));
const RESULTS = fileURLToPath(new URL('../test-results/', import.meta.url));
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

let server;
let base;

before(async () => {
  mkdirSync(RESULTS, { recursive: true });
  ({ server, url: base } = await serve({ port: 0, root: ROOT, quiet: true }));
});

after(() => server?.close());

/** A one-frame Y4M video (4:2:0, full range) of the cat photo at 30 frames per second. */
function catVideo() {
  const img = crop(decodePng(readFileSync(`${ROOT}/demo-models/images/chelsea.png`)), 0, 0, 450, 300);
  const { planes } = frameOf(img, 'i420');
  const path = `${RESULTS}quick-start-cat.y4m`;
  writeFileSync(path, Buffer.concat([Buffer.from('YUV4MPEG2 W450 H300 F30:1 Ip A1:1 C420jpeg XCOLORRANGE=FULL\nFRAME\n'), ...planes]));
  return path;
}

test('the browser camera quick start runs as written: a live stream over a worker, one line per frame', async (t) => {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
      `--use-file-for-fake-video-capture=${catVideo()}`],
  });
  try {
    const context = await browser.newContext({ permissions: ['camera'] });
    const page = await context.newPage();
    const lines = [];
    const problems = [];
    page.on('console', (m) => (m.type() === 'error' ? problems.push(m.text()) : lines.push(m.text())));
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${base}/web/test-browser/camera-quick-start.html`);
    const deadline = Date.now() + 90_000;
    while (lines.length < 4 && Date.now() < deadline && problems.length === 0) await new Promise((ok) => setTimeout(ok, 200));
    assert.deepEqual(problems, []);
    assert.ok(lines.length >= 4, `lines: ${JSON.stringify(lines)}`);
    const stamps = [];
    for (const line of lines) {
      const m = /^(\d+) µs: (.*)$/.exec(line);
      assert.ok(m, `unexpected line ${line}`);
      assert.equal(m[2], 'Cat', line);
      stamps.push(Number(m[1]));
    }
    for (let i = 1; i < stamps.length; i++) assert.ok(stamps[i] > stamps[i - 1], `timestamps increase: ${stamps}`);
    t.diagnostic(`${lines.length} results; first: ${lines[0]}`);
  } finally {
    await browser.close();
  }
});
