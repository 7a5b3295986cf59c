// The live-stream runner: its rules with a model whose calls the test finishes by hand (one
// frame in flight, drops while busy, each result and error with its own frame's timestamp,
// ownership of closeable frames, close(), the counts), then a fake fast camera — frames
// submitted faster than inference — over a WorkerModel (a Node worker thread) and over a
// Model on this thread, every result checked against its own frame's photo.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';

import { init, LedgeError, LiveStream, Model } from '@ledge/web';
import { WorkerModel } from '@ledge/web/worker';
import { read, rejectsKind, throwsKind, DEMO } from './helpers.js';
import { decodePng, frameOf, stored } from './frames.js';

const EFFNET = 'efficientnet-lite0/model.onnx';

before(() => init());

/** A model whose frame calls wait until the test settles them. */
function manualModel() {
  const calls = [];
  const call = (kind) => (source, options) =>
    new Promise((resolve, reject) => calls.push({ kind, source, options, resolve, reject }));
  return { calls, classifyFrame: call('classify'), detectFrame: call('detect'), embedFrame: call('embed') };
}

const tick = () => new Promise((r) => setImmediate(r));

test('one frame in flight: frames submitted meanwhile are dropped and counted', async () => {
  const model = manualModel();
  const results = [];
  const live = new LiveStream(model, { task: 'detect', options: { scoreThreshold: 0.5 }, onResult: (r) => results.push(r) });
  assert.equal(live.submit({ planes: [], layout: {} }, 100), true);
  assert.equal(live.busy, true);
  assert.equal(live.submit({ planes: [], layout: {} }, 200), false);
  assert.equal(live.submit({ planes: [], layout: {} }, 300), false);
  assert.deepEqual(live.stats, { submitted: 3, processed: 0, dropped: 2, failed: 0, inFlight: 1, fps: live.stats.fps });
  assert.equal(model.calls.length, 1);
  assert.deepEqual(model.calls[0].options, { scoreThreshold: 0.5 });
  model.calls[0].resolve([{ label: 'Cat' }]);
  await tick();
  assert.equal(live.busy, false);
  assert.deepEqual(results.map(({ task, timestamp, detections }) => ({ task, timestamp, detections })), [
    { task: 'detect', timestamp: 100, detections: [{ label: 'Cat' }] },
  ]);
  assert.ok(results[0].ms >= 0);
  // Free again: the next frame goes through, with its own timestamp.
  assert.equal(live.submit({ planes: [], layout: {}, timestamp: 400 }), true, 'a frame\'s own timestamp is used');
  model.calls[1].resolve([]);
  await tick();
  assert.equal(results[1].timestamp, 400);
  const s = live.stats;
  assert.deepEqual([s.submitted, s.processed, s.dropped, s.failed, s.inFlight], [4, 2, 2, 0, 0]);
  assert.ok(s.fps > 0, `fps ${s.fps}`);
  await live.close();
});

test('errors are delivered with their frame\'s timestamp, never thrown', async () => {
  const model = manualModel();
  const results = [];
  const errors = [];
  const live = new LiveStream(model, { onResult: (r) => results.push(r), onError: (e) => errors.push(e) });
  live.submit({ planes: [], layout: {} }, 7);
  model.calls[0].reject(new LedgeError('InvalidArgument', 'plane 1 is short'));
  await tick();
  assert.equal(results.length, 0);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].timestamp, 7);
  assert.equal(errors[0].task, 'classify');
  assert.equal(errors[0].error.kind, 'InvalidArgument');
  // A model call that throws synchronously is a failure too.
  const throwing = { classifyFrame: () => { throw new LedgeError('ModelFreed', 'freed'); } };
  const live2 = new LiveStream(throwing, { onResult: () => assert.fail('no result'), onError: (e) => errors.push(e) });
  assert.equal(live2.submit({}, 8), true);
  await live2.close();
  assert.deepEqual(errors.map((e) => [e.timestamp, e.error.kind]), [[7, 'InvalidArgument'], [8, 'ModelFreed']]);
  assert.deepEqual([live2.stats.failed, live2.stats.processed, live.stats.failed], [1, 0, 1]);
  // An onResult that throws does not stop the stream: the error goes to reportError (a
  // browser's global error reporting; Node has none, there it is rethrown from a timer).
  const reported = [];
  globalThis.reportError = (e) => reported.push(e);
  try {
    const model3 = manualModel();
    const live3 = new LiveStream(model3, { onResult: () => { throw new Error('app bug'); } });
    live3.submit({}, 1);
    model3.calls[0].resolve([]);
    await tick();
    assert.deepEqual(reported.map((e) => e.message), ['app bug']);
    assert.equal(live3.submit({}, 2), true, 'still running');
    model3.calls[1].resolve([]);
    await live3.close();
    assert.equal(live3.stats.processed, 2);
  } finally {
    delete globalThis.reportError;
  }
});

