// The bad-input catalogue (mirrors core/tests/bad_inputs.rs and the Python test_bad_inputs.py):
// every hostile or mistaken input throws a LedgeError (an Error) of its kind, with a message
// that says what was expected and what was found. Nothing crashes.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';

import { init, Model } from '@ledge/web';
import { model, pngHeader, read, rejectsKind, throwsKind, DEMO } from './helpers.js';

const PPOCR = 'ppocr-cls/model.onnx';
const FIXTURE = 'fixtures/ppocr-cls-softmax-qdq.onnx';
const zeros = (T, shape) => ({ data: new T(shape.reduce((a, b) => a * b, 1)), shape });

before(() => init());

test('empty file', () => {
  throwsKind(() => Model.fromBytes(new Uint8Array(0)), 'ModelFormat', 'empty');
});

test('truncated model', () => {
  const data = read('efficientnet-lite0/model.onnx');
  for (const cut of [16, data.length >> 1, data.length - 100]) {
    throwsKind(() => Model.fromBytes(data.subarray(0, cut)), 'ModelFormat', 'truncated');
  }
});

test('random bytes', () => {
  let state = 7;
  const noise = new Uint8Array(4096);
  for (let i = 0; i < noise.length; i++) {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    noise[i] = state >>> 24;
  }
  throwsKind(() => Model.fromBytes(noise), 'ModelFormat');
  throwsKind(() => Model.fromBytes(new TextEncoder().encode('definitely not a model')), 'ModelFormat');
});

test('unsupported operator is named', () => {
  const e = throwsKind(
    () => Model.fromBytes(read('fixtures/ppocr-cls-qoperator.onnx')),
    'UnsupportedOperator',
    'other unsupported node',
  );
  assert.match(e.op, /QLinear/);
  assert.ok(e.others >= 1);
  assert.equal(typeof e.node, 'string');
});

test('wrong input shape, count and dtype', async () => {
  const m = Model.fromBytes(read(PPOCR));
  let e = throwsKind(
    () => m.run(zeros(Float32Array, [1, 3, 48, 190])),
    'InputShape',
    'expected shape [1, 3, 48, 192], got [1, 3, 48, 190]',
  );
  assert.deepEqual(e.expected, [1, 3, 48, 192]);
  assert.deepEqual(e.got, [1, 3, 48, 190]);
  assert.equal(e.input, m.info().inputs[0].name);

  e = throwsKind(() => m.run(zeros(Uint8Array, [1, 3, 48, 192])), 'InputType', 'expected dtype f32, got u8');
  assert.equal(e.expected, 'f32');
  assert.equal(e.got, 'u8');
  throwsKind(() => m.run(zeros(Int8Array, [1, 3, 48, 192])), 'InputType', 'got i8');
  throwsKind(() => m.run(zeros(Int32Array, [1, 3, 48, 192])), 'InputType', 'got i32');
  throwsKind(() => m.run(zeros(BigInt64Array, [1, 3, 48, 192])), 'InputType', 'got i64');

  throwsKind(() => m.run([]), 'InputCount', 'expected 1 input tensor(s), got 0');
  assert.equal(m.stats().runs, 0, 'failed calls are not counted');
  const [out] = m.run(zeros(Float32Array, [1, 3, 48, 192]));
  assert.equal(out.dtype, 'f32');
  assert.deepEqual(out.shape, [1, 2]);
  assert.ok(out.data instanceof Float32Array);
  assert.equal(m.stats().runs, 1);
  m.free();
});

test('undecodable and truncated images', async () => {
  const m = await model(PPOCR);
  const text = (s) => new TextEncoder().encode(s);
  throwsKind(() => m.classify(text('GIF89a nope'), 1), 'ImageDecode');
  throwsKind(() => m.classify(new Uint8Array(0), 1), 'ImageDecode', 'empty');
  const png = read('images/line0_0.png');
  throwsKind(() => m.classify(png.subarray(0, png.length >> 1), 1), 'ImageDecode');
  throwsKind(() => m.classify(new Uint8Array([0, 1, 2, 3]), 1), 'ImageDecode', 'JPEG or PNG');
});

