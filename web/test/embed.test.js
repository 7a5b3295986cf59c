// Embeddings: every shared embedding vector and pair (demo-models/vectors/embed.json) with the
// rule every language applies, the Embedding class and cosineSimilarity, and the errors of a
// wrong task or bad arguments.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { cosineSimilarity, init, Embedding } from '@ledge/web';
import { model, read, taskVectors, throwsKind } from './helpers.js';

const EMBEDDER = 'efficientnet-lite0-embed/model.onnx';
const { cases: CASES, pairs: PAIRS = [] } = taskVectors('embed.json');
const worst = new Map();

before(() => init());

test('the embedding vectors are there', () => {
  assert.ok(CASES.length > 0, 'embed.json has no cases');
  assert.ok(PAIRS.length > 0, 'embed.json has no pairs');
});

for (const c of CASES) {
  test(`vector ${c.name}`, async () => {
    const m = await model(c.model);
    const e = m.embed(read(c.image));
    assert.ok(e instanceof Embedding);
    assert.ok(e.values instanceof Float32Array);
    assert.equal(e.values.length, c.expected.length, 'embedding length');
    const cos = cosineSimilarity(e, c.expected);
    const key = c.model.split('/')[0];
    worst.set(key, Math.min(worst.get(key) ?? 1, cos));
    assert.ok(cos >= c.min_cosine, `cosine ${cos} < ${c.min_cosine}`);
  });
}

for (const p of PAIRS) {
  test(`pair ${p.a} ~ ${p.b}`, async () => {
    const m = await model(p.model);
    const cos = m.embed(read(p.a)).cosineSimilarity(m.embed(read(p.b)));
    assert.ok(Math.abs(cos - p.cosine) <= p.tolerance, `cosine ${cos} vs ${p.cosine} (tolerance ${p.tolerance})`);
  });
}

test('an embedding has unit length and is its own nearest neighbour', async () => {
  const m = await model(EMBEDDER);
  const cat = m.embed(read('images/chelsea.png'));
  const norm = Math.hypot(...cat.values);
  assert.ok(Math.abs(norm - 1) < 1e-4, `|e| = ${norm}`);
  assert.ok(Math.abs(cat.cosineSimilarity(cat) - 1) < 1e-6);
  const cup = m.embed(read('images/coffee.png'));
  const cam = m.embed(read('images/camera.png'));
  assert.equal(cat.values.length, cup.values.length);
  const sim = cat.cosineSimilarity(cup);
  assert.ok(sim < 0.9 && sim > -1, `cat ~ coffee ${sim}`);
  assert.equal(cosineSimilarity(cat, cup), sim, 'method and function agree');
  assert.equal(cosineSimilarity(cup.values, cat), sim, 'symmetric, values accepted');
  assert.ok(Math.abs(cosineSimilarity(Array.from(cat.values), Array.from(cam.values)) - cat.cosineSimilarity(cam)) < 1e-7);
  // Stored and rebuilt.
  const stored = JSON.parse(JSON.stringify(Array.from(cat.values)));
  assert.ok(Math.abs(new Embedding(stored).cosineSimilarity(cat) - 1) < 1e-6);
  // The values cannot be replaced by mistake (modules are strict: the write throws).
  assert.throws(() => {
    cat.values = new Float32Array(3);
  }, TypeError);
});

test('embedImageData checks the frame and runs', async () => {
  const m = await model(EMBEDDER);
  const grey = { data: new Uint8ClampedArray(32 * 32 * 4).fill(128), width: 32, height: 32 };
  const a = m.embedImageData(grey);
  assert.ok(a instanceof Embedding);
  assert.equal(a.values.length, m.embed(read('images/chelsea.png')).values.length);
  const b = m.embedImageData({ ...grey, data: new Uint8Array(grey.data) });
  assert.ok(Math.abs(a.cosineSimilarity(b) - 1) < 1e-6, 'Uint8Array and Uint8ClampedArray alike');
  throwsKind(() => m.embedImageData({ data: new Uint8Array(15), width: 2, height: 2 }), 'InvalidArgument', 'needs 16 bytes, got 15');
  throwsKind(() => m.embedImageData(undefined), 'InvalidArgument', 'ImageData');
});

test('embed on a model for another task is a TaskMismatch', async () => {
  const png = read('images/chelsea.png');
  const classifier = await model('efficientnet-lite0/model.onnx');
  let e = throwsKind(() => classifier.embed(png), 'TaskMismatch', 'task = "classify"');
  assert.equal(e.task, 'embed');
  assert.match(e.reason, /call classify/);
  const embedder = await model(EMBEDDER);
  e = throwsKind(() => embedder.classify(png), 'TaskMismatch', 'task = "embed"');
  assert.equal(e.task, 'classify');
  e = throwsKind(() => embedder.classifyImageData({ data: new Uint8Array(4), width: 1, height: 1 }), 'TaskMismatch');
  assert.equal(e.task, 'classify');
});

test('bad embeddings are InvalidArgument', async () => {
  throwsKind(() => cosineSimilarity([1, 0], [1, 0, 0]), 'InvalidArgument', 'same length', 'got 2 and 3');
  throwsKind(() => cosineSimilarity([0, 0], [1, 0]), 'InvalidArgument', 'all-zero');
  throwsKind(() => cosineSimilarity([1, 0], [NaN, 1]), 'InvalidArgument', 'non-finite');
  throwsKind(() => cosineSimilarity([1, 'x'], [1, 0]), 'InvalidArgument', 'array of numbers', 'holding a string');
  throwsKind(() => cosineSimilarity(null, [1, 0]), 'InvalidArgument', 'Embedding', 'null');
  throwsKind(() => cosineSimilarity(new BigInt64Array(2), [1, 0]), 'InvalidArgument', 'BigInt64Array');
  throwsKind(() => new Embedding('0.1,0.2'), 'InvalidArgument', 'string');
  const m = await model(EMBEDDER);
  const e = m.embed(read('images/chelsea.png'));
  throwsKind(() => e.cosineSimilarity(new Float32Array(3).fill(1)), 'InvalidArgument', 'same length');
  throwsKind(() => e.cosineSimilarity({ values: [1] }), 'InvalidArgument', 'Embedding');
  throwsKind(() => m.embed(new Uint8Array([1, 2, 3])), 'ImageDecode');
  throwsKind(() => m.embed(42), 'InvalidArgument', 'Uint8Array', 'number');
});

after(() => {
  for (const [m, cos] of [...worst].sort()) console.log(`# embed vectors ${m}: min cosine ${cos.toFixed(6)}`);
});
