// Ledge for JavaScript: the public API of the npm package, a thin layer over the wasm-bindgen
// module (ledge_wasm.js, built from bindings/wasm). It adds what Rust cannot do from inside the
// module: loading the .wasm in every environment, a `LedgeError` for each failure (a trap
// included), and a clear error for a model or store used after `free()`.

import initWasm, * as wasm from './ledge_wasm.js';
import { LedgeError, takePanic } from './ledge_error.js';
import { frameFrom, splitFrameOptions } from './frame.js';
import { LiveStream } from './live.js';

export { LedgeError, LiveStream };

let ready = null;
let initialized = false;
let generation = 0;
const internal = Symbol('ledge.internal');

const isNode =
  typeof process !== 'undefined' && process.versions != null && process.versions.node != null;

async function readLocal(path) {
  // Computed specifier: bundlers leave this Node-only import alone.
  const fs = 'node:fs/promises';
  const { readFile } = await import(/* webpackIgnore: true */ /* @vite-ignore */ fs);
  return readFile(path);
}

/**
 * Loads and instantiates the WebAssembly module; every other call needs it done. Idempotent.
 * `source` is optional: a URL or path string, a `Response` (or a promise of one), the bytes
 * (`ArrayBuffer`, `Uint8Array`), or a compiled `WebAssembly.Module`. Without it the `.wasm` beside
 * this file is fetched (browsers, bundlers) or read from disk (Node).
 */
export function init(source) {
  if (ready === null) {
    ready = instantiate(source).catch((e) => {
      ready = null;
      throw e;
    });
  }
  return ready;
}

async function instantiate(source) {
  if (source === undefined) source = new URL('./ledge_wasm_bg.wasm', import.meta.url);
  if (isNode && typeof source === 'string' && !/^(https?|data|blob):/.test(source)) {
    source = await readLocal(source.startsWith('file:') ? new URL(source) : source);
  } else if (isNode && source instanceof URL && source.protocol === 'file:') {
    source = await readLocal(source);
  }
  await initWasm({ module_or_path: source });
  initialized = true;
  return { version: wasm.version() };
}

function assertReady() {
  if (!initialized) {
    throw new LedgeError('InvalidArgument', 'Ledge is not initialized: await init() first');
  }
}

/** Runs a call into wasm: a trap (panic, stack overflow, out of memory) becomes a LedgeError. */
function guard(fn) {
  try {
    return fn();
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError) {
      // The instance aborted mid-call: its memory is no longer trustworthy. Start a fresh one
      // and retire every model that lived in the old one.
      generation += 1;
      const panic = takePanic();
      wasm.__wbg_reset_state();
      throw new LedgeError(
        'Panic',
        `Ledge panicked: ${panic ?? e.message}; models loaded before this are unusable, load them again`,
        { cause: e },
      );
    }
    throw e;
  }
}

function bytesOf(value, what) {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw new LedgeError(
    'InvalidArgument',
    `${what} must be a Uint8Array, an ArrayBuffer or a typed array view, got ${describe(value)}`,
  );
}

function stringOf(value, what) {
  if (typeof value === 'string') return value;
  throw new LedgeError('InvalidArgument', `${what} must be a string, got ${describe(value)}`);
}

function describe(v) {
  if (v === null) return 'null';
  if (typeof v === 'object') return v.constructor?.name ?? 'object';
  return typeof v;
}

/** An RGBA frame's bytes and size, checked: an `ImageData` or `{data, width, height}`. */
function frameOf(image) {
  if (image === null || typeof image !== 'object') {
    throw new LedgeError('InvalidArgument', `expected an ImageData or {data, width, height}, got ${describe(image)}`);
  }
  const { width, height } = image;
  for (const [name, v] of [['width', width], ['height', height]]) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
      throw new LedgeError('InvalidArgument', `image.${name} must be a whole number, got ${v}`);
    }
  }
  return { rgba: bytesOf(image.data, 'image.data'), width, height };
}