test('zero-sized images', async () => {
  const m = await model(PPOCR);
  throwsKind(
    () => m.classifyImageData({ data: new Uint8Array(0), width: 0, height: 10 }, 1),
    'ImageDecode',
    '0×10',
    'no pixels',
  );
  throwsKind(() => m.classify(pngHeader(0, 5), 1), 'ImageDecode');
});

test('oversize dimensions are refused before allocating', async () => {
  const m = await model(PPOCR);
  // 100 000 × 100 000 RGB would need 30 GB (and wasm32 has 4): refused from the header alone.
  const e = throwsKind(() => m.classify(pngHeader(100_000, 100_000), 1), 'LimitExceeded');
  assert.equal(e.limit, 'max_image_pixels');
  assert.equal(e.value, 10_000_000_000);
  throwsKind(
    () => m.classifyImageData({ data: new Uint8Array(4), width: 70_000, height: 70_000 }, 1),
    'LimitExceeded',
    'max_image_pixels is 4900000000',
  );

  throwsKind(() => Model.fromBytes(read(PPOCR), { limits: { maxModelBytes: 1000 } }), 'LimitExceeded', 'max_model_bytes');
  const small = Model.fromBytes(read(PPOCR), { limits: { maxTensorElements: 100 } });
  throwsKind(() => small.run(zeros(Float32Array, [1, 3, 48, 192])), 'LimitExceeded', 'max_tensor_elements is 27648');
  small.free();
});

test('a graph that plans terabytes is refused before allocating', () => {
  // A 104-byte model whose ConstantOfShape asks for 2^20 × 2^20 floats (4 TiB).
  const e = throwsKind(() => Model.fromBytes(read('fixtures/plan-4tib.onnx')), 'LimitExceeded', 'max_plan_bytes');
  assert.equal(e.limit, 'max_plan_bytes');
  throwsKind(
    () => Model.fromBytes(read(PPOCR), { limits: { maxPlanBytes: 500_000 } }),
    'LimitExceeded',
    'the maximum is 500000',
  );
});

test('bad arguments', async () => {
  const m = await model(PPOCR);
  const png = read('images/line0_0.png');
  throwsKind(() => m.classify(png, 0), 'InvalidArgument', 'must be at least 1, got 0');
  throwsKind(() => m.classify(png, -1), 'InvalidArgument', 'topK');
  throwsKind(() => m.classify(png, 1.5), 'InvalidArgument', 'topK');
  throwsKind(() => m.classifyImageData({ data: new Uint8Array(15), width: 2, height: 2 }, 1), 'InvalidArgument', 'needs 16 bytes, got 15');
  throwsKind(() => m.classifyImageData({ data: new Uint8Array(16), width: 2.5, height: 2 }, 1), 'InvalidArgument', 'width');
  throwsKind(() => m.classifyImageData(null, 1), 'InvalidArgument', 'ImageData');
  throwsKind(() => m.classify('chelsea.png', 1), 'InvalidArgument', 'Uint8Array', 'string');
  throwsKind(() => m.classify([1, 2, 3], 1), 'InvalidArgument', 'Array');
  assert.equal(m.classify(png, 100).length, 2, 'k is capped at the class count');
  assert.equal(m.classify(png).length, 2, 'the default k (5) is capped too');
  // Uint8ClampedArray (ImageData.data) and ArrayBuffer are accepted as bytes.
  const rgba = new Uint8ClampedArray(4 * 8 * 8).fill(128);
  assert.equal(m.classifyImageData({ data: rgba, width: 8, height: 8 }, 1).length, 1);
  assert.equal(m.classify(png.buffer.slice(png.byteOffset, png.byteOffset + png.length), 1).length, 1);
});

