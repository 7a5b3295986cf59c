// The model lifecycle from JavaScript (mirrors core/tests/lifecycle.rs): batches equal single
// calls on every image vector, the prediction cache, the shared signed fixtures, the new stats
// fields (histograms, errors by kind, entropy, drift), and the in-memory ModelStore: install,
// activate, rollback, shadow candidates, and classify calls interleaved with version swaps.
// (A wasm instance has no threads: where the core's test runs 8 threads against a swapping
// thread, this one interleaves the calls and checks each result against the version active at
// that moment.)

import { test, before } from 'node:test';
import assert from 'node:assert/strict';

import { init, LedgeError, Model, ModelStore, _testing } from '@ledge/web';
import { cases, model, optionsFor, read, throwsKind, DEMO } from './helpers.js';

const EFFNET = 'efficientnet-lite0/model.onnx';
const PPOCR = 'ppocr-cls/model.onnx';
const PHOTOS = ['images/chelsea.png', 'images/coffee.png', 'images/camera.png'];
const MIRRORS = PHOTOS.map((p) => p.replace('.png', '_mirror.png'));
const TIGER_CAT = 282;

before(() => init());

const sum = (values) => values.reduce((a, b) => a + b, 0);

/** `list` in consecutive chunks of `n`. */
function chunks(list, n) {
  const out = [];
  for (let i = 0; i < list.length; i += n) out.push(list.slice(i, i + n));
  return out;
}

test('classifyBatch equals classify on every image vector at N = 1, 2, 4', async (t) => {
  const groups = new Map();
  for (const c of cases().filter((c) => c.level === 'image')) {
    const key = `${c.model} ${c.manifest ?? ''}`;
    if (!groups.has(key)) groups.set(key, { c, images: [] });
    groups.get(key).images.push(read(c.image));
  }
  assert.equal(groups.size, 3, [...groups.keys()].join(', '));
  let worst = 0;
  for (const [key, { c, images }] of groups) {
    const m = await model(c.model, optionsFor(c));
    const classes = m.info().outputs[0].shape.reduce((a, b) => a * b, 1);
    const single = images.map((image) => m.classify(image, classes));
    for (const n of [1, 2, 4]) {
      let compared = 0;
      for (const [chunk, expected] of chunks(images, n).map((ch, i) => [ch, single.slice(i * n, i * n + n)])) {
        const batch = m.classifyBatch(chunk, classes);
        assert.equal(batch.length, chunk.length, `${key} N=${n}`);
        batch.forEach((got, i) => {
          assert.equal(got.length, classes);
          got.forEach((p, j) => {
            assert.equal(p.index, expected[i][j].index, `${key} N=${n} image ${compared + i} rank ${j}`);
            assert.equal(p.label, expected[i][j].label);
            worst = Math.max(worst, Math.abs(p.score - expected[i][j].score));
            assert.ok(Math.abs(p.score - expected[i][j].score) <= 1e-6, `${key} N=${n}: ${p.score} vs ${expected[i][j].score}`);
          });
        });
        compared += batch.length;
      }
      assert.equal(compared, images.length, `${key} N=${n}`);
    }
  }
  t.diagnostic(`${sum([...groups.values()].map((g) => g.images.length))} images in ${groups.size} models; max |Δscore| batch vs single ${worst.toExponential(2)}`);
});

test('classifyBatch: an empty batch, a bad image, bad arguments', () => {
  const m = Model.fromBytes(read(EFFNET));
  try {
    assert.deepEqual(m.classifyBatch([]), []);
    const [cat] = m.classifyBatch([read('images/chelsea.png')], 1);
    assert.equal(cat[0].label, 'tiger cat');
    throwsKind(() => m.classifyBatch([read('images/chelsea.png'), new TextEncoder().encode('not an image')]), 'ImageDecode');
    assert.deepEqual(m.stats().errors, { ImageDecode: 1 });
    throwsKind(() => m.classifyBatch(read('images/chelsea.png')), 'InvalidArgument', 'array');
    throwsKind(() => m.classifyBatch([read('images/chelsea.png'), 'chelsea.png']), 'InvalidArgument', 'images[1]');
    throwsKind(() => m.classifyBatch([read('images/chelsea.png')], { maxResult: 1 }), 'InvalidArgument', 'unknown field');
  } finally {
    m.free();
  }
});