/** The values of an embedding-like argument as a Float32Array. */
function valuesOf(v, what) {
  if (v instanceof Embedding) return v.values;
  if (v instanceof Float32Array) return v;
  const numeric = Array.isArray(v)
    ? v.every((x) => typeof x === 'number')
    : ArrayBuffer.isView(v) && !(v instanceof DataView) && !(v instanceof BigInt64Array) && !(v instanceof BigUint64Array);
  if (!numeric) {
    throw new LedgeError(
      'InvalidArgument',
      `${what} must be an Embedding, a Float32Array or an array of numbers, got ${
        Array.isArray(v) ? `an array holding a ${describe(v.find((x) => typeof x !== 'number'))}` : describe(v)
      }`,
    );
  }
  return Float32Array.from(v);
}

/**
 * An image's feature vector (`Model.embed`). Compare two with `cosineSimilarity`: 1 for the same
 * direction, about 0 for unrelated images. Store `values` (e.g. `Array.from(e.values)`) and
 * rebuild with `new Embedding(values)`.
 */
export class Embedding {
  /** @param {Float32Array | ArrayLike<number>} values */
  constructor(values) {
    /** The values (unit length when the model's manifest says `l2_normalize`, the default). */
    Object.defineProperty(this, 'values', { value: valuesOf(values, 'the embedding values'), enumerable: true });
  }

  /** Cosine similarity with `other` (an `Embedding` or its values), in [−1, 1]. */
  cosineSimilarity(other) {
    return cosineSimilarity(this, other);
  }
}

/**
 * `a·b / (|a|·|b|)`, in [−1, 1], of two embeddings (`Embedding`s, `Float32Array`s or arrays of
 * numbers) of the same model. A `LedgeError` of kind `"InvalidArgument"` when their lengths
 * differ or one is all zeros.
 */
export function cosineSimilarity(a, b) {
  assertReady();
  const x = valuesOf(a, 'a');
  const y = valuesOf(b, 'b');
  return guard(() => wasm.cosineSimilarity(x, y));
}

/** A loaded and optimized model. Call `free()` when done: wasm memory is not garbage-collected. */
export class Model {
  #raw;
  #generation;

  /** @private Use `Model.fromBytes` or `Model.load`. */
  constructor(token, raw) {
    if (token !== internal) throw new TypeError('use Model.fromBytes() or Model.load()');
    this.#raw = raw;
    this.#generation = generation;
  }

  /** Loads a model from ONNX bytes (see `LoadOptions` for `options`). */
  static fromBytes(bytes, options = undefined) {
    assertReady();
    const data = bytesOf(bytes, 'model bytes');
    return guard(() => new Model(internal, wasm.Model.fromBytes(data, options)));
  }

  /** Fetches (browser) or reads (Node) a model, then `fromBytes`. Calls `init()` if needed. */
  static async load(url, options = undefined) {
    await init();
    let bytes;
    if (isNode && !(typeof url === 'string' && /^https?:/.test(url)) && !(url instanceof URL && url.protocol !== 'file:')) {
      try {
        bytes = await readLocal(typeof url === 'string' && url.startsWith('file:') ? new URL(url) : url);
      } catch (e) {
        throw new LedgeError('Io', `${url}: ${e.message}`, { path: String(url), cause: e });
      }
    } else {
      let response;
      try {
        response = await fetch(url);
      } catch (e) {
        throw new LedgeError('Io', `${url}: ${e.message}`, { path: String(url), cause: e });
      }
      if (!response.ok) {
        throw new LedgeError('Io', `${url}: HTTP ${response.status} ${response.statusText}`, {
          path: String(url),
        });
      }
      bytes = new Uint8Array(await response.arrayBuffer());
    }
    return Model.fromBytes(bytes, options);
  }

