// The bridge itself: init() from every kind of source, every core error kind mapped, a panic
// turned into a LedgeError, free() and use after free, and a load/free loop whose wasm memory
// stays flat.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { init, memoryBytes, version, LedgeError, Model, _testing } from '@ledge/web';
import { read, throwsKind } from './helpers.js';

const PPOCR = 'ppocr-cls/model.onnx';
// The built package's files (what `@ledge/web` resolves to).
const WASM = fileURLToPath(new URL('../dist/ledge_wasm_bg.wasm', import.meta.url));

test('calls before init() say so', () => {
  throwsKind(() => Model.fromBytes(read(PPOCR)), 'InvalidArgument', 'await init()');
});

test('init() accepts nothing, a path, a URL, bytes, a Response and a module', async () => {
  const first = await init();
  assert.equal(first.version, version());
  assert.match(version(), /^\d+\.\d+\.\d+/);
  // Later calls return the same instance, whatever they pass.
  assert.equal(await init(WASM), first);
  // Every source kind instantiates a fresh copy of the package (module state is per copy).
  const bytes = readFileSync(WASM);
  const sources = {
    path: WASM,
    url: new URL(`file://${WASM}`),
    bytes,
    response: new Response(bytes, { headers: { 'content-type': 'application/wasm' } }),
    module: await WebAssembly.compile(bytes),
    nothing: undefined,
  };
  for (const [name, source] of Object.entries(sources)) {
    const dir = mkdtempSync(join(tmpdir(), `ledge-init-${name}-`));
    for (const f of readdirSync(dirname(WASM))) copyFileSync(join(dirname(WASM), f), join(dir, f));
    const fresh = await import(pathToFileURL(join(dir, 'index.js')).href);
    assert.notEqual(fresh.init, init);
    const info = await fresh.init(source);
    assert.equal(info.version, version(), name);
    const m = fresh.Model.fromBytes(read(PPOCR));
    assert.equal(m.classify(read('images/line0_0.png'), 1)[0].label, '0°', name);
    m.free();
    rmSync(dir, { recursive: true });
  }
});

test('every core error kind maps to a LedgeError of that kind', async () => {
  await init();
  const kinds = [
    'ModelFormat', 'UnsupportedOperator', 'InputCount', 'InputShape', 'InputType', 'ImageDecode',
    'Preprocess', 'InvalidArgument', 'Manifest', 'TaskMismatch', 'Integrity', 'Signature', 'Io',
    'LimitExceeded', 'Optimization', 'Inference',
  ];
  // The core's own list (Error::samples, in declaration order): a new kind fails here until the
  // JavaScript side (this list, LedgeErrorKind in index.d.ts) knows it.
  assert.deepEqual(_testing.errorKinds(), kinds);
  assert.equal(kinds.length, 16);
  for (const kind of kinds) throwsKind(() => _testing.error(kind), kind);
  assert.equal(throwsKind(() => _testing.error('UnsupportedOperator'), 'UnsupportedOperator').others, 2);
  assert.deepEqual(throwsKind(() => _testing.error('InputShape'), 'InputShape').got, [1, 3, 48, 190]);
  assert.equal(throwsKind(() => _testing.error('LimitExceeded'), 'LimitExceeded').max, 5);
  assert.equal(throwsKind(() => _testing.error('Io'), 'Io').path, '/sample/missing.onnx');
  assert.equal(throwsKind(() => _testing.error('TaskMismatch'), 'TaskMismatch').task, 'classify');
  const signature = throwsKind(() => _testing.error('Signature'), 'Signature', 'sample signature');
  assert.equal(signature.problem, 'untrusted_key');
  assert.equal(signature.detail, 'sample signature');
  const e = throwsKind(() => _testing.error('Optimization'), 'Optimization');
  assert.ok(e.stack.includes('LedgeError'), 'a real stack trace');
  throwsKind(() => _testing.error('NoSuchKind'), 'InvalidArgument', 'NoSuchKind');
});

test('a panic becomes a LedgeError "Panic"; its models are retired, new ones work', async () => {
  await init();
  const before = Model.fromBytes(read(PPOCR));
  const e = throwsKind(() => _testing.panic('bridge test panic'), 'Panic', 'bridge test panic');
  assert.ok(e.cause instanceof WebAssembly.RuntimeError);
  throwsKind(() => before.classify(read('images/line0_0.png')), 'ModelFreed', 'panicked');
  assert.equal(before.freed, true);
  before.free(); // harmless
  const after = Model.fromBytes(read(PPOCR));
  assert.equal(after.classify(read('images/line0_0.png'), 1)[0].label, '0°');
  // Two panics in a row are two errors, not a crash.
  throwsKind(() => _testing.panic('again'), 'Panic', 'again');
  throwsKind(() => after.stats(), 'ModelFreed');
  assert.ok(Model.fromBytes(read(PPOCR)).classify(read('images/line0_180.png'), 1)[0].label === '180°');
});

test('free() and use after free', async () => {
  await init();
  const m = Model.fromBytes(read(PPOCR));
  assert.equal(m.freed, false);
  m.free();
  assert.equal(m.freed, true);
  for (const call of [() => m.classify(read('images/line0_0.png')), () => m.info(), () => m.stats(), () => m.run([])]) {
    const e = throwsKind(call, 'ModelFreed', 'freed');
    assert.ok(e instanceof LedgeError);
  }
  m.free(); // freeing twice is a no-op
  assert.throws(() => new Model(), TypeError);
});

test('a load/free loop keeps wasm memory flat', async (t) => {
  await init();
  const bytes = read('efficientnet-lite0/model.onnx');
  const image = read('images/chelsea.png');
  const sizes = [];
  for (let i = 0; i < 12; i++) {
    const m = Model.fromBytes(bytes);
    assert.equal(m.classify(image, 1)[0].label, 'tiger cat');
    m.free();
    sizes.push(memoryBytes());
  }
  const small = read(PPOCR);
  for (let i = 0; i < 40; i++) Model.fromBytes(small).free();
  sizes.push(memoryBytes());
  const mb = (b) => (b / 2 ** 20).toFixed(1);
  t.diagnostic(`wasm memory after each EfficientNet load+classify+free (MiB): ${sizes.slice(0, 12).map(mb).join(' ')}; after 40 more PP-OCR loads: ${mb(sizes.at(-1))}`);
  // Memory grows while the allocator warms up, then never again.
  assert.equal(sizes.at(-1), sizes[2], `grew from ${mb(sizes[2])} to ${mb(sizes.at(-1))} MiB`);
});