test('cache: a hit returns what the miss computed and both are counted', () => {
  const m = Model.fromBytes(read(EFFNET), { cache: { maxEntries: 2, maxBytes: 1 << 20 } });
  const plain = Model.fromBytes(read(EFFNET));
  try {
    const cat = read('images/chelsea.png');
    const miss = m.classify(cat, 5);
    const hit = m.classify(cat, 5);
    assert.equal(miss.length, 5);
    assert.deepEqual(hit, miss);
    assert.notEqual(hit, miss, 'a fresh array per call');
    assert.deepEqual(plain.classify(cat, 5), miss, 'equal to an uncached model');
    // Other options are another entry.
    assert.deepEqual(m.classify(cat, 1), miss.slice(0, 1));
    let s = m.stats();
    assert.deepEqual([s.cacheHits, s.cacheMisses, s.runs], [1, 2, 3]);
    // Two entries at most: a third key evicts the least recently used (cat's top 5).
    m.classify(read('images/coffee.png'), 5);
    assert.deepEqual(m.classify(cat, 5), miss);
    assert.equal(m.stats().cacheMisses, 4, 'the top-5 entry was evicted');
    // Batches bypass the cache.
    m.classifyBatch([cat, cat], 5);
    s = m.stats();
    assert.deepEqual([s.cacheHits, s.cacheMisses], [1, 4]);
    // Without a cache nothing is counted.
    assert.deepEqual([plain.stats().cacheHits, plain.stats().cacheMisses], [0, 0]);
    // Default bounds, and typos refused.
    Model.fromBytes(read(PPOCR), { cache: {} }).free();
    throwsKind(() => Model.fromBytes(read(PPOCR), { cache: { maxEntrys: 2 } }), 'InvalidArgument', 'unknown field');
    throwsKind(() => Model.fromBytes(read(PPOCR), { cache: { maxEntries: -1 } }), 'InvalidArgument', 'expected u32');
  } finally {
    m.free();
    plain.free();
  }
});

test('every shared signed fixture gives its expected problem', () => {
  const dir = 'fixtures/signed';
  const expected = JSON.parse(read(`${dir}/expected.json`).toString('utf8'));
  const key = read(`${dir}/${expected.trusted_key}`).toString('utf8').trim();
  assert.match(key, /^[0-9a-f]{64}$/);
  assert.equal(expected.cases.length, 5);
  const seen = [];
  for (const c of expected.cases) {
    const bytes = read(`${dir}/${c.model}`);
    if (c.problem === null) {
      const m = Model.fromBytes(bytes, { trustedKeys: [key] });
      assert.equal(m.classify(read('images/line0_0.png'), 1).length, 1, c.model);
      m.free();
      seen.push(null);
    } else {
      const e = throwsKind(() => Model.fromBytes(bytes, { trustedKeys: [key] }), 'Signature');
      assert.equal(e.problem, c.problem, `${c.model}: ${e.message}`);
      seen.push(e.problem);
    }
  }
  assert.deepEqual(seen, expected.cases.map((c) => c.problem));
  // Without trusted keys every fixture that is a valid model loads; a malformed key is refused.
  Model.fromBytes(read(`${dir}/unsigned.onnx`)).free();
  throwsKind(() => Model.fromBytes(read(`${dir}/signed.onnx`), { trustedKeys: ['zz'] }), 'InvalidArgument');
  // The other key does not vouch for the test key's package.
  const other = read(`${dir}/other.pub`).toString('utf8').trim();
  const e = throwsKind(() => Model.fromBytes(read(`${dir}/signed.onnx`), { trustedKeys: [other] }), 'Signature');
  assert.equal(e.problem, 'untrusted_key');
  // A manifest from the options would bypass the signature: refused.
  const manifest = { manifest: read('ppocr-cls/manifest.toml').toString('utf8'), labels: ['up', 'down'] };
  throwsKind(() => Model.fromBytes(read(`${dir}/signed.onnx`), { trustedKeys: [key], ...manifest }), 'Signature', 'manifest');
});

