// Detection: every shared detection vector (demo-models/vectors/detect.json) with the rule every
// language applies, the result's shape, the options (the core's DetectOptions), and the errors
// of a wrong task or bad options. Also measures the latency of one detect call (printed).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { init, Model } from '@ledge/web';
import { boxOf, detectionMismatches, model, read, taskVectors, throwsKind, DEMO } from './helpers.js';

const SSD = 'ssd-mobilenetv2-oid/model.onnx';
const FACE = 'blazeface-short-range/model.onnx';
const CLASSIFIER = 'efficientnet-lite0/model.onnx';
const EMBEDDER = 'efficientnet-lite0-embed/model.onnx';
const { cases: CASES } = taskVectors('detect.json');
const worst = new Map();
const notes = [];

before(() => init());

test('the detection vectors are there', () => {
  assert.ok(CASES.length > 0, 'detect.json has no cases');
  assert.ok(CASES.some((c) => c.expected.length > 0), 'no case expects a detection');
  assert.ok(CASES.some((c) => c.expected.some((e) => (e.keypoints ?? []).length > 0)), 'no case has keypoints');
});

for (const c of CASES) {
  test(`vector ${c.name}`, async () => {
    const m = await model(c.model);
    const got = m.detect(read(c.image), c.options ?? {});
    const { problems, ious, scoreDiffs } = detectionMismatches(c, got);
    assert.deepEqual(problems, [], `${c.name}: ${JSON.stringify(got.map((d) => [d.index, d.score, boxOf(d)]))}`);
    const model_ = c.model.split('/')[0];
    const w = worst.get(model_) ?? { iou: 1, score: 0 };
    w.iou = Math.min(w.iou, ...ious);
    w.score = Math.max(w.score, ...scoreDiffs);
    worst.set(model_, w);
  });
}

test('a detection is {index, label, score, boundingBox, keypoints} in image pixels', async () => {
  const m = await model(SSD);
  const [cat, ...rest] = m.detect(read('images/chelsea.png'));
  assert.equal(rest.length, 0, 'one cat');
  assert.deepEqual(Object.keys(cat).sort(), ['boundingBox', 'index', 'keypoints', 'label', 'score']);
  assert.deepEqual(Object.keys(cat.boundingBox).sort(), ['height', 'width', 'x', 'y']);
  assert.equal(cat.label, 'Cat');
  assert.ok(cat.score > 0.8 && cat.score <= 1, `${cat.score}`);
  assert.deepEqual(cat.keypoints, []);
  // chelsea.png is 451 × 300: the cat fills most of it.
  const { x, y, width, height } = cat.boundingBox;
  assert.ok(x >= 0 && y >= 0 && x + width <= 451 + 1e-3 && y + height <= 300 + 1e-3, JSON.stringify(cat.boundingBox));
  assert.ok(width * height > 0.8 * 451 * 300, JSON.stringify(cat.boundingBox));

  const face = await model(FACE);
  const faces = face.detect(read('images/camera.png'));
  assert.equal(faces.length, 1);
  assert.equal(faces[0].keypoints.length, 6);
  for (const p of faces[0].keypoints) {
    assert.deepEqual(Object.keys(p).sort(), ['x', 'y']);
    const b = faces[0].boundingBox;
    // Eyes, ears, nose and mouth lie near the face box.
    assert.ok(p.x > b.x - b.width / 2 && p.x < b.x + 1.5 * b.width && p.y > b.y - b.height / 2 && p.y < b.y + 1.5 * b.height, JSON.stringify([p, b]));
  }
  assert.deepEqual(face.detect(read('images/coffee.png')), [], 'no face on the coffee cup');
  assert.ok(face.stats().runs >= 2, 'detections are counted as runs');
});

test('detect options are the core DetectOptions', async () => {
  const m = await model(SSD);
  const camera = read('images/camera.png');
  const low = m.detect(camera, { scoreThreshold: 0.05, maxResults: 10 });
  assert.ok(low.length > 1 && low.length <= 10, `${low.length} detections`);
  for (let i = 1; i < low.length; i++) assert.ok(low[i - 1].score >= low[i].score, 'best first');
  assert.ok(low.every((d) => d.score >= 0.05));
  assert.equal(m.detect(camera, { scoreThreshold: 0.05, maxResults: 1 }).length, 1);
  assert.deepEqual(m.detect(read('images/chelsea.png'), { scoreThreshold: 0.9 }), [], 'Cat scores about 0.85');

  const labels = new Set(low.map((d) => d.label));
  assert.ok(labels.size >= 2, `only ${[...labels]}`);
  const [keep] = labels;
  const only = m.detect(camera, { scoreThreshold: 0.05, maxResults: 10, allowlist: [keep] });
  assert.ok(only.length >= 1 && only.every((d) => d.label === keep), JSON.stringify(only.map((d) => d.label)));
  const without = m.detect(camera, { scoreThreshold: 0.05, maxResults: 10, denylist: [keep] });
  assert.ok(without.length >= 1 && without.every((d) => d.label !== keep));
  // Indices as text work too.
  const byIndex = m.detect(camera, { scoreThreshold: 0.05, maxResults: 10, allowlist: [String(only[0].index)] });
  assert.deepEqual(byIndex.map((d) => d.index), only.map((d) => d.index));

  // A looser IoU threshold keeps at least as many overlapping boxes.
  const strict = m.detect(camera, { scoreThreshold: 0.05, maxResults: 100, iouThreshold: 0.1 });
  const loose = m.detect(camera, { scoreThreshold: 0.05, maxResults: 100, iouThreshold: 0.9 });
  assert.ok(loose.length > strict.length, `${loose.length} vs ${strict.length}`);
  // null / undefined options are the manifest's defaults.
  assert.deepEqual(m.detect(camera, null), m.detect(camera));
});

