// TypeScript declarations of @ledge/web (hand-written; the API is src/index.js).

/** What `init()` accepts for the `.wasm`: a URL or path, a fetch `Response` (or a promise of
 * one), the bytes, or a compiled module. Omitted: the `.wasm` beside the package's JS. */
export type WasmSource =
  | string
  | URL
  | Request
  | Response
  | Promise<Response>
  | ArrayBuffer
  | Uint8Array
  | WebAssembly.Module;

/** Loads and instantiates the WebAssembly module (idempotent). Await it before anything else. */
export function init(source?: WasmSource): Promise<{ version: string }>;

/** The version of the Ledge core inside the wasm module. */
export function version(): string;

/** Size of the wasm linear memory in bytes (it grows and never shrinks). */
export function memoryBytes(): number;

/** The core's error kinds plus the JavaScript-side `"Panic"` and `"ModelFreed"`. */
export type LedgeErrorKind =
  | 'ModelFormat'
  | 'UnsupportedOperator'
  | 'InputCount'
  | 'InputShape'
  | 'InputType'
  | 'ImageDecode'
  | 'Preprocess'
  | 'InvalidArgument'
  | 'Manifest'
  | 'TaskMismatch'
  | 'Integrity'
  | 'Signature'
  | 'Io'
  | 'LimitExceeded'
  | 'Optimization'
  | 'Inference'
  | 'Panic'
  | 'ModelFreed';

/** Why a package is refused when `trustedKeys` are given: it is not signed, signed by a key
 * not in the list, or changed after signing (a weight byte, the manifest, a grafted signature). */
export type SignatureProblem = 'unsigned' | 'untrusted_key' | 'invalid';

/** Every failure of a Ledge call. The variant's fields are properties when it has them. */
export class LedgeError extends Error {
  constructor(kind: LedgeErrorKind, message: string, details?: Record<string, unknown>);
  readonly name: 'LedgeError';
  /** Which failure: match on this, not on the message. */
  readonly kind: LedgeErrorKind;
  /** UnsupportedOperator: the ONNX operator, e.g. `QLinearAdd`. */
  readonly op?: string;
  /** UnsupportedOperator: the first node using it. */
  readonly node?: string;
  /** UnsupportedOperator: how many further nodes are unsupported. */
  readonly others?: number;
  /** InputShape / InputType: the model input's name. */
  readonly input?: string;
  /** InputCount, InputShape, InputType, Integrity: what the model wants. */
  readonly expected?: number | number[] | string;
  /** InputCount, InputShape, InputType: what was passed. */
  readonly got?: number | number[] | string;
  /** Integrity: the sha256 of the bytes actually loaded. */
  readonly actual?: string;
  /** LimitExceeded: the limit's name, e.g. `max_image_pixels`. */
  readonly limit?: string;
  /** LimitExceeded: the offending value. */
  readonly value?: number;
  /** LimitExceeded: the configured maximum. */
  readonly max?: number;
  /** Io: the file or URL involved. */
  readonly path?: string;
  /** Signature: why the package is refused. */
  readonly problem?: SignatureProblem;
  /** Signature: what exactly was found (e.g. which key signed the package). */
  readonly detail?: string;
  /** TaskMismatch: the task asked for (`classify`, `detect`, `embed`). */
  readonly task?: string;
  /** TaskMismatch: what about the model or the call does not fit, and what to do instead. */
  readonly reason?: string;
}

/** What a classification returns (the core's `ClassifyOptions`); a number is `maxResults`. */
export interface ClassifyOptions {
  /** At most this many classes, best first (default 5). */
  maxResults?: number;
  /** Only classes scoring at least this probability, 0–1 (default 0). */
  scoreThreshold?: number;
  /** When not empty, only these classes (labels, or indices as text). */
  allowlist?: string[];
  /** Never these classes (labels, or indices as text). */
  denylist?: string[];
}

