// Models users bring that Ledge once refused or misread (issue 18), through JavaScript: the kinds
// of core/tests/field_models.rs and core/tests/image_formats.rs with the same fixtures and the same
// expected values (onnxruntime 1.32, in each folder's expected.json): several outputs and two
// inputs (fixtures/multi-output/), external data (fixtures/external-data/), Upsample, a dynamic
// height and width, 16-bit QDQ, u8 NHWC and grey image inputs (fixtures/field/), WebP, BMP and GIF
// images and TIFF's error (fixtures/formats/). JavaScript loads bytes only, so each model's
// sidecar manifest is passed as the `manifest` option.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';

import { init, Model } from '@ledge/web';
import { model, read, readNpy, rejectsKind, throwsKind, DEMO } from './helpers.js';

before(() => init());

const fixture = (rel) => read(`fixtures/${rel}`);
const text = (rel) => fixture(rel).toString('utf8');
const expected = (dir) => JSON.parse(text(`${dir}/expected.json`));
const npy = (rel) => readNpy(fixture(rel));
/** A fixture model with its sidecar manifest (`x.onnx` → `x.toml`), as Model.fromBytes options. */
const withSidecar = (rel, options = {}) => ({ manifest: text(rel.replace(/\.onnx$/, '.toml')), ...options });

/** Loads, calls `fn`, frees (also when `fn` throws). */
function using(rel, options, fn) {
  const m = Model.fromBytes(fixture(rel), options);
  try {
    return fn(m);
  } finally {
    m.free();
  }
}

function assertClose(got, want, tolerance, what) {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    assert.ok(Math.abs(got[i] - want[i]) <= tolerance, `${what}[${i}]: ${got[i]} vs ${want[i]}`);
  }
}

/** Top-4 of the colour images in `dir` against its expected.json (`[index, probability]` pairs;
 * the grey image's classes are too close to rank). */
function assertClassifies(m, dir) {
  const want = expected(dir);
  for (const color of ['red', 'green', 'blue']) {
    const got = m.classify(fixture(`${dir}/${color}.png`), 4);
    assert.equal(got.length, want[color].length, `${dir}/${color}: ${JSON.stringify(got)}`);
    got.forEach((p, rank) => {
      const [index, score] = want[color][rank];
      assert.equal(p.index, index, `${dir}/${color}: rank ${rank} of ${JSON.stringify(got)}`);
      // Pillow's and Ledge's bilinear resize of the 64×64 images differ slightly.
      assert.ok(Math.abs(p.score - score) < 0.02, `${dir}/${color}: ${p.score} vs ${score}`);
    });
  }
}

test('run works whatever the manifest says, and the scores output is found', () => {
  const runs = expected('multi-output');
  // (features [1, 8], logits [1, 4]) with a 4-label manifest that names no scores output.
  const rel = 'multi-output/features_then_logits.onnx';
  using(rel, withSidecar(rel), (m) => {
    const outputs = m.run(npy('multi-output/red_x.npy'));
    assert.equal(outputs.length, 2);
    outputs.forEach((out, i) => {
      assert.equal(out.dtype, 'f32');
      assertClose(out.data, runs.features_then_logits_run[i], 1e-4, `features_then_logits output ${i}`);
    });
    assert.equal(m.info().manifest.output.scores, 'logits');
    assertClassifies(m, 'multi-output');
  });
  // (logits, aux_logits): the first output fits, as before.
  const aux = 'multi-output/logits_then_aux.onnx';
  using(aux, withSidecar(aux), (m) => assertClassifies(m, 'multi-output'));

  // Two inputs: run takes one tensor each; an image task says why it cannot.
  const two = 'multi-output/two_inputs.onnx';
  using(two, withSidecar(two), (m) => {
    const [out] = m.run([npy('multi-output/red_x.npy'), npy('multi-output/temp.npy')]);
    assertClose(out.data, runs.two_inputs_run, 1e-4, 'two_inputs');
    throwsKind(() => m.classify(fixture('multi-output/red.png'), 1), 'TaskMismatch', 'call run with one tensor per input');
  });
});

test('external data cannot be read from bytes, and the error says what to do', async () => {
  // JavaScript loads bytes only: the data file beside the model cannot be found.
  throwsKind(
    () => Model.fromBytes(fixture('external-data/model.onnx'), withSidecar('external-data/model.onnx')),
    'ModelFormat',
    "external data file 'model.onnx.data'",
    'from its path',
  );
  // Model.load in Node reads the file, then loads its bytes: the same error.
  await rejectsKind(
    Model.load(`${DEMO}/fixtures/external-data/model.onnx`),
    'ModelFormat',
    "external data file 'model.onnx.data'",
    'from its path',
  );
});

test('Upsample runs as onnxruntime computes it', () => {
  const x = npy('field/x5.npy');
  for (const opset of [7, 9]) {
    using(`field/upsample_opset${opset}.onnx`, undefined, (m) => {
      const [got] = m.run(x);
      const want = npy(`field/upsample_opset${opset}.out.npy`);
      assert.deepEqual(got.shape, want.shape, `opset ${opset}`);
      assertClose(got.data, want.data, 1e-5, `upsample opset ${opset}`);
    });
  }
});

