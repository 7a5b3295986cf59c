// `@ledge/web/worker` in Node (a worker thread; the browser's Web Worker is tested in
// Chromium): every call answers as Model does, errors keep their kind and fields, frame buffers
// are copied or transferred as asked, free() and load failures.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';

import { init, Embedding, LedgeError, Model } from '@ledge/web';
import { WorkerModel, LiveStream as WorkerLiveStream } from '@ledge/web/worker';
import { LiveStream } from '@ledge/web';
import { read, rejectsKind, DEMO } from './helpers.js';
import { crop, decodePng, frameOf, rgbaImage } from './frames.js';

const EFFNET = 'efficientnet-lite0/model.onnx';
const SSD = 'ssd-mobilenetv2-oid/model.onnx';
const EMBEDDER = 'efficientnet-lite0-embed/model.onnx';

before(() => init());

test('a WorkerModel answers as a Model does, call for call', async () => {
  const local = Model.fromBytes(read(EFFNET));
  const worker = await WorkerModel.load(`${DEMO}/${EFFNET}`);
  try {
    const png = read('images/chelsea.png');
    const cat = decodePng(png);
    const frame = frameOf(crop(cat, 0, 0, 225, 151), 'nv12', { pad: 4 });
    assert.deepEqual(await worker.classify(png, 3), local.classify(png, 3));
    assert.deepEqual(await worker.classifyBatch([png, read('images/coffee.png')], 2), local.classifyBatch([png, read('images/coffee.png')], 2));
    assert.deepEqual(await worker.classifyImageData(rgbaImage(cat), 2), local.classifyImageData(rgbaImage(cat), 2));
    assert.deepEqual(await worker.classifyFrame(frame, { maxResults: 2, rotationDegrees: 180 }), await local.classifyFrame(frame, { maxResults: 2, rotationDegrees: 180 }));
    const tensor = { data: new Float32Array(224 * 224 * 3), shape: local.info().inputs[0].shape };
    assert.deepEqual(await worker.classifyTensor(tensor, 1), local.classifyTensor(tensor, 1));
    const [out] = await worker.run(tensor);
    assert.ok(out.data instanceof Float32Array);
    assert.equal((await worker.info()).sha256, local.info().sha256);
    const stats = await worker.stats();
    assert.equal(stats.classifications, 1 + 2 + 1 + 1 + 1);
    assert.equal(worker.freed, false);
  } finally {
    worker.free();
    local.free();
  }
  assert.equal(WorkerLiveStream, LiveStream, 'one LiveStream class from both entry points');
});

test('detections and embeddings come back as from a Model (an Embedding object)', async () => {
  const bytes = read(SSD);
  const [ssd, embedder] = await Promise.all([WorkerModel.fromBytes(bytes), WorkerModel.load(`${DEMO}/${EMBEDDER}`)]);
  const local = Model.fromBytes(read(EMBEDDER));
  try {
    const png = read('images/chelsea.png');
    const found = await ssd.detect(png);
    assert.equal(found[0].label, 'Cat');
    const cat = rgbaImage(decodePng(png));
    assert.deepEqual(await ssd.detectFrame(cat), await ssd.detectImageData(cat));
    const e = await embedder.embed(png);
    assert.ok(e instanceof Embedding);
    assert.deepEqual(Array.from(e.values), Array.from(local.embed(png).values));
    const f = await embedder.embedFrame(cat, { mirror: true });
    assert.ok(f instanceof Embedding);
    assert.ok(f.cosineSimilarity(e) > 0.9);
    assert.ok((await embedder.embedImageData(cat)).cosineSimilarity(e) > 0.99);
  } finally {
    ssd.free();
    embedder.free();
    local.free();
  }
});

test('errors from the worker are LedgeErrors with their kind and fields', async () => {
  const worker = await WorkerModel.load(`${DEMO}/ppocr-cls/model.onnx`);
  try {
    const e = await rejectsKind(worker.run({ data: new Float32Array(3 * 48 * 190), shape: [1, 3, 48, 190] }), 'InputShape', 'expected shape [1, 3, 48, 192]');
    assert.deepEqual(e.got, [1, 3, 48, 190]);
    assert.equal(typeof e.input, 'string');
    await rejectsKind(worker.classify(new TextEncoder().encode('not an image')), 'ImageDecode');
    await rejectsKind(worker.detect(read('images/line0_0.png')), 'TaskMismatch', 'task = "classify"');
    await rejectsKind(worker.classifyFrame('frame.raw'), 'InvalidArgument', 'a frame must be');
    await rejectsKind(worker.classifyFrame({ planes: [new Uint8Array(4)], layout: { format: 'rgba', width: 1, height: 1 } }, { rotationDegrees: 45 }), 'InvalidArgument', 'options.rotationDegrees');
    // A call with something that cannot be posted is refused here.
    await rejectsKind(worker.classify(() => 1), 'InvalidArgument', 'cannot send this to the worker');
    // The worker still works after all that.
    assert.equal((await worker.classify(read('images/line0_180.png'), 1))[0].label, '180°');
  } finally {
    worker.free();
  }
});

test('frame buffers are copied by default and transferred with transfer: true', async () => {
  const worker = await WorkerModel.load(`${DEMO}/${EFFNET}`);
  try {
    const cat = crop(decodePng(read('images/chelsea.png')), 10, 10, 200, 150);
    const frame = frameOf(cat, 'i420');
    const want = await worker.classifyFrame(frame, 1);
    assert.ok(frame.planes.every((p) => p.byteLength > 0), 'copied: still here');
    const moved = frameOf(cat, 'i420');
    assert.deepEqual(await worker.classifyFrame(moved, { maxResults: 1, transfer: true }), want);
    assert.ok(moved.planes.every((p) => p.byteLength === 0), 'transferred: empty here');
    const image = rgbaImage(cat);
    await worker.classifyFrame(image, { transfer: true });
    assert.equal(image.data.byteLength, 0);
    // Model ignores `transfer` (there is nothing to move).
    const local = Model.fromBytes(read(EFFNET));
    assert.deepEqual(await local.classifyFrame(frameOf(cat, 'i420'), { maxResults: 1, transfer: true }), want);
    local.free();
  } finally {
    worker.free();
  }
});

test('free() ends the worker: running calls reject, later calls too', async () => {
  const worker = await WorkerModel.load(`${DEMO}/${EFFNET}`);
  const running = worker.classify(read('images/chelsea.png'));
  worker.free();
  await rejectsKind(running, 'ModelFreed', 'freed');
  await rejectsKind(worker.classify(read('images/chelsea.png')), 'ModelFreed');
  await rejectsKind(worker.stats(), 'ModelFreed');
  assert.equal(worker.freed, true);
  worker.free(); // twice is fine
});

test('loading failures are LedgeErrors and leave no worker behind', async () => {
  const e = await rejectsKind(WorkerModel.load(`${DEMO}/no-such-model.onnx`), 'Io', 'no-such-model.onnx');
  assert.ok(e.path.endsWith('no-such-model.onnx'));
  await rejectsKind(WorkerModel.fromBytes(new Uint8Array([1, 2, 3])), 'ModelFormat');
  await rejectsKind(WorkerModel.load(`${DEMO}/${EFFNET}`, { verifyIntegrty: false }), 'InvalidArgument', 'unknown field');
  await rejectsKind(WorkerModel.load(42), 'InvalidArgument', 'string or a URL');
  await rejectsKind(WorkerModel.fromBytes('model.onnx'), 'InvalidArgument', 'model bytes');
  assert.throws(() => new WorkerModel(), TypeError);
  assert.ok(LedgeError);
});