/** Bounds of the prediction cache (the core's `CacheOptions`). */
export interface CacheOptions {
  /** At most this many results (default 256). */
  maxEntries?: number;
  /** At most this many bytes of results, estimated (default 4 MiB). */
  maxBytes?: number;
}

/** Options of `Model.fromBytes` / `Model.load` / `new ModelStore`; every field is optional. */
export interface LoadOptions {
  /** A manifest as TOML text; overrides the one embedded by `ledge pack`. */
  manifest?: string;
  /** Labels for a manifest that names a `labels_file`: an array, or the file's text. */
  labels?: string[] | string;
  /** Batch size pinned into a symbolic first dimension (default 1). */
  batch?: number;
  /** Explicit shapes for every input, for models with symbolic dimensions besides batch. */
  inputShapes?: number[][];
  /** Check the manifest's sha256 against the model bytes (default true). */
  verifyIntegrity?: boolean;
  /** Use Ledge's int8 and depthwise kernels (default true); false runs tract's own, for comparison. */
  ledgeKernels?: boolean;
  /** Turn encoded photos as their EXIF Orientation tag says, as viewers show them (default true). */
  applyExifOrientation?: boolean;
  /** Force the int8 kernels' instruction set by name (`portable`, `simd128`); default: the best available. */
  isa?: string;
  /**
   * Threads per run: this WebAssembly module runs on one thread, so only 1 (the default) or 0 (one
   * per core, i.e. 1 here) is accepted; any other count is an `InvalidArgument` error.
   */
  threads?: number;
  /** Resource limits; each is checked before the allocation it protects. */
  limits?: {
    /** Largest model accepted, bytes (default 512 MiB). */
    maxModelBytes?: number;
    /** Largest image accepted, pixels, checked from the header (default 2^26). */
    maxImagePixels?: number;
    /** Largest tensor accepted by `run`, elements (default 2^26). */
    maxTensorElements?: number;
    /** Largest total of tensors the model's graph may plan, bytes, checked at load (default 1 GiB). */
    maxPlanBytes?: number;
  };
  /** Ed25519 public keys, 64 hex digits each (a `ledge keygen` `.pub` file's text, trimmed). When
   * not empty, only a package signed by one of them loads (`ledge pack --sign`); anything else is
   * a LedgeError of kind "Signature" with its `problem`. A manifest in these options is then
   * refused too (the signature does not cover it). */
  trustedKeys?: string[];
  /** A prediction cache (default none): a least-recently-used map from (task, options, image
   * bytes) to the result, per loaded model. A hit returns what the miss computed and counts in
   * `stats().cacheHits`. `classifyBatch`, `classifyTensor` and `run` bypass it. */
  cache?: CacheOptions | null;
}

/** One ranked class. */
export interface Prediction {
  /** Class index in the model's output. */
  index: number;
  /** Class label from the manifest, or null. */
  label: string | null;
  /** Probability in [0, 1]. */
  score: number;
}

/** What a detection returns (the core's `DetectOptions`); each unset field takes the value of
 * the manifest's `[detect]` section. */
export interface DetectOptions {
  /** At most this many detections, best first (≥ 1). */
  maxResults?: number;
  /** Only detections scoring at least this, in [0, 1]. */
  scoreThreshold?: number;
  /** Non-maximum suppression drops a box whose IoU with a better one (of the same class, or of
   * any class when the manifest says `nms = "class_agnostic"`) exceeds this, in [0, 1]. */
  iouThreshold?: number;
  /** When not empty, only these classes (labels, or indices as text). */
  allowlist?: string[];
  /** Never these classes (labels, or indices as text). */
  denylist?: string[];
}

/** A box in image pixels: left, top, width and height. */
export interface BoundingBox {
  /** Left edge, pixels from the image's left. */
  x: number;
  /** Top edge, pixels from the image's top. */
  y: number;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
}

/** A point in image pixels. */
export interface Point {
  /** Pixels from the image's left. */
  x: number;
  /** Pixels from the image's top. */
  y: number;
}

