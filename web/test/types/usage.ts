// Compiled (never run) by scripts/test-web.sh with `tsc --noEmit --strict`: the declarations in
// src/index.d.ts describe the API the way the tests use it.

import { init, memoryBytes, version, LedgeError, Model } from '@ledge/web';
import type { LedgeErrorKind, LoadOptions, ModelInfo, OutputTensor, Prediction, Stats } from '@ledge/web';

export async function usage(bytes: Uint8Array, png: Uint8Array, frame: ImageData): Promise<string> {
  const { version: v } = await init();
  await init(new URL('https://example.invalid/ledge_wasm_bg.wasm'));
  await init(fetch('/ledge_wasm_bg.wasm'));
  const options: LoadOptions = { manifest: 'name = "m"', labels: ['a', 'b'], batch: 1, verifyIntegrity: false, limits: { maxImagePixels: 1 << 20 } };
  const model: Model = Model.fromBytes(bytes, options);
  const other: Model = await Model.load('model.onnx');
  const top: Prediction[] = model.classify(png, 3);
  const live: Prediction[] = model.classifyImageData(frame);
  const label: string | null = top[0].label;
  const out: OutputTensor[] = model.run([{ data: new Float32Array(4), shape: [1, 4] }]);
  const one: OutputTensor[] = model.run({ data: new Int8Array(4), shape: [4] });
  const info: ModelInfo = model.info();
  const stats: Stats = model.stats();
  try {
    model.classifyTensor({ data: out[0].data, shape: out[0].shape });
  } catch (e) {
    if (e instanceof LedgeError) {
      const kind: LedgeErrorKind = e.kind;
      return `${kind} ${e.message} ${e.limit ?? ''}`;
    }
  }
  model.free();
  other.free();
  const freed: boolean = model.freed;
  return `${v} ${version()} ${memoryBytes()} ${label} ${one.length} ${info.sha256} ${stats.p50Ms} ${live.length} ${freed}`;
}
