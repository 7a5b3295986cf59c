// The demo page in a real browser: Debian's Chromium, headless, driven by playwright-core
// (never a downloaded browser) against web/serve.mjs on localhost. Loads the page, classifies
// the cat photo through the file picker and a sample through a click, checks the top-1 labels
// in the DOM; switches to detection and checks the boxes drawn over the photo (the overlay
// canvas's state and pixels), faces with keypoints; switches to similar images and checks the
// ranking; runs the camera mode on a (fake, 30 fps) camera: a live stream over a Web Worker,
// boxes over the feed, frames per second and dropped frames counted and shown. Screenshots go to
// web/test-results/.
//
// LEDGE_WEB_ROOT serves another folder as the repository root (one holding web/ and
// demo-models/), e.g. to try freshly packed models; default: this repository.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';
import { serve } from '../serve.mjs';
import { detectionMismatches, iou } from '../test/helpers.js';

const ROOT = process.env.LEDGE_WEB_ROOT ?? fileURLToPath(new URL('../../', import.meta.url));
const DEMO = `${ROOT}/demo-models`;
const RESULTS = fileURLToPath(new URL('../test-results/', import.meta.url));
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];
const cases = JSON.parse(readFileSync(`${DEMO}/vectors/cases.json`, 'utf8')).cases;
const expectedTop1 = (image) =>
  cases.find((c) => c.model === 'efficientnet-lite0/model.onnx' && c.image === image && c.level === 'image').expected[0];
const detectCase = (name) => {
  const c = JSON.parse(readFileSync(`${DEMO}/vectors/detect.json`, 'utf8')).cases.find((x) => x.name === name);
  assert.ok(c, `detect.json has no case ${name}`);
  return c;
};
const MIRRORS = ['chelsea', 'coffee', 'camera'].map((s) => `${s}_mirror.png`);
const mirrorsThere = MIRRORS.every((m) => existsSync(`${DEMO}/images/${m}`));

let server;
let browser;
let page;
const problems = [];
const shots = [];

async function screenshot(p, name) {
  const path = `${RESULTS}${name}`;
  await p.screenshot({ path, fullPage: true });
  shots.push(path);
}

/** Waits until the status line says the page is done (or failed), and asserts it is done. */
async function settled(p = page, states = ['done']) {
  const any = [...states, 'error'].map((s) => `#status[data-state="${s}"]`).join(', ');
  await p.waitForSelector(any, { timeout: 120_000 });
  assert.ok(states.includes(await p.locator('#status').getAttribute('data-state')), await p.locator('#status').textContent());
}

/** What the detection overlay drew last: the page's own record and the canvas's data-boxes. */
async function overlay(p = page) {
  return p.evaluate(() => {
    const canvas = document.getElementById('overlay');
    const state = window.ledgeDemo.overlay();
    const drawn = JSON.parse(canvas.dataset.boxes ?? '[]');
    const dpr = canvas.width / canvas.clientWidth;
    // The colour of the left edge's middle pixel of each drawn box, read back from the canvas.
    const ctx = canvas.getContext('2d');
    const edge = drawn.map((b) => [...ctx.getImageData(Math.round(b.x * dpr), Math.round((b.y + b.height / 2) * dpr), 1, 1).data]);
    const inside = drawn.map((b) => [...ctx.getImageData(Math.round((b.x + b.width / 2) * dpr), Math.round((b.y + b.height / 2) * dpr), 1, 1).data]);
    return { state, drawn, edge, inside, source: canvas.dataset.source, size: [canvas.clientWidth, canvas.clientHeight] };
  });
}

const rgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));

before(async () => {
  mkdirSync(RESULTS, { recursive: true });
  ({ server, url: globalThis.base } = await serve({ port: 0, root: ROOT, quiet: true }));
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()} (${m.location().url})`));
});

after(async () => {
  await browser?.close();
  server?.close();
  for (const s of shots) console.log(`# screenshot ${s}`);
});

test('the demo loads the model', async () => {
  await page.goto(`${globalThis.base}/web/demo/`);
  await settled(page, ['ready']);
  assert.match(await page.locator('#model-info').textContent(), /MB/);
  assert.equal(await page.locator('#task-classify').getAttribute('aria-selected'), 'true');
});

test('classifies the cat photo picked with the file input', async () => {
  await page.setInputFiles('#file', `${DEMO}/images/chelsea.png`);
  await settled();
  const top1 = page.locator('#results li').first();
  const want = expectedTop1('images/chelsea.png');
  assert.equal(await top1.getAttribute('data-label'), want.label);
  assert.equal(Number(await top1.getAttribute('data-index')), want.index);
  assert.equal(await page.locator('#results li').count(), 5);
  assert.match(await page.locator('#latency').textContent(), /\d+(\.\d)? ms/);
  await screenshot(page, 'demo-chelsea.png');
});