/** One detected object. */
export interface Detection {
  /** Class index in the model's scores output. */
  index: number;
  /** Class label from the manifest, or null. */
  label: string | null;
  /** Score in [0, 1]. */
  score: number;
  /** Where, in pixels of the image given (after EXIF orientation), clipped to it. */
  boundingBox: BoundingBox;
  /** Keypoints (e.g. a face's eyes, nose, mouth, ears) in image pixels, not clipped; empty for
   * models without them. */
  keypoints: Point[];
}

/** What `Embedding` and `cosineSimilarity` accept as an embedding. */
export type EmbeddingLike = Embedding | Float32Array | ArrayLike<number>;

/** An image's feature vector (`Model.embed`). Store `Array.from(values)`, rebuild with
 * `new Embedding(values)`. */
export class Embedding {
  constructor(values: Float32Array | ArrayLike<number>);
  /** The values; of unit length when the manifest says `l2_normalize` (the default). */
  readonly values: Float32Array;
  /** Cosine similarity with `other`, in [−1, 1]: 1 for the same direction, about 0 for
   * unrelated images. LedgeError "InvalidArgument" when the lengths differ or one is all zeros. */
  cosineSimilarity(other: EmbeddingLike): number;
}

/** `a·b / (|a|·|b|)` of two embeddings of the same model, in [−1, 1] (computed in the core, in
 * f64). LedgeError "InvalidArgument" when the lengths differ or one is all zeros. */
export function cosineSimilarity(a: EmbeddingLike, b: EmbeddingLike): number;

export type DType = 'f32' | 'i8' | 'u8' | 'i32' | 'i64';
export type TensorData = Float32Array | Int8Array | Uint8Array | Int32Array | BigInt64Array;

/** A dense row-major tensor; the dtype follows the typed array. */
export interface Tensor {
  data: TensorData;
  shape: number[];
}

/** An output tensor. */
export interface OutputTensor extends Tensor {
  dtype: DType;
}

export interface TensorSpec {
  name: string;
  /** Dimensions; -1 marks one only known at run time. */
  shape: number[];
  dtype: DType;
}

/** What Ledge knows about a model. `manifest` uses the manifest's own (TOML) field names. */
export interface ModelInfo {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  fileSize: number;
  sha256: string;
  opHistogram: Record<string, number>;
  parameters: number;
  macs: number;
  quantizedMacs: number;
  quantizedMacFraction: number;
  computeNodes: number;
  quantizedComputeNodes: number;
  manifest: Record<string, any> | null;
  manifestSource: 'options' | 'sidecar' | 'embedded' | null;
  repairs: string[];
}

/** How far live predictions are from the manifest's `[baseline]` (`ledge pack --baseline`): the
 * population stability index (PSI) of the top-1 confidence and class histograms. */
export interface Drift {
  /** PSI of the top-1 confidence histogram. */
  confidencePsi: number;
  /** PSI of the top-1 class histogram. */
  classPsi: number;
  /** The larger of the two. */
  score: number;
  /** The baseline's threshold (default 0.25). */
  threshold: number;
  /** `score > threshold` over at least 20 predictions. */
  drifted: boolean;
  /** Predictions the live histograms hold. */
  samples: number;
}