test('the stream owns submitted VideoFrames: a dropped one is closed at once, a processed one when its call settles', async () => {
  class VideoFrame {
    closed = false;
    constructor(timestamp) {
      this.timestamp = timestamp;
    }
    close() {
      this.closed = true;
    }
  }
  globalThis.VideoFrame = VideoFrame;
  try {
    const model = manualModel();
    const stamps = [];
    const live = new LiveStream(model, { task: 'embed', onResult: (r) => stamps.push(r.timestamp) });
    const [a, b] = [new VideoFrame(33_000), new VideoFrame(66_000)];
    assert.equal(live.submit(a), true);
    assert.equal(live.submit(b), false);
    assert.equal(b.closed, true, 'dropped: closed at once');
    assert.equal(a.closed, false, 'in flight: held');
    model.calls[0].resolve(new Float32Array(2));
    await live.close();
    assert.equal(a.closed, true, 'processed: closed');
    assert.deepEqual(stamps, [33_000], 'VideoFrame.timestamp (µs) by default');
    // After close: refused, closed, counted as dropped.
    const c = new VideoFrame(99_000);
    assert.equal(live.submit(c), false);
    assert.equal(c.closed, true);
    const s = live.stats;
    assert.equal(s.submitted, s.processed + s.dropped + s.failed);
    assert.deepEqual([s.submitted, s.processed, s.dropped], [3, 1, 2]);
    assert.equal(live.closed, true);
  } finally {
    delete globalThis.VideoFrame;
  }
});

test('close() waits for the frame in flight', async () => {
  const model = manualModel();
  const results = [];
  const live = new LiveStream(model, { onResult: (r) => results.push(r.timestamp) });
  live.submit({}, 1);
  let closed = false;
  const closing = live.close().then(() => (closed = true));
  await tick();
  assert.equal(closed, false);
  assert.equal(live.submit({}, 2), false);
  model.calls[0].resolve([]);
  await closing;
  assert.deepEqual(results, [1]);
});

test('bad settings', async () => {
  const model = manualModel();
  throwsKind(() => new LiveStream(model, { task: 'segment', onResult() {} }), 'InvalidArgument', '"classify", "detect" or "embed"', 'segment');
  throwsKind(() => new LiveStream(model, {}), 'InvalidArgument', 'onResult must be a function');
  throwsKind(() => new LiveStream(model, { onResult() {}, onError: 3 }), 'InvalidArgument', 'onError');
  throwsKind(() => new LiveStream({}, { onResult() {} }), 'InvalidArgument', 'Model or a WorkerModel', 'classifyFrame');
  throwsKind(() => new LiveStream(null, { onResult() {} }), 'InvalidArgument', 'null');
});

// ------------------------------------------------------------------ a fake fast camera

/** Two photos as NV21 frames at 90° (as an Android camera hands them out), and their top-1. */
async function cameraFrames() {
  const m = Model.fromBytes(read(EFFNET));
  const shots = [];
  for (const name of ['chelsea.png', 'coffee.png']) {
    const img = decodePng(read(`images/${name}`));
    const frame = frameOf(stored(img, 90), 'nv21', { pad: 8 });
    const [top] = await m.classifyFrame(frame, { maxResults: 1, rotationDegrees: 90 });
    shots.push({ name, frame, label: top.label });
  }
  m.free();
  assert.notEqual(shots[0].label, shots[1].label);
  return shots;
}

/** Submits a frame every `intervalMs` (a camera faster than the model) until `got` (filled by
 * the stream's onResult) holds `want` results; frame n shows photo n % 2 and has timestamp
 * n × 33 333 µs. Returns each timestamp's expected top-1 label. */
async function fakeCamera(live, shots, got, { want, intervalMs }) {
  const expected = new Map();
  await new Promise((resolve) => {
    let n = 0;
    const timer = setInterval(() => {
      if (got.length >= want) {
        clearInterval(timer);
        resolve();
        return;
      }
      const shot = shots[n % 2];
      const timestamp = n * 33_333;
      expected.set(timestamp, shot.label);
      live.submit({ planes: shot.frame.planes, layout: shot.frame.layout }, timestamp);
      n += 1;
    }, intervalMs);
  });
  await live.close();
  return expected;
}