test('stats: histograms sum to the classifications, errors by kind, entropy, no drift without a baseline', () => {
  const m = Model.fromBytes(read(EFFNET));
  try {
    let s = m.stats();
    assert.deepEqual(
      Object.keys(s).sort(),
      ['cacheHits', 'cacheMisses', 'classHistogram', 'classifications', 'confidenceHistogram', 'drift', 'errors',
        'meanEntropy', 'meanTop1Score', 'p50Ms', 'p95Ms', 'p99Ms', 'runs'],
    );
    assert.deepEqual(s.confidenceHistogram, new Array(10).fill(0));
    assert.deepEqual([s.classHistogram, s.errors, s.meanEntropy, s.meanTop1Score, s.drift], [{}, {}, null, null, null]);
    for (const p of PHOTOS) m.classify(read(p), 1);
    assert.equal(m.classifyBatch(MIRRORS.map(read), 1).length, 3);
    s = m.stats();
    assert.equal(s.classifications, 6);
    assert.equal(s.confidenceHistogram.length, 10);
    assert.equal(sum(s.confidenceHistogram), 6);
    assert.equal(sum(Object.values(s.classHistogram)), 6);
    assert.ok(s.classHistogram[TIGER_CAT] >= 1, JSON.stringify(s.classHistogram));
    assert.ok(Object.keys(s.classHistogram).every((k) => /^\d+$/.test(k)));
    assert.ok(s.meanEntropy > 0 && s.meanEntropy < 1, `${s.meanEntropy}`);
    assert.ok(s.meanTop1Score > 0 && s.meanTop1Score <= 1);
    assert.equal(s.drift, null);
    assert.deepEqual(s.errors, {});
    throwsKind(() => m.classify(new TextEncoder().encode('GIF89a nope')), 'ImageDecode');
    throwsKind(() => m.classify(read('images/chelsea.png'), { maxResults: 0 }), 'InvalidArgument');
    s = m.stats();
    assert.equal(s.errors.ImageDecode, 1);
    assert.equal(s.classifications, 6, 'failures are not classifications');
    assert.equal(sum(s.confidenceHistogram), 6);
  } finally {
    m.free();
  }
});

test('stats: drift against a manifest [baseline] stays low on photos and rises on text lines', () => {
  // The baseline: the three test photos' top-1 shares (as `ledge pack --baseline` computes them).
  const probe = Model.fromBytes(read(EFFNET));
  const confidence = new Array(10).fill(0);
  const classes = new Array(1000).fill(0);
  for (const p of PHOTOS) {
    const [top] = probe.classify(read(p), 1);
    confidence[Math.min(9, Math.floor(top.score * 10))] += 1 / 3;
    classes[top.index] += 1 / 3;
  }
  probe.free();
  const toml = (values) => `[${values.map((v) => v.toFixed(6)).join(', ')}]`;
  const options = {
    manifest: `${read('efficientnet-lite0/manifest.toml').toString('utf8')}
[baseline]
confidence = ${toml(confidence)}
classes = ${toml(classes)}
samples = 3
`,
    labels: read('efficientnet-lite0/labels.txt').toString('utf8'),
  };
  const same = Model.fromBytes(read(EFFNET), options);
  const shifted = Model.fromBytes(read(EFFNET), options);
  try {
    for (let i = 0; i < 7; i++) same.classifyBatch(MIRRORS.map(read), 1);
    const d = same.stats().drift;
    assert.deepEqual(Object.keys(d).sort(), ['classPsi', 'confidencePsi', 'drifted', 'samples', 'score', 'threshold']);
    assert.equal(d.samples, 21);
    assert.equal(d.threshold, 0.25);
    assert.ok(!d.drifted && d.score < 0.25, JSON.stringify(d));
    const lines = [...new Set(cases().filter((c) => c.level === 'image' && c.image.includes('/line')).map((c) => c.image))];
    assert.ok(lines.length >= 10, `${lines.length} text lines`);
    for (let i = 0; i < 2; i++) for (const l of lines) shifted.classify(read(l), 1);
    const s = shifted.stats();
    assert.ok(s.drift.samples >= 20 && s.drift.drifted && s.drift.score > 1, JSON.stringify(s.drift));
    assert.equal(s.drift.score, Math.max(s.drift.confidencePsi, s.drift.classPsi));
    assert.ok(s.meanEntropy > same.stats().meanEntropy);
  } finally {
    same.free();
    shifted.free();
  }
});