/** A model's usage since it was loaded (aggregates only: no input is kept). */
export interface Stats {
  /** Successful calls (`run` and every classification, detection, embedding). */
  runs: number;
  /** Successful classifications (each image of a batch counts). */
  classifications: number;
  /** Median latency of the last 1024 calls, milliseconds (0 before any call). */
  p50Ms: number;
  /** 95th percentile latency, milliseconds. */
  p95Ms: number;
  /** 99th percentile latency, milliseconds. */
  p99Ms: number;
  /** Mean top-1 score over all classifications; null before the first. */
  meanTop1Score: number | null;
  /** Failed calls by error kind, e.g. `{ImageDecode: 1}`. */
  errors: Record<string, number>;
  /** Prediction cache hits (0 without `cache` in the load options). */
  cacheHits: number;
  /** Prediction cache misses. */
  cacheMisses: number;
  /** Top-1 confidences (best score of detections) in 10 bins of 0.1. */
  confidenceHistogram: number[];
  /** How often each class index was the top-1, keyed by the index. */
  classHistogram: Record<number, number>;
  /** Mean entropy of the classifications' probabilities, normalized to [0, 1] (near 1: the
   * model is guessing); null before the first. */
  meanEntropy: number | null;
  /** Drift against the manifest's `[baseline]`; null without one. */
  drift: Drift | null;
}

/** An RGBA frame: an `ImageData` or anything shaped like one. */
export interface RgbaImage {
  data: Uint8ClampedArray | Uint8Array;
  width: number;
  height: number;
}

/** How a raw frame's pixels are stored (the core's `PixelFormat`): one packed plane of RGBA,
 * BGRA (4 bytes a pixel) or RGB (3); two planes Y + interleaved UV (NV12) or VU (NV21); three
 * planes Y, U, V (I420, and Android's YUV_420_888 with any chroma pixel stride). Chroma planes
 * are ⌈width/2⌉ × ⌈height/2⌉ samples. */
export type PixelFormat = 'rgba' | 'bgra' | 'rgb' | 'nv12' | 'nv21' | 'i420';

/** The strides of one plane, in bytes. */
export interface PlaneLayout {
  /** Bytes from the start of one row to the start of the next (≥ the row's bytes). */
  rowStride: number;
  /** Bytes from one sample to the next in a row: 4 for RGBA/BGRA, 3 for RGB, 1 for Y, 2 for an
   * NV12/NV21 UV plane, 1 or more for I420 chroma. */
  pixelStride: number;
}

/** The clockwise turn, in degrees, that makes a frame upright (Android's
 * `ImageInfo.getRotationDegrees()`). */
export type RotationDegrees = 0 | 90 | 180 | 270;

/** Everything about a raw frame except its bytes (the core's `FrameLayout`); only `format`,
 * `width` and `height` are needed. */
export interface FrameLayout {
  format: PixelFormat;
  /** Stored width in pixels (before rotation). */
  width: number;
  /** Stored height in pixels (before rotation). */
  height: number;
  /** One per plane, or empty / absent for tightly packed planes. A plane needs
   * `rowStride × (rows − 1) + the last row's bytes` bytes (the last row need not be padded). */
  planes?: PlaneLayout[];
  /** The clockwise turn that makes the stored frame upright (default 0). */
  rotationDegrees?: RotationDegrees;
  /** Mirror left-right after turning (a front camera's preview; default false). */
  mirror?: boolean;
  /** YUV formats: the colour matrix (default BT.601). */
  colorMatrix?: 'bt601' | 'bt709';
  /** YUV formats: full range 0–255 (the default) or video range 16–235. */
  colorRange?: 'full' | 'video';
  /** The part of the upright frame to look at, in its pixels; null for all of it. */
  region?: BoundingBox | null;
}

/** A frame's planes (in the format's order: Y, U, V / Y, UV / one packed plane) and layout. */
export interface RawFrame {
  planes: ReadonlyArray<Uint8Array | ArrayBuffer | ArrayBufferView>;
  layout: FrameLayout;
}

/** What the frame calls accept: a WebCodecs `VideoFrame` (NV12, I420, RGBA/RGBX, BGRA/BGRX
 * read as stored, with strides, visible rectangle, rotation, flip and colour space; other
 * formats drawn as RGBA), anything a canvas draws (its current pixels, as RGBA), an RGBA
 * `ImageData`, or a raw frame. */
export type FrameSource =
  | VideoFrame
  | ImageBitmap
  | ImageData
  | RgbaImage
  | HTMLVideoElement
  | HTMLCanvasElement
  | OffscreenCanvas
  | HTMLImageElement
  | RawFrame;