test('classifies a sample image on click', async () => {
  await page.click('.sample[data-src$="/coffee.png"]');
  await settled();
  const want = expectedTop1('images/coffee.png');
  assert.equal(await page.locator('#results li').first().getAttribute('data-label'), want.label);
  await screenshot(page, 'demo-coffee.png');
});

test('detect: boxes and labels drawn over the cat photo, scaled to the displayed image', async () => {
  await page.click('#task-detect');
  await settled(); // re-runs on the coffee photo shown
  assert.equal(await page.locator('#task-detect').getAttribute('aria-selected'), 'true');
  assert.equal(await page.locator('#result-title').textContent(), 'Detections');
  assert.match(page.url(), /task=detect/);
  await page.setInputFiles('#file', `${DEMO}/images/chelsea.png`);
  await settled();

  const { state, drawn, edge, inside, source } = await overlay();
  assert.equal(source, 'image');
  assert.equal(drawn.length, 1, JSON.stringify(drawn));
  assert.equal(drawn[0].label, 'Cat');
  assert.deepEqual([state.width, state.height], [451, 300]);
  // The same detection as the shared vector (the reference's box and score).
  const { problems: wrong } = detectionMismatches(detectCase('ssd-mobilenetv2-oid/chelsea'), state.found);
  assert.deepEqual(wrong, []);
  const box = state.found[0].boundingBox;
  assert.ok(box.width * box.height > 0.8 * 451 * 300, `the cat covers most of the photo: ${JSON.stringify(box)}`);

  // Drawn where the photo is shown: the preview's on-screen rectangle (object-fit: contain).
  const shown = await page.evaluate(() => {
    const img = document.getElementById('preview');
    const drop = document.getElementById('overlay').getBoundingClientRect();
    const r = img.getBoundingClientRect();
    const s = Math.min(r.width / img.naturalWidth, r.height / img.naturalHeight);
    return { x: r.left - drop.left + (r.width - img.naturalWidth * s) / 2, y: r.top - drop.top + (r.height - img.naturalHeight * s) / 2, s };
  });
  assert.ok(shown.s > 1, `the photo is scaled up on screen (${shown.s})`);
  const want = [shown.x + box.x * shown.s, shown.y + box.y * shown.s, box.width * shown.s, box.height * shown.s];
  const got = [drawn[0].x, drawn[0].y, drawn[0].width, drawn[0].height];
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(got[i] - want[i]) < 1, `drawn ${got} vs on-screen ${want}`);
  // And really painted: the box's edge has its colour, its middle is left clear.
  assert.deepEqual(edge[0].slice(0, 3), rgb(drawn[0].color), `edge pixel ${edge[0]}`);
  assert.equal(edge[0][3], 255);
  assert.equal(inside[0][3], 0, 'the box is not filled');

  const li = page.locator('#results li');
  assert.equal(await li.count(), 1);
  assert.equal(await li.first().getAttribute('data-label'), 'Cat');
  await screenshot(page, 'demo-detect-chelsea.png');

  // The boxes follow the layout: a narrower window redraws them at the new scale.
  await page.setViewportSize({ width: 700, height: 900 });
  await page.waitForFunction((w) => JSON.parse(document.getElementById('overlay').dataset.boxes)[0]?.width !== w, drawn[0].width);
  const after = await overlay();
  assert.equal(after.drawn.length, 1);
  assert.ok(Math.abs(after.drawn[0].width / after.drawn[0].height - drawn[0].width / drawn[0].height) < 0.01, 'same box, new scale');
  await page.setViewportSize({ width: 1100, height: 760 });
});

test('detect: faces with keypoints (BlazeFace) on a sample', async () => {
  await page.selectOption('#detector', 'faces');
  await settled(); // re-runs on the cat: no face above the manifest's threshold
  await page.click('.sample[data-src$="/camera.png"]');
  await settled();
  const { state, drawn } = await overlay();
  assert.equal(drawn.length, 1, JSON.stringify(drawn));
  assert.equal(drawn[0].label, 'face');
  assert.equal(state.found[0].keypoints.length, 6);
  assert.deepEqual(detectionMismatches(detectCase('blazeface-short-range/camera'), state.found).problems, []);
  assert.match(page.url(), /detector=faces/);
  await screenshot(page, 'demo-detect-faces.png');
  await page.selectOption('#detector', 'objects');
  await settled();
});

