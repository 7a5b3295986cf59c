// `@ledge/web/worker`: a model that runs in a Web Worker (or a Node worker thread), with the
// API of `Model` returning promises, so inference never blocks the page. Frames are handed
// over without copying pixels: VideoFrames and ImageBitmaps are transferred (a clone of the
// caller's, which the worker closes once it has read it), <video>, <canvas> and <img> become
// a VideoFrame or an ImageBitmap first; buffers are transferred on request (`transfer: true`).

import { Embedding, LiveStream } from './index.js';
import { LedgeError } from './ledge_error.js';
import { describe, sourceKind } from './frame.js';

export { Embedding, LedgeError, LiveStream };

const isNode =
  typeof process !== 'undefined' && process.versions != null && process.versions.node != null && typeof Worker !== 'function';

/** A worker speaking the same `post` / `listen` whatever the platform. */
async function spawn() {
  if (!isNode) {
    // Written this way so bundlers (Vite, webpack, Parcel) emit the worker script too.
    const w = new Worker(new URL('./ledge_worker.js', import.meta.url), { type: 'module', name: 'ledge' });
    return {
      post: (message, transfer) => w.postMessage(message, transfer),
      listen: (onMessage, onFailure) => {
        w.addEventListener('message', (e) => onMessage(e.data));
        w.addEventListener('error', (e) => {
          e.preventDefault();
          onFailure(e.message || 'the worker script failed to load or threw');
        });
        w.addEventListener('messageerror', () => onFailure('a message from the worker could not be read'));
      },
      terminate: () => w.terminate(),
    };
  }
  const threads = 'node:worker_threads';
  const { Worker: NodeWorker } = await import(/* webpackIgnore: true */ /* @vite-ignore */ threads);
  const w = new NodeWorker(new URL('./ledge_worker.js', import.meta.url));
  return {
    post: (message, transfer) => w.postMessage(message, transfer),
    listen: (onMessage, onFailure) => {
      w.on('message', onMessage);
      w.on('error', (e) => onFailure(e.message));
      w.on('exit', (code) => onFailure(`the worker thread exited (code ${code})`));
    },
    terminate: () => w.terminate(),
  };
}

/** The error a worker sent, rebuilt: a LedgeError with its kind and fields, or a plain Error. */
function revive({ kind, message, fields }) {
  return kind ? new LedgeError(kind, message, fields) : new Error(message);
}

/** A model URL as the worker must see it: absolute (a worker resolves against its own script),
 * a string (URL objects cannot be posted). Node paths stay as they are (same working folder). */
function absolute(url) {
  if (url instanceof URL) return url.href;
  if (typeof url !== 'string') {
    throw new LedgeError('InvalidArgument', `the model URL must be a string or a URL, got ${describe(url)}`);
  }
  return !isNode && typeof location !== 'undefined' ? new URL(url, location.href).href : url;
}

function bytesOf(value, what) {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw new LedgeError('InvalidArgument', `${what} must be a Uint8Array, an ArrayBuffer or a typed array view, got ${describe(value)}`);
}

/** What to post for a frame source, and what to transfer with it. */
async function transferable(source, transferBuffers) {
  switch (sourceKind(source)) {
    case 'videoFrame':
      if (source.format === null && source.codedWidth === 0) {
        throw new LedgeError('InvalidArgument', 'the VideoFrame is closed (close() was called, or it was transferred): pass an open frame');
      }
      return one(source.clone());
    case 'video':
      if (source.readyState < 2) {
        throw new LedgeError('InvalidArgument', `the video has no frame to read yet (readyState ${source.readyState}): wait for its 'loadeddata' event`);
      }
      return one(typeof VideoFrame === 'function' ? new VideoFrame(source) : await createImageBitmap(source));
    case 'drawable':
      return one(await createImageBitmap(source));
    case 'imageData':
      return { payload: source, transfer: transferBuffers && source.data?.buffer instanceof ArrayBuffer ? [source.data.buffer] : [] };
    default: {
      const buffers = new Set();
      if (transferBuffers && Array.isArray(source.planes)) {
        for (const p of source.planes) if (p?.buffer instanceof ArrayBuffer) buffers.add(p.buffer);
        if (source.planes.every((p) => p instanceof ArrayBuffer)) for (const p of source.planes) buffers.add(p);
      }
      return { payload: { planes: source.planes, layout: source.layout }, transfer: [...buffers] };
    }
  }
}

const one = (object) => ({ payload: object, transfer: [object], owned: object });

/**
 * A model loaded in its own worker: `Model`'s methods, each returning a promise. Inference runs
 * off the calling thread. Create it with `WorkerModel.load` or `WorkerModel.fromBytes`; call
 * `free()` when done (it ends the worker).
 */
export class WorkerModel {
  #port;
  #pending = new Map();
  #next = 1;
  #failure = null;

  /** @private Use `WorkerModel.load` or `WorkerModel.fromBytes`. */
  constructor(port) {
    if (port?.post === undefined) throw new TypeError('use WorkerModel.load() or WorkerModel.fromBytes()');
    this.#port = port;
    port.listen(
      (m) => this.#settle(m),
      (why) => this.#fail(new LedgeError('Panic', `the Ledge worker stopped: ${why}; load the model again`)),
    );
  }