/** How to turn a frame upright and what part of it to look at. */
export interface FrameOptions {
  /** Clockwise turn after the source's own (a VideoFrame's rotation and flip, a raw layout's
   * rotationDegrees and mirror), default 0. */
  rotationDegrees?: RotationDegrees;
  /** Mirror left-right after turning (default false). */
  mirror?: boolean;
  /** The part of the upright frame to look at, `{x, y, width, height}` in its pixels (results
   * stay in the whole upright frame's pixels); default all of it. */
  region?: BoundingBox | null;
  /** `WorkerModel` only: move an ImageData's or a raw frame's buffers to the worker instead of
   * copying them (they are empty afterwards). Ignored by `Model`. */
  transfer?: boolean;
}

/** A loaded and optimized model. Call `free()` when done: wasm memory is not garbage-collected. */
export class Model {
  private constructor();
  /** Loads a model from ONNX bytes. */
  static fromBytes(bytes: Uint8Array | ArrayBuffer | ArrayBufferView, options?: LoadOptions): Model;
  /** Fetches (browser) or reads (Node) a model, then `fromBytes`; calls `init()` if needed. */
  static load(url: string | URL, options?: LoadOptions): Promise<Model>;
  /** Classifies encoded image bytes (JPEG, PNG, WebP, BMP, GIF): the `topK` (default 5) best classes, best first. */
  classify(encoded: Uint8Array | ArrayBuffer | ArrayBufferView, options?: number | ClassifyOptions): Prediction[];
  /** Classifies several encoded images in one run of the model: one array of predictions per
   * image, in order, equal to `classify` of each. */
  classifyBatch(images: ReadonlyArray<Uint8Array | ArrayBuffer | ArrayBufferView>, options?: number | ClassifyOptions): Prediction[][];
  /** Classifies an RGBA frame (canvas `ImageData`, video frame). */
  classifyImageData(image: RgbaImage, options?: number | ClassifyOptions): Prediction[];
  /** Detects objects in encoded image bytes (JPEG, PNG, WebP, BMP, GIF), best first, boxes in image pixels; for a
   * model whose manifest says `task = "detect"` (else LedgeError "TaskMismatch"). */
  detect(encoded: Uint8Array | ArrayBuffer | ArrayBufferView, options?: DetectOptions): Detection[];
  /** Detects objects in an RGBA frame (canvas `ImageData`, video frame); boxes in its pixels. */
  detectImageData(image: RgbaImage, options?: DetectOptions): Detection[];
  /** The embedding of encoded image bytes (JPEG, PNG, WebP, BMP, GIF); for a model whose manifest says
   * `task = "embed"` (else LedgeError "TaskMismatch"). */
  embed(encoded: Uint8Array | ArrayBuffer | ArrayBufferView): Embedding;
  /** The embedding of an RGBA frame (canvas `ImageData`, video frame). */
  embedImageData(image: RgbaImage): Embedding;
  /** Classifies a camera frame or picture source, best class first. Asynchronous because
   * `VideoFrame.copyTo` is; the inference runs on this thread. The caller keeps (and closes)
   * the source. LedgeError "InvalidArgument" when the frame's bytes do not fit its layout. */
  classifyFrame(source: FrameSource, options?: number | (ClassifyOptions & FrameOptions)): Promise<Prediction[]>;
  /** Detects objects in a camera frame or picture source; boxes and keypoints in pixels of the
   * upright frame (as displayed), also with a `region`. */
  detectFrame(source: FrameSource, options?: DetectOptions & FrameOptions): Promise<Detection[]>;
  /** The embedding of a camera frame or picture source. */
  embedFrame(source: FrameSource, options?: FrameOptions): Promise<Embedding>;
  /** Classifies an already preprocessed input tensor. */
  classifyTensor(tensor: Tensor, options?: number | ClassifyOptions): Prediction[];
  /** Runs the model on raw tensors, one per input in order. */
  run(inputs: Tensor | Tensor[]): OutputTensor[];
  info(): ModelInfo;
  stats(): Stats;
  /** Releases the wasm memory; later calls throw LedgeError kind "ModelFreed". */
  free(): void;
  /** True once freed (or lost to a panic). */
  readonly freed: boolean;
}