  #model() {
    if (this.#raw === null) {
      throw new LedgeError('ModelFreed', 'this model was freed: load it again to use it');
    }
    if (this.#generation !== generation) {
      this.#raw = null;
      throw new LedgeError(
        'ModelFreed',
        'this model was lost when Ledge panicked (see the earlier "Panic" error): load it again',
      );
    }
    return this.#raw;
  }

  /**
   * Classifies an encoded image (JPEG, PNG bytes), best class first. `options`: a number (the
   * `maxResults`, default 5) or `{maxResults, scoreThreshold, allowlist, denylist}`.
   */
  classify(encoded, options = undefined) {
    const model = this.#model();
    const bytes = bytesOf(encoded, 'the image');
    return guard(() => model.classify(bytes, options));
  }

  /**
   * Classifies several encoded images (an array of JPEG/PNG/WebP/BMP/GIF bytes) in one run of the model: one
   * array of predictions per image, in order, equal to `classify` of each. `options` as
   * `classify`. Fails as a single call would, for the first image that fails.
   */
  classifyBatch(images, options = undefined) {
    const model = this.#model();
    if (!Array.isArray(images)) {
      throw new LedgeError('InvalidArgument', `images must be an array of encoded images, got ${describe(images)}`);
    }
    const list = images.map((image, i) => bytesOf(image, `images[${i}]`));
    return guard(() => model.classifyBatch(list, options));
  }

  /** Classifies an RGBA frame: an `ImageData` (canvas, video) or `{data, width, height}`. */
  classifyImageData(image, options = undefined) {
    const model = this.#model();
    const { rgba, width, height } = frameOf(image);
    return guard(() => model.classifyRgba(rgba, width, height, options));
  }

  /**
   * Detects objects in an encoded image (JPEG, PNG bytes), best first:
   * `[{index, label, score, boundingBox: {x, y, width, height}, keypoints: [{x, y}]}]`, boxes
   * and keypoints in pixels of the image. For a model whose manifest says `task = "detect"`.
   * `options` (each unset field takes the manifest's value): `{maxResults, scoreThreshold,
   * iouThreshold, allowlist, denylist}`.
   */
  detect(encoded, options = undefined) {
    const model = this.#model();
    const bytes = bytesOf(encoded, 'the image');
    return guard(() => model.detect(bytes, options));
  }

  /** Detects objects in an RGBA frame (`ImageData` or `{data, width, height}`); boxes in its pixels. */
  detectImageData(image, options = undefined) {
    const model = this.#model();
    const { rgba, width, height } = frameOf(image);
    return guard(() => model.detectRgba(rgba, width, height, options));
  }

  /**
   * The embedding of an encoded image (JPEG, PNG bytes), for a model whose manifest says
   * `task = "embed"`: an `Embedding` (unit length unless the manifest turns `l2_normalize` off).
   */
  embed(encoded) {
    const model = this.#model();
    const bytes = bytesOf(encoded, 'the image');
    return new Embedding(guard(() => model.embed(bytes)));
  }

  /** The embedding of an RGBA frame (`ImageData` or `{data, width, height}`). */
  embedImageData(image) {
    const model = this.#model();
    const { rgba, width, height } = frameOf(image);
    return new Embedding(guard(() => model.embedRgba(rgba, width, height)));
  }

  /**
   * Classifies a camera frame or any picture source, best class first: a `VideoFrame` (NV12,
   * I420, RGBA/RGBX, BGRA/BGRX are read as stored, with their strides, visible rectangle,
   * rotation, flip and colour space; other formats are drawn as RGBA), an `ImageBitmap`, an
   * `ImageData` (or `{data, width, height}`), an `HTMLVideoElement` (its current frame), an
   * `HTMLCanvasElement`, an `OffscreenCanvas`, an `HTMLImageElement`, or a raw frame `{planes,
   * layout}` (a `FrameLayout`). `options`: the `classify` options plus `rotationDegrees` (0, 90,
   * 180 or 270: the clockwise turn that makes the frame upright, after the source's own),
   * `mirror` (mirror left-right after turning) and `region` (`{x, y, width, height}` of the
   * upright frame to look at). Asynchronous because `VideoFrame.copyTo` is; the inference runs
   * on this thread (`WorkerModel` runs it in a worker). The caller keeps (and closes) the source.
   */
  classifyFrame(source, options = undefined) {
    return this.#frame('classify', source, options);
  }

  /**
   * Detects objects in a camera frame or picture source (see `classifyFrame`), best first; boxes
   * and keypoints in pixels of the upright frame — after the source's own rotation and flip and
   * `options.rotationDegrees` and `mirror`, as displayed — also when a `region` is set.
   * `options`: the `detect` options plus `rotationDegrees`, `mirror`, `region`.
   */
  detectFrame(source, options = undefined) {
    return this.#frame('detect', source, options);
  }

  /** The embedding of a camera frame or picture source (see `classifyFrame`); `options`:
   * `{rotationDegrees, mirror, region}`. */
  async embedFrame(source, options = undefined) {
    return new Embedding(await this.#frame('embed', source, options));
  }

  /** A frame call: the source's pixels read (asynchronously for a VideoFrame), then the task. */
  async #frame(task, source, options) {
    this.#model();
    const [taskOptions, orient] = splitFrameOptions(options, task);
    const frame = await frameFrom(source, orient);
    const model = this.#model(); // it may have been freed meanwhile
    return guard(() => model[`${task}Frame`](frame, taskOptions));
  }

  /** Classifies an already preprocessed input tensor `{data, shape}`. */
  classifyTensor(tensor, options = undefined) {
    const model = this.#model();
    return guard(() => model.classifyTensor(tensor, options));
  }

  /** Runs the model on raw tensors, one per input in order (a single tensor is fine too). */
  run(inputs) {
    const model = this.#model();
    const list = Array.isArray(inputs) ? inputs : [inputs];
    return guard(() => model.run(list));
  }

  /** Inputs, outputs, manifest, sha256, size and cost of the model. */
  info() {
    const model = this.#model();
    return guard(() => model.info());
  }

  /**
   * Usage statistics since load: calls, latency percentiles, errors by kind, cache hits and
   * misses, the top-1 confidence and class histograms, mean entropy and drift (see `Stats`).
   */
  stats() {
    const model = this.#model();
    return guard(() => model.stats());
  }

  /** Releases the model's wasm memory. Later calls throw a `LedgeError` of kind "ModelFreed". */
  free() {
    const raw = this.#raw;
    this.#raw = null;
    if (raw !== null && this.#generation === generation) guard(() => raw.free());
  }

  /** True once `free()` was called (or the model was lost to a panic). */
  get freed() {
    return this.#raw === null || this.#generation !== generation;
  }
}