  /**
   * Starts a worker and loads the model at `url` in it (fetched there; a path or file: URL in
   * Node). `options`: the `LoadOptions` of `Model.load`. `settings.wasm`: where the worker gets
   * the `.wasm` (a URL, or a compiled `WebAssembly.Module` to share one compilation between
   * workers); default: the `.wasm` beside the package's files.
   */
  static async load(url, options = undefined, settings = {}) {
    return WorkerModel.#start({ url: absolute(url) }, options, settings);
  }

  /** Starts a worker and loads the model from ONNX bytes (copied to the worker). */
  static async fromBytes(bytes, options = undefined, settings = {}) {
    const data = bytesOf(bytes, 'model bytes');
    return WorkerModel.#start({ bytes: data }, options, settings);
  }

  static async #start(from, options, { wasm } = {}) {
    const model = new WorkerModel(await spawn());
    try {
      await model.#call('load', [{ ...from, options, wasm: wasm instanceof URL ? wasm.href : wasm }]);
    } catch (e) {
      model.free();
      throw e;
    }
    return model;
  }

  #call(method, args, transfer = []) {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      try {
        this.#port.post({ id, method, args }, transfer);
      } catch (e) {
        this.#pending.delete(id);
        reject(new LedgeError('InvalidArgument', `cannot send this to the worker: ${e.message}`, { cause: e }));
      }
    });
  }

  #settle({ id, value, embedding, error }) {
    const p = this.#pending.get(id);
    if (!p) return;
    this.#pending.delete(id);
    if (error) {
      const e = revive(error);
      // A panic in the worker retired its model: so is this one.
      if (e.kind === 'Panic') this.#fail(new LedgeError('ModelFreed', 'this model was lost when Ledge panicked (see the earlier "Panic" error): load it again'));
      p.reject(e);
    } else {
      p.resolve(embedding ? new Embedding(value) : value);
    }
  }

  #fail(error) {
    if (this.#failure) return;
    this.#failure = error;
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
    this.#port.terminate();
  }

  /** A frame call: the source made transferable on this thread, the pixels read in the worker. */
  async #frame(method, source, options) {
    if (this.#failure) throw this.#failure;
    const { payload, transfer, owned } = await transferable(source, options?.transfer === true);
    try {
      return await this.#call(method, [payload, options], transfer);
    } finally {
      // What was made here for the worker: already gone when posted (closing it again does
      // nothing), closed here when it could not be.
      owned?.close();
    }
  }

  /** As `Model.classify`. */
  classify(encoded, options = undefined) {
    return this.#call('classify', [encoded, options]);
  }

  /** As `Model.classifyBatch`. */
  classifyBatch(images, options = undefined) {
    return this.#call('classifyBatch', [images, options]);
  }

  /** As `Model.classifyImageData`. */
  classifyImageData(image, options = undefined) {
    return this.#call('classifyImageData', [image, options]);
  }

  /** As `Model.classifyFrame`; `options.transfer: true` moves an ImageData's or a raw frame's
   * buffers to the worker instead of copying them (they are empty here afterwards). */
  classifyFrame(source, options = undefined) {
    return this.#frame('classifyFrame', source, options);
  }

  /** As `Model.detect`. */
  detect(encoded, options = undefined) {
    return this.#call('detect', [encoded, options]);
  }

  /** As `Model.detectImageData`. */
  detectImageData(image, options = undefined) {
    return this.#call('detectImageData', [image, options]);
  }

  /** As `Model.detectFrame` (and `transfer` as `classifyFrame`). */
  detectFrame(source, options = undefined) {
    return this.#frame('detectFrame', source, options);
  }

  /** As `Model.embed`. `cosineSimilarity` of the result runs in the core: it needs `init()` on
   * this thread too. */
  embed(encoded) {
    return this.#call('embed', [encoded]);
  }

  /** As `Model.embedImageData`. */
  embedImageData(image) {
    return this.#call('embedImageData', [image]);
  }

  /** As `Model.embedFrame` (and `transfer` as `classifyFrame`). */
  embedFrame(source, options = undefined) {
    return this.#frame('embedFrame', source, options);
  }

  /** As `Model.classifyTensor`. */
  classifyTensor(tensor, options = undefined) {
    return this.#call('classifyTensor', [tensor, options]);
  }

  /** As `Model.run`. */
  run(inputs) {
    return this.#call('run', [inputs]);
  }

  /** As `Model.info`. */
  info() {
    return this.#call('info', []);
  }

  /** As `Model.stats`. */
  stats() {
    return this.#call('stats', []);
  }

  /** Ends the worker and its model. Calls still running reject, later calls throw a LedgeError
   * of kind "ModelFreed". */
  free() {
    this.#fail(new LedgeError('ModelFreed', 'this model was freed: load it again to use it'));
  }

  /** True once `free()` was called (or the worker stopped). */
  get freed() {
    return this.#failure !== null;
  }
}

if (typeof Symbol.dispose === 'symbol') WorkerModel.prototype[Symbol.dispose] = WorkerModel.prototype.free;