/** When a candidate shadows the active version and what promotes or rejects it (the core's
 * `ShadowPolicy`); every field is optional. */
export interface ShadowPolicy {
  /** Share of `classify` calls the candidate also runs on, in (0, 1] (default 0.1). */
  sampleRate?: number;
  /** Samples needed before a decision (default 50). */
  minSamples?: number;
  /** Top-1 agreement with the active version needed to promote, in [0, 1] (default 0.95). */
  minAgreement?: number;
  /** Highest candidate p95 / active p95 latency ratio that promotes (default 1.2). */
  maxLatencyRatio?: number;
  /** Promote or reject automatically once `minSamples` are in (default true); false leaves it
   * to the app (`shadowReport`, then `activate`). */
  autoDecide?: boolean;
  /** Native platforms run the candidate on a background thread when set (a promotion decided
   * there takes effect at the next call); wasm has no threads, so here the candidate always runs
   * after the active version, in the same call, and a promotion takes effect at once. */
  background?: boolean;
}

/** How a candidate compares with the active version so far. */
export interface ShadowReport {
  /** The candidate version. */
  candidate: string;
  /** The active version it was compared with. */
  active: string;
  /** Inputs both ran on. */
  samples: number;
  /** Share of samples with the same top-1 class. */
  agreement: number;
  /** Mean |candidate score − active score| of the active top-1 class. */
  meanAbsScoreDelta: number;
  /** Candidate p95 latency / active p95 latency on the samples. */
  latencyRatio: number;
  /** Still sampling, or what `autoDecide` did (a promoted candidate is the active version). */
  decision: 'pending' | 'promoting' | 'promoted' | 'rejected';
}

/** A store classification and the version that computed it. */
export interface Served {
  /** The version that computed `predictions`. */
  version: string;
  /** Its predictions, best first. */
  predictions: Prediction[];
}

/** The versions of a name in a `ModelStore`. */
export interface ModelVersions {
  /** Installed versions, in install order. */
  installed: string[];
  /** The version that serves `classify`, or null. */
  active: string | null;
  /** The version `rollback` returns to, or null. */
  previous: string | null;
}

/** Named, versioned models in memory: install, activate, roll back, shadow a candidate, classify
 * with the active version. A browser has no file system: keep the model bytes yourself (e.g. in
 * IndexedDB) and install them again at start. Call `free()` when done. */
export class ModelStore {
  /** An empty store; every version is loaded with `options` (`trustedKeys`: signed models only). */
  constructor(options?: LoadOptions);
  /** Installs ONNX bytes as `version` of `name` (not active); the bytes must load (and be signed
   * by a trusted key when `trustedKeys` are set), a version installed twice is an error. */
  install(name: string, version: string, bytes: Uint8Array | ArrayBuffer | ArrayBufferView): void;
  /** Makes `version` the active one; the old active one becomes the previous. */
  activate(name: string, version: string): void;
  /** Swaps the active and the previous version back (LedgeError "InvalidArgument" without one). */
  rollback(name: string): void;
  /** The active version of `name`, or null. */
  activeVersion(name: string): string | null;
  /** Installed, active and previous versions of `name`. */
  versions(name: string): ModelVersions;
  /** Lets installed `version` shadow the active version on a sample of `classify` calls. */
  setCandidate(name: string, version: string, policy?: ShadowPolicy): void;
  /** The candidate's comparison so far, or null without a candidate. */
  shadowReport(name: string): ShadowReport | null;
  /** Classifies encoded image bytes with the active version of `name`. */
  classify(name: string, encoded: Uint8Array | ArrayBuffer | ArrayBufferView, options?: number | ClassifyOptions): Served;
  /** The statistics of `version` of `name`, kept per version; only the active, previous and
   * candidate versions are loaded (any other: LedgeError "InvalidArgument"). */
  stats(name: string, version: string): Stats;
  /** Releases the store and its models; later calls throw LedgeError kind "ModelFreed". */
  free(): void;
  /** True once freed (or lost to a panic). */
  readonly freed: boolean;
}

