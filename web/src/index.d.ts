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
  /** Signature: `unsigned`, `untrusted_key` or `invalid`. */
  readonly problem?: string;
  /** TaskMismatch: the task asked for (`classify`, `detect`, `embed`). */
  readonly task?: string;
  /** TaskMismatch: what about the model or the call does not fit, and what to do instead. */
  readonly reason?: string;
}

/** Options of `Model.fromBytes` / `Model.load`; every field is optional. */
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

export interface Stats {
  runs: number;
  classifications: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** Mean top-1 score over all classifications; null before the first. */
  meanTop1Score: number | null;
}

/** An RGBA frame: an `ImageData` or anything shaped like one. */
export interface RgbaImage {
  data: Uint8ClampedArray | Uint8Array;
  width: number;
  height: number;
}

/** A loaded and optimized model. Call `free()` when done: wasm memory is not garbage-collected. */
export class Model {
  private constructor();
  /** Loads a model from ONNX bytes. */
  static fromBytes(bytes: Uint8Array | ArrayBuffer | ArrayBufferView, options?: LoadOptions): Model;
  /** Fetches (browser) or reads (Node) a model, then `fromBytes`; calls `init()` if needed. */
  static load(url: string | URL, options?: LoadOptions): Promise<Model>;
  /** Classifies encoded image bytes (JPEG, PNG): the `topK` (default 5) best classes, best first. */
  classify(encoded: Uint8Array | ArrayBuffer | ArrayBufferView, options?: number | ClassifyOptions): Prediction[];
  /** Classifies an RGBA frame (canvas `ImageData`, video frame). */
  classifyImageData(image: RgbaImage, options?: number | ClassifyOptions): Prediction[];
  /** Detects objects in encoded image bytes (JPEG, PNG), best first, boxes in image pixels; for a
   * model whose manifest says `task = "detect"` (else LedgeError "TaskMismatch"). */
  detect(encoded: Uint8Array | ArrayBuffer | ArrayBufferView, options?: DetectOptions): Detection[];
  /** Detects objects in an RGBA frame (canvas `ImageData`, video frame); boxes in its pixels. */
  detectImageData(image: RgbaImage, options?: DetectOptions): Detection[];
  /** The embedding of encoded image bytes (JPEG, PNG); for a model whose manifest says
   * `task = "embed"` (else LedgeError "TaskMismatch"). */
  embed(encoded: Uint8Array | ArrayBuffer | ArrayBufferView): Embedding;
  /** The embedding of an RGBA frame (canvas `ImageData`, video frame). */
  embedImageData(image: RgbaImage): Embedding;
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