/** A store with `main` v1 = EfficientNet-Lite0 and v2 = the PP-OCR orientation classifier, so a
 * result's labels show which model computed it. */
function twoVersionStore() {
  const store = new ModelStore();
  store.install('main', 'v1', read(EFFNET));
  store.install('main', 'v2', read(PPOCR));
  return store;
}

test('ModelStore: install, activate, rollback; every result names its version', () => {
  const store = twoVersionStore();
  const cat = read('images/chelsea.png');
  try {
    assert.deepEqual(store.versions('main'), { installed: ['v1', 'v2'], active: null, previous: null });
    assert.equal(store.activeVersion('main'), null);
    throwsKind(() => store.classify('main', cat), 'InvalidArgument', 'no active version');
    store.activate('main', 'v1');
    let served = store.classify('main', cat, 3);
    assert.equal(served.version, 'v1');
    assert.equal(served.predictions.length, 3);
    assert.equal(served.predictions[0].label, 'tiger cat');
    store.activate('main', 'v2');
    assert.deepEqual(store.versions('main'), { installed: ['v1', 'v2'], active: 'v2', previous: 'v1' });
    served = store.classify('main', read('images/line0_180.png'), { maxResults: 1 });
    assert.deepEqual(served, { version: 'v2', predictions: [{ index: 1, label: '180°', score: served.predictions[0].score }] });
    store.rollback('main');
    assert.equal(store.activeVersion('main'), 'v1');
    assert.deepEqual(store.versions('main'), { installed: ['v1', 'v2'], active: 'v1', previous: 'v2' });
    assert.equal(store.classify('main', cat, 1).version, 'v1');
    store.rollback('main'); // a rollback swaps: twice is back where it was
    assert.equal(store.classify('main', cat, 1).version, 'v2');
    store.activate('main', 'v2'); // the active one: nothing changes
    assert.deepEqual(store.versions('main'), { installed: ['v1', 'v2'], active: 'v2', previous: 'v1' });

    // What the store refuses, leaving it as it was.
    throwsKind(() => store.install('main', 'v1', read(EFFNET)), 'InvalidArgument', 'immutable');
    throwsKind(() => store.install('main', 'v3', new TextEncoder().encode('junk')), 'ModelFormat');
    throwsKind(() => store.install('../etc', 'v1', read(PPOCR)), 'InvalidArgument', 'letters');
    throwsKind(() => store.install('main', 3, read(PPOCR)), 'InvalidArgument', 'version must be a string');
    throwsKind(() => store.install('main', 'v3', 'model.onnx'), 'InvalidArgument', 'model bytes');
    throwsKind(() => store.activate('main', 'v9'), 'InvalidArgument', 'install it first');
    throwsKind(() => store.rollback('other'), 'InvalidArgument', 'no previous version');
    throwsKind(() => store.classify('main', new TextEncoder().encode('not an image')), 'ImageDecode');
    throwsKind(() => store.classify('main', cat, 0), 'InvalidArgument');
    assert.deepEqual(store.versions('main'), { installed: ['v1', 'v2'], active: 'v2', previous: 'v1' });
    assert.deepEqual(store.versions('other'), { installed: [], active: null, previous: null });
    assert.equal(store.classify('main', read('images/line0_0.png'), 1).predictions[0].label, '0°');
  } finally {
    store.free();
  }
});

