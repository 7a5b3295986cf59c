// Compiled (never run) by scripts/test-web.sh with `tsc --noEmit --strict`: the declarations in
// src/index.d.ts describe the API the way the tests use it.

import { cosineSimilarity, init, memoryBytes, version, Embedding, LedgeError, Model } from '@ledge/web';
import type {
  BoundingBox,
  DetectOptions,
  Detection,
  LedgeErrorKind,
  LoadOptions,
  ModelInfo,
  OutputTensor,
  Point,
  Prediction,
  Stats,
} from '@ledge/web';

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
  const detectOptions: DetectOptions = { maxResults: 5, scoreThreshold: 0.3, iouThreshold: 0.4, allowlist: ['Cat'], denylist: [] };
  const found: Detection[] = model.detect(png, detectOptions);
  const live2: Detection[] = model.detectImageData(frame);
  const box: BoundingBox = found[0].boundingBox;
  const eyes: Point[] = found[0].keypoints;
  const area: number = box.width * box.height + eyes.length + live2.length + (found[0].label?.length ?? 0);
  const a: Embedding = model.embed(png);
  const b: Embedding = model.embedImageData(frame);
  const values: Float32Array = a.values;
  const similarity: number = a.cosineSimilarity(b) + cosineSimilarity(a, values) + cosineSimilarity([1, 2], new Embedding([3, 4]));
  const info: ModelInfo = model.info();
  const stats: Stats = model.stats();
  try {
    model.classifyTensor({ data: out[0].data, shape: out[0].shape });
  } catch (e) {
    if (e instanceof LedgeError) {
      const kind: LedgeErrorKind = e.kind;
      return `${kind} ${e.message} ${e.limit ?? ''} ${e.task ?? ''} ${e.reason ?? ''}`;
    }
  }
  model.free();
  other.free();
  const freed: boolean = model.freed;
  return `${v} ${version()} ${memoryBytes()} ${label} ${one.length} ${info.sha256} ${stats.p50Ms} ${live.length} ${freed} ${area} ${similarity}`;
}
