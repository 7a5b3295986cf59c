// Compiled (never run) by scripts/test-web.sh with `tsc --noEmit --strict`: the declarations in
// src/index.d.ts describe the API the way the tests use it.

import { cosineSimilarity, init, memoryBytes, version, Embedding, LedgeError, LiveStream, Model, ModelStore } from '@ledge/web';
import { WorkerModel } from '@ledge/web/worker';
import type {
  BoundingBox,
  FrameLayout,
  FrameOptions,
  FrameSource,
  LiveError,
  LiveResult,
  LiveStats,
  PixelFormat,
  RawFrame,
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
  const perVersion: Stats = store.stats('main', '2.0.0');
  const lifecycle = `${batch.length} ${active} ${versions.installed.length} ${report?.decision} ${served.version} ${served.predictions.length} ${hits} ${drift?.drifted}`;
  return `${v} ${version()} ${memoryBytes()} ${label} ${one.length} ${info.sha256} ${stats.p50Ms} ${live.length} ${freed} ${area} ${similarity} ${lifecycle} ${perVersion.runs}`;
}

export async function frames(bytes: Uint8Array, y: Uint8Array, uv: ArrayBuffer, camera: VideoFrame, video: HTMLVideoElement, image: ImageData): Promise<string> {
  const model = Model.fromBytes(bytes);
  const format: PixelFormat = 'nv21';
  const layout: FrameLayout = {
    format, width: 640, height: 480, planes: [{ rowStride: 640, pixelStride: 1 }, { rowStride: 640, pixelStride: 2 }],
    rotationDegrees: 90, mirror: false, colorMatrix: 'bt601', colorRange: 'full', region: null,
  };
  const raw: RawFrame = { planes: [y, uv], layout };
  const options: FrameOptions = { rotationDegrees: 270, mirror: true, region: { x: 0, y: 0, width: 100, height: 100 } };
  const sources: FrameSource[] = [raw, camera, video, image, { data: new Uint8Array(4), width: 1, height: 1 }, new OffscreenCanvas(1, 1)];
  const top: Prediction[] = await model.classifyFrame(sources[0], 3);
  const more: Prediction[] = await model.classifyFrame(camera, { maxResults: 2, ...options });
  const found: Detection[] = await model.detectFrame(video, { scoreThreshold: 0.5, rotationDegrees: 90 });
  const e: Embedding = await model.embedFrame(image, { mirror: true });

  const worker: WorkerModel = await WorkerModel.load('model.onnx', { verifyIntegrity: true }, { wasm: new URL('https://example.invalid/ledge_wasm_bg.wasm') });
  const other: WorkerModel = await WorkerModel.fromBytes(bytes);
  const fromWorker: Prediction[] = await worker.classifyFrame(camera, { maxResults: 1, transfer: true });
  const boxes: Detection[] = await worker.detect(bytes);
  const embedded: Embedding = await worker.embedFrame(raw);
  const info: ModelInfo = await worker.info();

  const results: LiveResult[] = [];
  const failures: LiveError[] = [];
  const classifying = new LiveStream(worker, { onResult: (r) => results.push(r), onError: (f) => failures.push(f) });
  const detecting = new LiveStream(model, {
    task: 'detect',
    options: { scoreThreshold: 0.4, rotationDegrees: 90 },
    onResult: (r) => {
      const boxes2: Detection[] = r.detections;
      results.push(r);
      return boxes2.length + r.timestamp + r.ms;
    },
  });
  const embedding = new LiveStream(other, { task: 'embed', onResult: (r) => r.embedding.values.length });
  const accepted: boolean = classifying.submit(camera) && detecting.submit(raw, 1_000) && embedding.submit(video);
  const counts: LiveStats = classifying.stats;
  await Promise.all([classifying.close(), detecting.close(), embedding.close()]);
  worker.free();
  other.free();
  model.free();
  return `${top.length} ${more.length} ${found.length} ${e.values.length} ${fromWorker.length} ${boxes.length} ${embedded.values.length} ${info.sha256} ${accepted} ${counts.fps} ${counts.dropped} ${classifying.busy} ${worker.freed} ${failures.length}`;
}