/** What a `LiveStream` runs. */
export type LiveTask = 'classify' | 'detect' | 'embed';

/** Anything with the frame calls: a `Model` or a `WorkerModel`. */
export interface FrameModel {
  classifyFrame(source: FrameSource, options?: number | (ClassifyOptions & FrameOptions)): Promise<Prediction[]>;
  detectFrame(source: FrameSource, options?: DetectOptions & FrameOptions): Promise<Detection[]>;
  embedFrame(source: FrameSource, options?: FrameOptions): Promise<Embedding>;
}

/** One processed frame: its timestamp, the result, and how long the call took. */
export type LiveResult =
  | { task: 'classify'; timestamp: number; predictions: Prediction[]; ms: number }
  | { task: 'detect'; timestamp: number; detections: Detection[]; ms: number }
  | { task: 'embed'; timestamp: number; embedding: Embedding; ms: number };

/** One failed frame: its timestamp and the error (a LedgeError, e.g. "InvalidArgument" for a
 * frame whose bytes do not fit its layout). */
export interface LiveError {
  task: LiveTask;
  timestamp: number;
  error: LedgeError | Error;
}

/** A live stream's counts: submitted = processed + dropped + failed + inFlight. */
export interface LiveStats {
  /** Frames offered to `submit`. */
  submitted: number;
  /** Frames with a result. */
  processed: number;
  /** Frames dropped: submitted while one was in flight, or after `close()`. */
  dropped: number;
  /** Frames whose call failed (delivered to `onError`). */
  failed: number;
  /** 1 while a frame is being processed, else 0. */
  inFlight: number;
  /** Frames processed per second over the last two seconds. */
  fps: number;
}

/** What a `LiveStream` runs and where its results go. */
export interface LiveStreamSettings<T extends LiveTask> {
  /** The task (default "classify"). */
  task?: T;
  /** The options of each frame call: the task's options and the frame options. */
  options?: T extends 'classify'
    ? number | (ClassifyOptions & FrameOptions)
    : T extends 'detect'
      ? DetectOptions & FrameOptions
      : FrameOptions;
  /** Receives each result, with its own frame's timestamp. */
  onResult: (result: Extract<LiveResult, { task: T }>) => void;
  /** Receives each failure (default: `console.error`); never thrown into the camera loop. */
  onError?: (failure: LiveError) => void;
}

/** Runs a model on a camera's frames: at most one frame in flight, frames arriving meanwhile
 * dropped and counted, each result delivered with its frame's timestamp. Over a `WorkerModel`
 * the page never waits for inference. */
export class LiveStream<T extends LiveTask = 'classify'> {
  constructor(model: FrameModel, settings: LiveStreamSettings<T>);
  /** Offers a frame: true when it is processed, false when dropped (one in flight, or closed).
   * `timestamp` defaults to `VideoFrame.timestamp` (µs), else the call's time in µs on
   * `performance.now()`'s clock. A submitted VideoFrame or ImageBitmap belongs to the stream:
   * closed at once when dropped, else when its call settles. */
  submit(source: FrameSource, timestamp?: number): boolean;
  /** True while a frame is in flight. */
  readonly busy: boolean;
  /** True once `close()` was called. */
  readonly closed: boolean;
  /** The counts and the recent frame rate. */
  readonly stats: LiveStats;
  /** Accepts no more frames; resolves once the frame in flight is delivered. */
  close(): Promise<void>;
}
