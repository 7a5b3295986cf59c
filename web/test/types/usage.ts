// Compiled (never run) by scripts/test-web.sh with `tsc --noEmit --strict`: the declarations in
// src/index.d.ts describe the API the way the tests use it.

import { cosineSimilarity, init, memoryBytes, version, Embedding, LedgeError, Model, ModelStore } from '@ledge/web';
import type {
  BoundingBox,
  CacheOptions,
  DetectOptions,
  Detection,
  Drift,
  LedgeErrorKind,
  LoadOptions,
  ModelInfo,
  ModelVersions,
  OutputTensor,
  Point,
  Prediction,
  Served,
  ShadowPolicy,
  ShadowReport,
  SignatureProblem,
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
  const batch: Prediction[][] = model.classifyBatch([png, new ArrayBuffer(8), new DataView(new ArrayBuffer(8))], { maxResults: 2 });
  const cache: CacheOptions = { maxEntries: 64, maxBytes: 1 << 20 };
  const store = new ModelStore({ trustedKeys: ['00'.repeat(32)], cache });
  store.install('main', '2.0.0', bytes);
  store.activate('main', '2.0.0');
  store.rollback('main');
  const active: string | null = store.activeVersion('main');
  const versions: ModelVersions = store.versions('main');
  const policy: ShadowPolicy = { sampleRate: 0.1, minSamples: 50, minAgreement: 0.95, maxLatencyRatio: 1.2, autoDecide: false };
  store.setCandidate('main', '2.0.0', policy);
  const report: ShadowReport | null = store.shadowReport('main');
  const served: Served = store.classify('main', png, 3);
  const hits: number = stats.cacheHits + stats.cacheMisses + (stats.errors['ImageDecode'] ?? 0) + stats.confidenceHistogram[9] + (stats.classHistogram[282] ?? 0) + (stats.meanEntropy ?? 0);
  const drift: Drift | null = stats.drift;
  store.free();
  try {
    Model.fromBytes(bytes, { trustedKeys: [] });
  } catch (e) {
    if (e instanceof LedgeError && e.kind === 'Signature') {
      const problem: SignatureProblem | undefined = e.problem;
      return `${problem}`;
    }
  }
  model.free();
  other.free();
  const freed: boolean = model.freed || store.freed;
  const lifecycle = `${batch.length} ${active} ${versions.installed.length} ${report?.decision} ${served.version} ${served.predictions.length} ${hits} ${drift?.drifted}`;
  return `${v} ${version()} ${memoryBytes()} ${label} ${one.length} ${info.sha256} ${stats.p50Ms} ${live.length} ${freed} ${area} ${similarity} ${lifecycle}`;
}