test('tensor data that does not fit', async () => {
  const m = await model(PPOCR);
  throwsKind(() => m.run({ data: new Float32Array([0, 1]), shape: [1, 3, 48, 192] }), 'InvalidArgument', 'needs 27648 elements, got 2');
  throwsKind(() => m.run(zeros(Float64Array, [1, 3, 48, 192])), 'InvalidArgument', 'Float64Array');
  throwsKind(() => m.run({ data: [0, 1], shape: [2] }), 'InvalidArgument', 'Array');
  throwsKind(() => m.run({ data: new Float32Array(2), shape: 2 }), 'InvalidArgument', 'shape');
  throwsKind(() => m.run({ data: new Float32Array(2), shape: [2.5] }), 'InvalidArgument', 'shape');
  throwsKind(() => m.run([42]), 'InvalidArgument', '{data, shape}');
});

test('bad options', () => {
  const bytes = read(PPOCR);
  throwsKind(() => Model.fromBytes(bytes, { verifyIntegrty: false }), 'InvalidArgument', 'unknown field', 'verifyIntegrty');
  throwsKind(() => Model.fromBytes(bytes, { batch: 'one' }), 'InvalidArgument', 'options');
  throwsKind(() => Model.fromBytes(bytes, 42), 'InvalidArgument', 'options');
  throwsKind(() => Model.fromBytes(bytes, { batch: 0 }), 'InvalidArgument', 'batch');
  throwsKind(() => Model.fromBytes(bytes, { inputShapes: [[1, 3, 48, 192], [1]] }), 'InputCount');
  // A manifest that does not fit loads (run and info do not depend on it); the tasks say why not.
  const unfit = Model.fromBytes(bytes, { labels: ['a', 'b', 'c'] });
  throwsKind(() => unfit.classify(read('images/line0_0.png')), 'Manifest', '3 labels', '2 classes');
  unfit.free();
  throwsKind(() => Model.fromBytes(bytes, { isa: 'sse9' }), 'InvalidArgument', 'isa = "sse9"');
  // The WebAssembly module has no threads: 1 (the default) and 0 (one per core) load, 2 says why not.
  throwsKind(() => Model.fromBytes(bytes, { threads: 2 }), 'InvalidArgument', 'threads', 'one thread', 'set threads to 1');
  for (const threads of [0, 1]) Model.fromBytes(bytes, { threads }).free();
  const m = Model.fromBytes(bytes);
  throwsKind(() => m.classify(read('images/line0_0.png'), { maxResult: 1 }), 'InvalidArgument', 'unknown field', 'maxResult');
  throwsKind(() => m.classify(read('images/line0_0.png'), { scoreThreshold: 2 }), 'InvalidArgument', 'score_threshold');
  m.free();
});

test('classify options and load options come from the core types', () => {
  // Every field of the core's LoadOptions / ClassifyOptions is accepted by name (serde derive).
  const m = Model.fromBytes(read(PPOCR), { ledgeKernels: true, isa: 'portable', labels: '0\n180\n' });
  const png = read('images/line0_180.png');
  const all = m.classify(png, { maxResults: 2 });
  assert.equal(all.length, 2);
  assert.equal(all[0].label, '180');
  assert.deepEqual(m.classify(png, { denylist: ['180'] }).map((p) => p.label), ['0']);
  assert.deepEqual(m.classify(png, { allowlist: ['1'] }).map((p) => p.index), [1]);
  assert.deepEqual(m.classify(png, { scoreThreshold: 0.5 }).map((p) => p.label), ['180']);
  m.free();
});