test('ModelStore: classify calls interleaved with activations and rollbacks each see the active version', () => {
  const store = twoVersionStore();
  const cat = read('images/chelsea.png');
  const expected = {};
  for (const [version, rel] of [['v1', EFFNET], ['v2', PPOCR]]) {
    const m = Model.fromBytes(read(rel));
    expected[version] = m.classify(cat, 2);
    m.free();
  }
  assert.notDeepEqual(expected.v1, expected.v2);
  try {
    store.activate('main', 'v1');
    const state = { active: 'v1', previous: null };
    const served = { v1: 0, v2: 0 };
    let swaps = 0;
    let seed = 20;
    const next = () => (seed = (Math.imul(seed, 1_664_525) + 1_013_904_223) >>> 0) >>> 24;
    for (let i = 0; i < 150; i++) {
      const r = next() % 3;
      if (r === 0 && state.previous !== null && next() % 2 === 0) {
        store.rollback('main');
        [state.active, state.previous] = [state.previous, state.active];
        swaps += 1;
      } else if (r === 0) {
        const v = next() % 2 === 0 ? 'v1' : 'v2';
        store.activate('main', v);
        if (v !== state.active) [state.previous, state.active] = [state.active, v];
        swaps += 1;
      } else {
        const result = store.classify('main', cat, 2);
        assert.equal(result.version, state.active, `call ${i}`);
        assert.equal(result.version, store.activeVersion('main'), `call ${i}`);
        assert.deepEqual(result.predictions, expected[result.version], `call ${i}: predictions of ${result.version}`);
        served[result.version] += 1;
      }
      assert.deepEqual(store.versions('main'), { installed: ['v1', 'v2'], ...state }, `after op ${i}`);
    }
    assert.ok(swaps >= 30, `${swaps} activations and rollbacks`);
    assert.ok(served.v1 >= 10 && served.v2 >= 10, JSON.stringify(served));
    assert.equal(served.v1 + served.v2 + swaps, 150);
  } finally {
    store.free();
  }
});