test('RGBA frames (the camera path) give what the encoded bytes give', async () => {
  const r = await page.evaluate(async () => {
    const ssd = await window.ledgeDemo.model('objects');
    const embedder = await window.ledgeDemo.model('embed');
    const bytes = new Uint8Array(await (await fetch('../../demo-models/images/chelsea.png')).arrayBuffer());
    const img = new Image();
    img.src = '../../demo-models/images/chelsea.png';
    await img.decode();
    const c = document.createElement('canvas');
    [c.width, c.height] = [img.naturalWidth, img.naturalHeight];
    const ctx = c.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const frame = ctx.getImageData(0, 0, c.width, c.height);
    return {
      fromBytes: ssd.detect(bytes),
      fromFrame: ssd.detectImageData(frame),
      cosine: embedder.embed(bytes).cosineSimilarity(embedder.embedImageData(frame)),
    };
  });
  assert.equal(r.fromFrame.length, r.fromBytes.length);
  assert.equal(r.fromFrame[0].label, 'Cat');
  const box = (d) => [d.boundingBox.x, d.boundingBox.y, d.boundingBox.width, d.boundingBox.height];
  assert.ok(iou(box(r.fromFrame[0]), box(r.fromBytes[0])) > 0.99);
  assert.ok(Math.abs(r.fromFrame[0].score - r.fromBytes[0].score) < 0.01);
  assert.ok(r.cosine > 0.999, `cosine ${r.cosine}`);
});

test('similar images: the sample photos ranked by cosine similarity', async () => {
  await page.click('#task-embed');
  await settled();
  assert.equal(await page.locator('#result-title').textContent(), 'Most similar samples');
  await page.setInputFiles('#file', `${DEMO}/images/chelsea.png`);
  await settled();
  const rows = await page.locator('#results li').evaluateAll((lis) => lis.map((li) => ({ name: li.dataset.name, cosine: Number(li.dataset.cosine) })));
  const samples = 3 + (mirrorsThere ? 3 : 0);
  assert.equal(rows.length, samples - 1, `every sample but the photo itself: ${JSON.stringify(rows)}`);
  assert.ok(!rows.some((r) => r.name === 'chelsea.png'), 'the query itself is left out');
  for (let i = 1; i < rows.length; i++) assert.ok(rows[i - 1].cosine >= rows[i].cosine, 'best first');
  if (mirrorsThere) {
    assert.equal(rows[0].name, 'chelsea_mirror.png', JSON.stringify(rows));
    const pair = JSON.parse(readFileSync(`${DEMO}/vectors/embed.json`, 'utf8')).pairs.find((p) => p.a === 'images/chelsea.png' && p.b === 'images/chelsea_mirror.png');
    assert.ok(pair, 'embed.json has the chelsea ~ mirror pair');
    assert.ok(Math.abs(rows[0].cosine - pair.cosine) <= pair.tolerance, `${rows[0].cosine} vs ${pair.cosine}`);
  } else {
    console.log('# demo-models/images has no mirrored photos: ranking checked without them');
  }
  await screenshot(page, 'demo-similar-chelsea.png');
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
  // Missing mirrored photos are hidden by the page, but Chromium still logs their 404s.
  const missing = (p) => !mirrorsThere && / 404 /.test(p) && MIRRORS.some((m) => p.includes(m));
  assert.deepEqual(problems.filter((p) => !missing(p)), []);
});

/** A one-frame Y4M video of an image at 30 frames per second (Chromium's fake camera plays it in
 * a loop): faster than the detector, so the live stream drops frames. */
async function y4m(p, src, width, height) {
  const planes = await p.evaluate(async ({ src, width, height }) => {
    const img = new Image();
    img.src = src;
    await img.decode();
    const c = document.createElement('canvas');
    [c.width, c.height] = [width, height];
    const ctx = c.getContext('2d');
    ctx.drawImage(img, 0, 0, width, height);
    const { data } = ctx.getImageData(0, 0, width, height);
    // BT.601, studio range, 4:2:0.
    const y = new Uint8Array(width * height);
    const u = new Uint8Array((width / 2) * (height / 2));
    const v = new Uint8Array(u.length);
    for (let i = 0; i < width * height; i++) {
      const [r, g, b] = [data[4 * i], data[4 * i + 1], data[4 * i + 2]];
      y[i] = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255;
    }
    for (let j = 0; j < height / 2; j++) {
      for (let i = 0; i < width / 2; i++) {
        let [r, g, b] = [0, 0, 0];
        for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
          const k = 4 * ((2 * j + dy) * width + 2 * i + dx);
          r += data[k] / 4;
          g += data[k + 1] / 4;
          b += data[k + 2] / 4;
        }
        u[j * (width / 2) + i] = 128 + (-37.797 * r - 74.203 * g + 112 * b) / 255;
        v[j * (width / 2) + i] = 128 + (112 * r - 93.786 * g - 18.214 * b) / 255;
      }
    }
    return [...y, ...u, ...v];
  }, { src, width, height });
  return Buffer.concat([Buffer.from(`YUV4MPEG2 W${width} H${height} F30:1 Ip A1:1 C420jpeg\nFRAME\n`), Buffer.from(planes)]);
}