test('RGBA frames: detectImageData checks the frame and runs', async () => {
  const m = await model(FACE);
  // A flat grey frame has no face.
  const grey = { data: new Uint8ClampedArray(64 * 48 * 4).fill(128), width: 64, height: 48 };
  assert.deepEqual(m.detectImageData(grey), []);
  assert.deepEqual(m.detectImageData(grey, { scoreThreshold: 0.99 }), []);
  throwsKind(() => m.detectImageData({ data: new Uint8Array(15), width: 2, height: 2 }), 'InvalidArgument', 'needs 16 bytes, got 15');
  throwsKind(() => m.detectImageData({ data: new Uint8Array(16), width: 2, height: -2 }), 'InvalidArgument', 'height');
  throwsKind(() => m.detectImageData('camera.png'), 'InvalidArgument', 'ImageData');
});

test('detect on a model for another task is a TaskMismatch', async () => {
  const [classifier, ssd, embedder] = await Promise.all([model(CLASSIFIER), model(SSD), model(EMBEDDER)]);
  const png = read('images/chelsea.png');
  let e = throwsKind(() => classifier.detect(png), 'TaskMismatch', 'task = "classify"');
  assert.equal(e.task, 'detect');
  assert.match(e.reason, /call classify/);
  e = throwsKind(() => ssd.classify(png), 'TaskMismatch', 'task = "detect"');
  assert.equal(e.task, 'classify');
  e = throwsKind(() => ssd.embed(png), 'TaskMismatch', 'task = "detect"');
  assert.equal(e.task, 'embed');
  e = throwsKind(() => embedder.detect(png), 'TaskMismatch', 'task = "embed"');
  assert.equal(e.task, 'detect');
  e = throwsKind(() => classifier.detectImageData({ data: new Uint8Array(4), width: 1, height: 1 }), 'TaskMismatch');
  assert.equal(e.task, 'detect');
});

test('a model without a manifest cannot detect, a freed one cannot either', async () => {
  const png = read('images/chelsea.png');
  const bare = Model.fromBytes(read('fixtures/ppocr-cls-softmax-qdq.onnx'));
  throwsKind(() => bare.detect(png), 'Manifest', 'no manifest');
  throwsKind(() => bare.embed(png), 'Manifest', 'no manifest');
  bare.free();
  const m = Model.fromBytes(read(SSD));
  assert.equal(m.detect(png).length, 1);
  m.free();
  throwsKind(() => m.detect(png), 'ModelFreed');
  throwsKind(() => m.detectImageData({ data: new Uint8Array(4), width: 1, height: 1 }), 'ModelFreed');
  throwsKind(() => m.embed(png), 'ModelFreed');
});

test('bad detect options are InvalidArgument', async () => {
  const m = await model(SSD);
  const png = read('images/chelsea.png');
  throwsKind(() => m.detect(png, { scoreThreshold: 2 }), 'InvalidArgument', 'score_threshold', '[0, 1]');
  throwsKind(() => m.detect(png, { scoreThreshold: -0.1 }), 'InvalidArgument', 'score_threshold');
  throwsKind(() => m.detect(png, { iouThreshold: 1.5 }), 'InvalidArgument', 'iou_threshold');
  throwsKind(() => m.detect(png, { maxResults: 0 }), 'InvalidArgument', 'max_results', 'at least 1');
  throwsKind(() => m.detect(png, { maxResults: -1 }), 'InvalidArgument', 'detect options');
  throwsKind(() => m.detect(png, { maxResults: 2.5 }), 'InvalidArgument', 'detect options');
  throwsKind(() => m.detect(png, { maxResult: 3 }), 'InvalidArgument', 'unknown field', 'maxResult');
  throwsKind(() => m.detect(png, { topK: 3 }), 'InvalidArgument', 'unknown field', 'topK');
  throwsKind(() => m.detect(png, { allowlist: 'Cat' }), 'InvalidArgument', 'detect options');
  throwsKind(() => m.detect(png, 5), 'InvalidArgument', 'plain object', 'a number');
  throwsKind(() => m.detect(png, 'Cat'), 'InvalidArgument', 'plain object', 'a string');
  throwsKind(() => m.detect(png, [0.5]), 'InvalidArgument', 'plain object', 'an array');
  throwsKind(() => m.detect('images/chelsea.png'), 'InvalidArgument', 'Uint8Array', 'string');
  throwsKind(() => m.detect(new Uint8Array([1, 2, 3])), 'ImageDecode');
});

test('detect latency (chelsea, SSD-MobileNetV2)', async () => {
  const m = await model(SSD);
  const png = read('images/chelsea.png');
  m.detect(png); // warm-up
  const times = [];
  for (let i = 0; i < 10; i++) {
    const t = performance.now();
    const found = m.detect(png);
    times.push(performance.now() - t);
    assert.equal(found.length, 1);
  }
  times.sort((a, b) => a - b);
  const info = m.info();
  notes.push(
    `# detect latency ${SSD} (${Math.round(info.quantizedMacFraction * 100)}% int8 MACs, ${(info.fileSize / 1e6).toFixed(1)} MB) on chelsea.png, ` +
      `Node ${process.version}: median ${times[5].toFixed(1)} ms, min ${times[0].toFixed(1)} ms over ${times.length} calls (decode + preprocess + run + NMS)`,
  );
});

after(() => {
  for (const [m, w] of [...worst].sort()) console.log(`# detect vectors ${m}: min IoU ${w.iou.toFixed(4)}, max |Δscore| ${w.score.toFixed(5)}`);
  for (const n of notes) console.log(n);
  console.log(`# demo models: ${DEMO}`);
});