test('ModelStore: a shadow candidate that agrees is promoted, one that does not is rejected', () => {
  const store = new ModelStore();
  const photos = PHOTOS.map(read);
  try {
    store.install('main', 'v1', read(EFFNET));
    store.install('main', 'v2', read(EFFNET));
    store.install('main', 'bad', read(PPOCR));
    store.activate('main', 'v1');
    assert.equal(store.shadowReport('main'), null);
    // Latency is not what is tested here (the ratio of two runs of one model is near 1).
    const policy = { sampleRate: 0.5, minSamples: 4, minAgreement: 0.95, maxLatencyRatio: 10, autoDecide: true };
    store.setCandidate('main', 'v2', policy);
    assert.deepEqual(store.shadowReport('main'), {
      candidate: 'v2', active: 'v1', samples: 0, agreement: 0, meanAbsScoreDelta: 0, latencyRatio: 1, decision: 'pending',
    });
    const versions = [];
    for (let i = 0; i < 8; i++) versions.push(store.classify('main', photos[i % 3], 1).version);
    assert.deepEqual(versions, ['v1', 'v1', 'v1', 'v1', 'v1', 'v1', 'v1', 'v1'], 'promoted after the 8th call');
    assert.equal(store.activeVersion('main'), 'v2', 'promoted');
    assert.equal(store.versions('main').previous, 'v1');
    assert.equal(store.shadowReport('main'), null, 'the promoted candidate is no longer one');
    assert.equal(store.classify('main', photos[0], 1).version, 'v2');

    // The text-orientation model never agrees with ImageNet classes: with the decision left to
    // the app the report says so; automatically it is rejected.
    store.setCandidate('main', 'bad', { sampleRate: 1, minSamples: 2, autoDecide: false });
    for (const p of photos) store.classify('main', p, 1);
    let r = store.shadowReport('main');
    assert.deepEqual([r.candidate, r.active, r.samples, r.decision, r.agreement], ['bad', 'v2', 3, 'pending', 0]);
    assert.ok(r.meanAbsScoreDelta > 0 && r.meanAbsScoreDelta <= 1, `${r.meanAbsScoreDelta}`);
    assert.ok(r.latencyRatio > 0, `${r.latencyRatio}`);
    store.setCandidate('main', 'bad', policy);
    for (let i = 0; i < 8; i++) assert.equal(store.classify('main', photos[i % 3], 1).version, 'v2');
    r = store.shadowReport('main');
    assert.deepEqual([r.decision, r.samples], ['rejected', 4], JSON.stringify(r));
    assert.ok(r.agreement < 0.5);
    assert.equal(store.activeVersion('main'), 'v2');

    throwsKind(() => store.setCandidate('main', 'v1', { sampleRate: 0 }), 'InvalidArgument', 'sample_rate');
    throwsKind(() => store.setCandidate('main', 'v1', { sampleRat: 1 }), 'InvalidArgument', 'unknown field');
    throwsKind(() => store.setCandidate('main', 'v1', 0.5), 'InvalidArgument', 'plain object');
    throwsKind(() => store.setCandidate('main', 'v7'), 'InvalidArgument', 'install it first');
    assert.equal(store.shadowReport('nothing'), null);
  } finally {
    store.free();
  }
});

test('ModelStore.stats: each loaded version keeps its own counts', () => {
  const store = twoVersionStore();
  try {
    store.install('main', 'v3', read(PPOCR));
    throwsKind(() => store.stats('main', 'v1'), 'InvalidArgument', 'main v1 is not loaded');
    store.activate('main', 'v1');
    for (const p of PHOTOS) store.classify('main', read(p), 1);
    store.activate('main', 'v2');
    store.classify('main', read('images/line0_0.png'), 1);
    throwsKind(() => store.classify('main', new TextEncoder().encode('not an image')), 'ImageDecode');
    const [v1, v2] = [store.stats('main', 'v1'), store.stats('main', 'v2')];
    assert.deepEqual([v1.classifications, v1.runs, v1.errors], [3, 3, {}], 'the previous version keeps its counts');
    assert.deepEqual([v2.classifications, v2.runs, v2.errors], [1, 1, { ImageDecode: 1 }]);
    assert.ok(v1.classHistogram[TIGER_CAT] >= 1 && v2.classHistogram[TIGER_CAT] === undefined);
    assert.ok(v1.p50Ms > 0 && v2.p50Ms > 0);
    // Installed but not loaded (neither active, previous nor candidate), and unknown names.
    let e = throwsKind(() => store.stats('main', 'v3'), 'InvalidArgument', 'main v3 is not loaded', 'v2', 'v1');
    assert.doesNotMatch(e.message, /\s{3,}/, 'one line, no runs of spaces');
    throwsKind(() => store.stats('other', 'v1'), 'InvalidArgument', 'other v1 is not loaded');
    throwsKind(() => store.stats('main', 2), 'InvalidArgument', 'version must be a string');
    // A candidate is loaded and counted too.
    store.setCandidate('main', 'v3', { sampleRate: 1, minSamples: 100, autoDecide: false });
    store.classify('main', read('images/line0_180.png'), 1);
    assert.equal(store.stats('main', 'v3').classifications, 1, 'the shadow run counts for the candidate');
    assert.equal(store.stats('main', 'v2').classifications, 2);
    e = throwsKind(() => store.stats('main', 'v9'), 'InvalidArgument', 'not loaded');
    assert.match(e.message, /v3/);
  } finally {
    store.free();
  }
  throwsKind(() => store.stats('main', 'v1'), 'ModelFreed');
});

