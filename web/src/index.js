// Ledge for JavaScript: the public API of the npm package, a thin layer over the wasm-bindgen
// module (ledge_wasm.js, built from bindings/wasm). It adds what Rust cannot do from inside the
// module: loading the .wasm in every environment, a `LedgeError` for each failure (a trap
// included), and a clear error for a model used after `free()`.

import initWasm, * as wasm from './ledge_wasm.js';
import { LedgeError, takePanic } from './ledge_error.js';

export { LedgeError };

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

  /** Usage statistics since load. */
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

if (typeof Symbol.dispose === 'symbol') {
  Model.prototype[Symbol.dispose] = Model.prototype.free;
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

/** Bridge tests (not public API): the error for a core kind, and a deliberate panic. */
export const _testing = {
  error: (kind) => guard(() => wasm._errorForTesting(kind)),
  panic: (message) => guard(() => wasm._panicForTesting(message)),
};