test('missing file is Io', async () => {
  const e = await rejectsKind(Model.load(`${DEMO}/no-such-model.onnx`), 'Io', 'no-such-model.onnx');
  assert.ok(e.path.endsWith('no-such-model.onnx'));
  await rejectsKind(Model.load(`file://${DEMO}/no-such-model.onnx`), 'Io', 'no-such-model.onnx');
  // And the happy paths: a path, a file: URL string, a URL object.
  for (const url of [`${DEMO}/ppocr-cls/model.onnx`, `file://${DEMO}/ppocr-cls/model.onnx`, new URL(`file://${DEMO}/ppocr-cls/model.onnx`)]) {
    const m = await Model.load(url);
    assert.equal(m.info().manifest.name, 'ppocr-cls');
    m.free();
  }
});

test('classify without a manifest says how to add one', () => {
  // Loading from bytes never looks for a sidecar.
  const m = Model.fromBytes(read(FIXTURE));
  assert.equal(m.info().manifest, null);
  throwsKind(() => m.classify(read('images/line0_0.png'), 1), 'Manifest', 'no manifest', 'ledge pack');
  m.free();
});

test('bad manifests', () => {
  const bytes = read(FIXTURE);
  const toml = read('ppocr-cls/manifest.toml').toString('utf8');
  const labels = read('ppocr-cls/labels.txt').toString('utf8');
  throwsKind(() => Model.fromBytes(bytes, { manifest: 'name = ' }), 'Manifest', 'line 1');
  throwsKind(() => Model.fromBytes(bytes, { manifest: toml.replace('NCHW', 'CHWN') }), 'Manifest', 'CHWN');
  throwsKind(() => Model.fromBytes(bytes, { manifest: toml }), 'Manifest', 'labels_file', 'options.labels');
  // A manifest that does not fit the model.
  const unfit = Model.fromBytes(bytes, { manifest: toml, labels: `${labels}\n90°` });
  throwsKind(() => unfit.classify(read('images/line0_0.png')), 'Manifest', '3 labels', '2 classes');
  unfit.free();
  const ok = Model.fromBytes(bytes, { manifest: toml, labels: ['up', 'down'] });
  assert.equal(ok.info().manifest.output.labels[1], 'down');
  ok.free();
});

test('sha256 mismatch in a manifest from the options', () => {
  const bytes = read(FIXTURE);
  const toml = read('fixtures/ppocr-cls-softmax-qdq.toml').toString('utf8');
  const labels = read('ppocr-cls/labels.txt').toString('utf8');
  const e = throwsKind(
    () => Model.fromBytes(bytes, { manifest: `sha256 = "${'0'.repeat(64)}"\n${toml}`, labels }),
    'Integrity',
    '0'.repeat(64),
  );
  assert.equal(e.expected, '0'.repeat(64));
  const right = createHash('sha256').update(bytes).digest('hex');
  assert.equal(e.actual, right);
  const m = Model.fromBytes(bytes, { manifest: `sha256 = "${right}"\n${toml}`, labels });
  assert.equal(m.info().manifestSource, 'options');
  m.free();
});

test('sha256 mismatch in a packed model', () => {
  const data = Uint8Array.from(read(PPOCR));
  // Flip one bit inside the weights, far from the manifest at the end.
  data[data.length >> 1] ^= 0x10;
  throwsKind(() => Model.fromBytes(data), 'Integrity');
  // Opting out of the check loads the damaged model: the check is what caught it.
  Model.fromBytes(data, { verifyIntegrity: false }).free();
});

test('phone photos are classified as viewed (EXIF orientation), or as stored on request', () => {
  const { cases } = JSON.parse(read('fixtures/exif/expected.json').toString('utf8'));
  assert.equal(cases.length, 4);
  for (const apply of [true, false]) {
    for (const c of cases) {
      const m = Model.fromBytes(read(c.model), { applyExifOrientation: apply });
      const [top] = m.classify(read(c.image), 1);
      const [index, score] = apply ? c.as_viewed_top1 : c.ignoring_exif_top1;
      assert.equal(top.index, index, `${c.image} (exif applied: ${apply})`);
      assert.ok(Math.abs(top.score - score) < 0.1, `${c.image}: ${top.score} vs ${score}`);
      m.free();
    }
  }
});