test('ModelStore: background: true runs the candidate in the call (wasm has no threads) and promotes it at once', () => {
  const store = new ModelStore();
  const photos = PHOTOS.map(read);
  try {
    store.install('main', 'v1', read(EFFNET));
    store.install('main', 'v2', read(EFFNET));
    store.activate('main', 'v1');
    store.setCandidate('main', 'v2', { sampleRate: 1, minSamples: 3, minAgreement: 0.95, maxLatencyRatio: 10, autoDecide: true, background: true });
    const served = [];
    for (let i = 0; i < 3; i++) {
      served.push(store.classify('main', photos[i], 1).version);
      if (i < 2) assert.equal(store.shadowReport('main').samples, i + 1, 'sampled in the call itself');
    }
    assert.deepEqual(served, ['v1', 'v1', 'v1']);
    // Native platforms decide on a thread and promote at the next call ("promoting"); here the
    // third call decided and promoted before returning.
    assert.equal(store.activeVersion('main'), 'v2');
    assert.equal(store.shadowReport('main'), null);
    assert.equal(store.classify('main', photos[0], 1).version, 'v2');
    assert.equal(store.stats('main', 'v2').classifications, 4, '3 shadow runs and 1 served');
    throwsKind(() => store.setCandidate('main', 'v1', { background: 'yes' }), 'InvalidArgument', 'shadow policy');
  } finally {
    store.free();
  }
});

test('ModelStore with trusted keys installs signed packages only', () => {
  const dir = 'fixtures/signed';
  const key = read(`${dir}/test.pub`).toString('utf8').trim();
  const store = new ModelStore({ trustedKeys: [key], cache: { maxEntries: 8 } });
  try {
    for (const [file, problem] of [['unsigned.onnx', 'unsigned'], ['tampered.onnx', 'invalid'], ['foreign.onnx', 'untrusted_key']]) {
      const e = throwsKind(() => store.install('ocr', file.replace('.onnx', ''), read(`${dir}/${file}`)), 'Signature');
      assert.equal(e.problem, problem, file);
    }
    assert.deepEqual(store.versions('ocr').installed, []);
    store.install('ocr', '1.0.0', read(`${dir}/signed.onnx`));
    store.activate('ocr', '1.0.0');
    const line = read('images/line0_0.png');
    const first = store.classify('ocr', line, 1);
    assert.equal(first.version, '1.0.0');
    assert.deepEqual(store.classify('ocr', line, 1), first);
  } finally {
    store.free();
  }
  throwsKind(() => new ModelStore({ trustedKey: [key] }), 'InvalidArgument', 'unknown field');
});

test('ModelStore: free(), use after free, and a panic retires the store', () => {
  const store = new ModelStore();
  store.install('ocr', '1', read(PPOCR));
  assert.equal(store.freed, false);
  store.free();
  assert.equal(store.freed, true);
  for (const call of [() => store.activate('ocr', '1'), () => store.versions('ocr'), () => store.classify('ocr', read('images/line0_0.png'))]) {
    const e = throwsKind(call, 'ModelFreed', 'store was freed');
    assert.ok(e instanceof LedgeError);
  }
  store.free(); // freeing twice is a no-op

  const lost = new ModelStore();
  lost.install('ocr', '1', read(PPOCR));
  lost.activate('ocr', '1');
  throwsKind(() => _testing.panic('store bridge test'), 'Panic', 'store bridge test');
  throwsKind(() => lost.classify('ocr', read('images/line0_0.png')), 'ModelFreed', 'panicked');
  assert.equal(lost.freed, true);
  lost.free(); // harmless
  const fresh = new ModelStore();
  fresh.install('ocr', '1', read(PPOCR));
  fresh.activate('ocr', '1');
  assert.equal(fresh.classify('ocr', read('images/line0_0.png'), 1).predictions[0].label, '0°');
  fresh.free();
  assert.ok(DEMO.length > 0);
});