/** The counts add up, and every result is its own frame's (by timestamp), in order. */
function checkRun(live, expected, got) {
  const s = live.stats;
  assert.equal(s.failed, 0);
  assert.equal(s.submitted, s.processed + s.dropped + s.failed, JSON.stringify(s));
  assert.equal(s.submitted, expected.size);
  assert.equal(got.length, s.processed);
  const seen = new Set();
  for (const r of got) {
    assert.ok(expected.has(r.timestamp), `result for an unknown timestamp ${r.timestamp}`);
    assert.ok(!seen.has(r.timestamp), `two results for ${r.timestamp}`);
    seen.add(r.timestamp);
    assert.equal(r.predictions[0].label, expected.get(r.timestamp), `the frame at ${r.timestamp} µs`);
  }
  const order = got.map((r) => r.timestamp);
  assert.deepEqual(order, [...order].sort((a, b) => a - b), 'results in submit order');
  return s;
}

test('a fake fast camera over a WorkerModel: drops, and each result is its own frame\'s', async (t) => {
  const shots = await cameraFrames();
  const worker = await WorkerModel.load(`${DEMO}/${EFFNET}`);
  try {
    const got = [];
    const live = new LiveStream(worker, { options: { maxResults: 1, rotationDegrees: 90 }, onResult: (r) => got.push(r) });
    const expected = await fakeCamera(live, shots, got, { want: 12, intervalMs: 2 });
    const s = checkRun(live, expected, got);
    assert.ok(s.processed >= 12);
    assert.ok(s.dropped > 0, `a camera faster than the model must drop frames: ${JSON.stringify(s)}`);
    assert.ok(got.some((r) => r.predictions[0].label === shots[0].label) && got.some((r) => r.predictions[0].label === shots[1].label), 'both photos seen');
    t.diagnostic(`worker: ${s.submitted} frames submitted every 2 ms, ${s.processed} processed, ${s.dropped} dropped; ${s.fps.toFixed(1)} fps; mean ${(got.reduce((a, r) => a + r.ms, 0) / got.length).toFixed(1)} ms a frame`);
  } finally {
    worker.free();
  }
});

test('over a Model on this thread the model is busy until its call settles', async () => {
  const shots = await cameraFrames();
  const m = Model.fromBytes(read(EFFNET));
  try {
    const got = [];
    const live = new LiveStream(m, { options: { maxResults: 1, rotationDegrees: 90 }, onResult: (r) => got.push(r) });
    const expected = new Map();
    // Inference blocks this thread, so a camera callback can only find the model busy when it
    // hands over two frames at once: the second is dropped.
    for (let n = 0; n < 6; n++) {
      const shot = shots[n % 2];
      for (const ts of [2 * n, 2 * n + 1]) expected.set(ts, shot.label);
      assert.equal(live.submit(shot.frame, 2 * n), true, `frame ${2 * n}`);
      assert.equal(live.submit(shot.frame, 2 * n + 1), false, `frame ${2 * n + 1}`);
      while (live.busy) await tick();
    }
    await live.close();
    const s = live.stats;
    assert.deepEqual([s.submitted, s.processed, s.dropped, s.failed], [12, 6, 6, 0]);
    assert.deepEqual(got.map((r) => r.timestamp), [0, 2, 4, 6, 8, 10]);
    for (const r of got) assert.equal(r.predictions[0].label, expected.get(r.timestamp));
  } finally {
    m.free();
  }
});
test('a frame that does not fit is a failed result over the worker too', async () => {
  const worker = await WorkerModel.load(`${DEMO}/${EFFNET}`);
  try {
    const errors = [];
    const live = new LiveStream(worker, { onResult: () => assert.fail('no result'), onError: (e) => errors.push(e) });
    live.submit({ planes: [new Uint8Array(3)], layout: { format: 'nv12', width: 4, height: 4 } }, 5);
    await live.close();
    assert.equal(errors.length, 1);
    assert.equal(errors[0].timestamp, 5);
    assert.ok(errors[0].error instanceof LedgeError);
    assert.equal(errors[0].error.kind, 'InvalidArgument');
    assert.match(errors[0].error.message, /NV12 frame has 2 plane\(s\), got 1/);
    await rejectsKind(worker.classifyFrame({ planes: [], layout: { format: 'rgba', width: 1, height: 1 } }), 'InvalidArgument', 'got 0');
  } finally {
    worker.free();
  }
});