test('a dynamic height and width is planned at the given size', () => {
  const runs = expected('field');
  const rel = 'field/dynamic_hw.onnx';
  throwsKind(
    () => Model.fromBytes(fixture(rel)),
    'InvalidArgument',
    "input 'input' has a dynamic dimension 2 (named 'height')",
    '--input-shape input=1,3,N,N',
    'size = [height, width]',
  );

  using(rel, { inputShapes: [[1, 3, 48, 64]] }, (m) => {
    assert.deepEqual(m.info().inputs[0].shape, [1, 3, 48, 64]);
    const [out] = m.run(npy('field/x_48x64.npy'));
    assertClose(out.data, runs.dynamic_hw_48x64[0], 1e-4, '48×64');
    // Other sizes are planned on first use.
    const [out8] = m.run(npy('field/x8.npy'));
    assertClose(out8.data, runs.dynamic_hw_8x8[0], 1e-4, '8×8');
    // A tensor of another rank is still the model's shape error.
    throwsKind(() => m.run({ data: new Float32Array(24), shape: [1, 3, 8] }), 'InputShape');
  });

  // The manifest's [input] size plans an image model.
  const manifest = text('multi-output/logits_then_aux.toml').replace('[input]\n', '[input]\nsize = [48, 64]\n');
  assert.ok(manifest.includes('size = [48, 64]'), manifest);
  using(rel, { manifest }, (m) => {
    assert.deepEqual(m.info().inputs[0].shape, [1, 3, 48, 64]);
    const top = m.classify(fixture('multi-output/red.png'), 4);
    assert.equal(top.length, 4);
    const sum = top.reduce((s, p) => s + p.score, 0);
    assert.ok(Math.abs(sum - 1) < 1e-4, `${sum}`);
  });
});

test('16-bit QDQ is refused naming the type', () => {
  const e = throwsKind(
    () => Model.fromBytes(fixture('field/qdq_uint16.onnx')),
    'UnsupportedOperator',
    'QuantizeLinear(uint16)',
    'and 1 other',
    '8-bit types',
  );
  assert.equal(e.op, 'QuantizeLinear(uint16)');
});

test('uint8 NHWC and grey image models classify as onnxruntime', () => {
  const want = expected('field');
  const png = fixture('field/pattern.png');
  for (const name of ['uint8_nhwc', 'grey']) {
    const rel = `field/${name}.onnx`;
    using(rel, withSidecar(rel), (m) => {
      const got = m.classify(png, 4);
      assert.equal(got.length, 4, `${name}: ${JSON.stringify(got)}`);
      for (const p of got) {
        const w = want[`${name}_pattern`][p.index];
        assert.ok(Math.abs(p.score - w) < 1e-3, `${name}: class ${p.index} ${p.score} vs ${w}`);
      }
      // What the model takes: u8 pixels as they are (NHWC), or one channel of luma.
      const [input] = m.info().inputs;
      if (name === 'uint8_nhwc') {
        assert.deepEqual([input.shape, input.dtype], [[1, 32, 32, 3], 'u8']);
      } else {
        assert.deepEqual(input.shape, [1, 1, 32, 32]);
      }
    });
  }
});

/** Same top-5 classes in the same order, each score within 0.02. */
function assertSameClasses(got, want, what) {
  assert.deepEqual(got.map((p) => p.index), want.map((p) => p.index), what);
  got.forEach((g, i) => {
    assert.ok(Math.abs(g.score - want[i].score) <= 0.02, `${what}: class ${g.index} scores ${g.score} vs ${want[i].score}`);
  });
}

test('WebP, BMP and GIF classify as the PNG; TIFF is refused with what to do', async () => {
  const m = await model('efficientnet-lite0/model.onnx');
  const top5 = (name) => m.classify(fixture(`formats/${name}`), 5);
  const png = top5('chelsea.png');
  // A cat (ImageNet 281-285), confidently: the fixture is a meaningful test image.
  assert.ok(png[0].index >= 281 && png[0].index <= 285 && png[0].score > 0.3, JSON.stringify(png));
  for (const name of ['chelsea_lossless.webp', 'chelsea.bmp', 'chelsea_orient6.webp']) {
    assertSameClasses(top5(name), png, name);
  }
  // GIF: 256 colours, compared with a PNG of the same palette pixels (the second frame is ignored).
  assertSameClasses(top5('chelsea_animated.gif'), top5('chelsea_256.png'), 'chelsea_animated.gif');
  // Lossy WebP: the same top class.
  assert.equal(top5('chelsea_lossy.webp')[0].index, png[0].index);

  throwsKind(
    () => m.classify(fixture('formats/chelsea.tif'), 1),
    'ImageDecode',
    'TIFF images are not supported',
    'JPEG, PNG, WebP, BMP and GIF (first frame)',
    'convert it to JPEG or PNG',
  );
});