/**
 * Named, versioned models in memory: install versions, activate one, roll back, let a candidate
 * shadow the active version, and classify with whichever is active (each result names it).
 * A browser has no file system: the page keeps the model bytes itself (e.g. in IndexedDB) and
 * installs them again at start. Call `free()` when done: wasm memory is not garbage-collected.
 */
export class ModelStore {
  #raw;
  #generation;

  /**
   * An empty store; every version is loaded with `options` (the `LoadOptions` of
   * `Model.fromBytes`: `trustedKeys` makes it accept signed models only, `cache` gives each
   * loaded version a prediction cache).
   */
  constructor(options = undefined) {
    assertReady();
    this.#raw = guard(() => new wasm.ModelStore(options));
    this.#generation = generation;
  }

  #store() {
    if (this.#raw === null) {
      throw new LedgeError('ModelFreed', 'this model store was freed: create a new one to use it');
    }
    if (this.#generation !== generation) {
      this.#raw = null;
      throw new LedgeError(
        'ModelFreed',
        'this model store was lost when Ledge panicked (see the earlier "Panic" error): create and fill a new one',
      );
    }
    return this.#raw;
  }

  /**
   * Installs ONNX `bytes` as `version` of `name` (names and versions: letters, digits, `.`, `_`,
   * `-`), not active yet. The bytes are loaded first: a model that does not load, or is not
   * signed by a trusted key, is refused. A version is immutable: installing it twice fails.
   */
  install(name, version, bytes) {
    const store = this.#store();
    const [n, v] = [stringOf(name, 'name'), stringOf(version, 'version')];
    const data = bytesOf(bytes, 'model bytes');
    guard(() => store.install(n, v, data));
  }

  /** Makes installed `version` the active one of `name`; the old active one becomes the previous. */
  activate(name, version) {
    const store = this.#store();
    const [n, v] = [stringOf(name, 'name'), stringOf(version, 'version')];
    guard(() => store.activate(n, v));
  }

  /** Swaps the active and the previous version of `name` back. */
  rollback(name) {
    const store = this.#store();
    const n = stringOf(name, 'name');
    guard(() => store.rollback(n));
  }

  /** The active version of `name`, or null when none is active. */
  activeVersion(name) {
    const store = this.#store();
    const n = stringOf(name, 'name');
    return guard(() => store.activeVersion(n)) ?? null;
  }

  /** `{installed, active, previous}` of `name`: installed versions in install order, the active and the previous one (or null). */
  versions(name) {
    const store = this.#store();
    const n = stringOf(name, 'name');
    return guard(() => store.versions(n));
  }

  /**
   * Lets installed `version` shadow the active version of `name`: on a sample of `classify`
   * calls it runs too (after the active one), and with `autoDecide` it is promoted (activated)
   * or rejected once `minSamples` are in. `policy` (all optional): `{sampleRate, minSamples,
   * minAgreement, maxLatencyRatio, autoDecide, background}`. wasm has no threads: with
   * `background: true` the candidate still runs in the call, after the active version, and a
   * promotion takes effect at once (native platforms run it on a thread and promote at the
   * next call).
   */
  setCandidate(name, version, policy = undefined) {
    const store = this.#store();
    const [n, v] = [stringOf(name, 'name'), stringOf(version, 'version')];
    guard(() => store.setCandidate(n, v, policy));
  }

  /** How the candidate of `name` compares with the active version so far, or null without one. */
  shadowReport(name) {
    const store = this.#store();
    const n = stringOf(name, 'name');
    return guard(() => store.shadowReport(n));
  }

  /**
   * Classifies an encoded image (JPEG, PNG bytes) with the active version of `name`:
   * `{version, predictions}`, the version that computed the predictions. `options` as
   * `Model.classify`.
   */
  classify(name, encoded, options = undefined) {
    const store = this.#store();
    const n = stringOf(name, 'name');
    const bytes = bytesOf(encoded, 'the image');
    return guard(() => store.classify(n, bytes, options));
  }

  /**
   * The statistics of `version` of `name` (as `Model.stats`), kept per version: the active, the
   * previous and the candidate version are loaded and counted; any other version is a
   * LedgeError "InvalidArgument" naming the loaded ones.
   */
  stats(name, version) {
    const store = this.#store();
    const [n, v] = [stringOf(name, 'name'), stringOf(version, 'version')];
    return guard(() => store.stats(n, v));
  }

  /** Releases the store and every model in it. Later calls throw a `LedgeError` of kind "ModelFreed". */
  free() {
    const raw = this.#raw;
    this.#raw = null;
    if (raw !== null && this.#generation === generation) guard(() => raw.free());
  }

  /** True once `free()` was called (or the store was lost to a panic). */
  get freed() {
    return this.#raw === null || this.#generation !== generation;
  }
}

if (typeof Symbol.dispose === 'symbol') {
  Model.prototype[Symbol.dispose] = Model.prototype.free;
  ModelStore.prototype[Symbol.dispose] = ModelStore.prototype.free;
}

/** The version of the Ledge core inside the wasm module. */
export function version() {
  assertReady();
  return wasm.version();
}

/** Size of the wasm linear memory in bytes (it grows and never shrinks). */
export function memoryBytes() {
  assertReady();
  return wasm.memoryBytes();
}

/** Bridge tests (not public API): the core's error kinds, the error for a kind, and a deliberate panic. */
export const _testing = {
  errorKinds: () => guard(() => wasm._errorKindsForTesting()),
  error: (kind) => guard(() => wasm._errorForTesting(kind)),
  panic: (message) => guard(() => wasm._panicForTesting(message)),
};