test('camera: a live stream over a Web Worker draws boxes over the feed and counts frames per second and drops', async () => {
  const video = `${RESULTS}chelsea.y4m`;
  writeFileSync(video, await y4m(page, '../../demo-models/images/chelsea.png', 452, 300));
  const cam = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...ARGS, '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${video}`],
  });
  try {
    const context = await cam.newContext({ viewport: { width: 1100, height: 760 }, permissions: ['camera'] });
    const p = await context.newPage();
    const errors = [];
    p.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    await p.goto(`${globalThis.base}/web/demo/?task=detect`);
    await settled(p, ['ready']);
    assert.equal(await p.locator('#task-detect').getAttribute('aria-selected'), 'true');
    await p.click('#camera');
    await p.waitForFunction(() => document.getElementById('overlay').dataset.source === 'camera' &&
      JSON.parse(document.getElementById('overlay').dataset.boxes).length > 0, null, { timeout: 60_000 });
    const { state, drawn, edge } = await overlay(p);
    assert.deepEqual([state.width, state.height], [452, 300], 'boxes in the video frame\'s pixels');
    assert.equal(drawn[0].label, 'Cat', JSON.stringify(drawn));
    const box = state.found[0].boundingBox;
    assert.ok(box.width * box.height > 0.7 * 452 * 300, JSON.stringify(box));
    assert.deepEqual(edge[0].slice(0, 3), rgb(drawn[0].color));
    assert.equal(await p.locator('#status').textContent(), 'Live');

    // The live stream's counters move: frames are processed (in the worker) and, as the camera
    // is faster than the detector, dropped; the page shows both.
    const counts = () => p.evaluate(() => window.ledgeDemo.live());
    const first = await counts();
    await p.waitForFunction((n) => window.ledgeDemo.live().processed >= n + 3 && window.ledgeDemo.live().dropped > 0, first.processed, { timeout: 60_000 });
    const later = await counts();
    assert.ok(later.submitted > first.submitted && later.processed >= first.processed + 3, JSON.stringify([first, later]));
    assert.ok(later.dropped > 0, `the 30 fps camera outruns the detector: ${JSON.stringify(later)}`);
    assert.equal(later.failed, 0);
    assert.ok(later.submitted >= later.processed + later.dropped, JSON.stringify(later));
    assert.ok(later.fps > 0 && later.fps <= 31, `fps ${later.fps}`);
    assert.equal(await p.locator('#live-metrics').isVisible(), true);
    assert.match(await p.locator('#fps').textContent(), /^\d+\.\d$/);
    const shownFps = Number(await p.locator('#fps').textContent());
    assert.ok(shownFps > 0, `shown fps ${shownFps}`);
    const [dropped, of] = (await p.locator('#dropped').textContent()).split(' of ').map(Number);
    assert.ok(dropped > 0 && of >= dropped, await p.locator('#dropped').textContent());
    // The page keeps responding while the worker runs: a 16 ms timer is never late by a
    // detector's run.
    const lateness = await p.evaluate(() => new Promise((resolve) => {
      let last = performance.now();
      let worst = 0;
      const t = setInterval(() => {
        const now = performance.now();
        worst = Math.max(worst, now - last - 16);
        last = now;
      }, 16);
      setTimeout(() => { clearInterval(t); resolve(worst); }, 1500);
    }));
    console.log(`# demo camera: ${later.processed} frames processed, ${later.dropped} dropped of ${later.submitted}, ${later.fps.toFixed(1)} fps (~${(1000 / later.fps).toFixed(0)} ms a frame in the worker); worst 16 ms timer lateness meanwhile ${lateness.toFixed(1)} ms`);
    await screenshot(p, 'demo-detect-camera.png');

    // Switching the task restarts the stream on the classifier's worker.
    await p.click('#task-classify');
    await p.waitForFunction(() => document.querySelectorAll('#results li[data-index]').length === 5 && window.ledgeDemo.task === 'classify', null, { timeout: 60_000 });
    assert.ok(await p.locator('#results li').first().getAttribute('data-label'));
    await p.click('#task-detect');
    await p.waitForFunction(() => JSON.parse(document.getElementById('overlay').dataset.boxes ?? '[]').length > 0, null, { timeout: 60_000 });
    await p.click('#camera'); // stop
    assert.equal(await p.locator('#overlay').getAttribute('data-boxes'), '[]');
    assert.deepEqual(errors, []);
  } finally {
    await cam.close();
  }
});
