// The live-stream runner: camera frames in, results out, at most one frame in flight.

import { LedgeError } from './ledge_error.js';

const TASKS = {
  classify: { method: 'classifyFrame', field: 'predictions' },
  detect: { method: 'detectFrame', field: 'detections' },
  embed: { method: 'embedFrame', field: 'embedding' },
};

/** How far back `fps` looks, milliseconds. */
const FPS_WINDOW_MS = 2000;

const now = () => performance.now();

/** Closes what a camera hands out and the runner owns: a VideoFrame, an ImageBitmap. */
function release(source) {
  if (source !== null && typeof source === 'object' && typeof source.close === 'function') {
    const closeable = ['VideoFrame', 'ImageBitmap'].some((n) => typeof globalThis[n] === 'function' && source instanceof globalThis[n]);
    if (closeable) source.close();
  }
}

/** Calls an app callback; what it throws is reported (`reportError` where the platform has it,
 * else rethrown from a timer), never thrown into the camera loop. */
function deliver(callback, value) {
  try {
    callback(value);
  } catch (e) {
    if (typeof globalThis.reportError === 'function') globalThis.reportError(e);
    else {
      setTimeout(() => {
        throw e;
      });
    }
  }
}

/**
 * Runs a model on a camera's frames as they come: at most one frame is in flight, a frame
 * submitted while one is being processed is dropped (and counted), and every result — or
 * error — is delivered to a callback with its own frame's timestamp. Works over a `Model` (on
 * the calling thread) and over a `WorkerModel` (in a Web Worker, so the page never waits).
 */
export class LiveStream {
  #model;
  #method;
  #field;
  #task;
  #options;
  #onResult;
  #onError;
  #inFlight = null;
  #closed = false;
  #submitted = 0;
  #processed = 0;
  #dropped = 0;
  #failed = 0;
  #started = null;
  #done = [];

  /**
   * @param model a `Model` or `WorkerModel` (anything with `classifyFrame`, `detectFrame` and
   *   `embedFrame` returning promises).
   * @param settings `{task, options, onResult, onError}`: the task (`"classify"`, the default,
   *   `"detect"` or `"embed"`), the options of each `…Frame` call (the task's options and
   *   `rotationDegrees`, `mirror`, `region`), the callback for results and the one for errors
   *   (default: `console.error`).
   */
  constructor(model, { task = 'classify', options = undefined, onResult, onError = undefined } = {}) {
    const t = TASKS[task];
    if (!t) throw new LedgeError('InvalidArgument', `task must be "classify", "detect" or "embed", got ${JSON.stringify(task)}`);
    if (model === null || typeof model !== 'object' || typeof model[t.method] !== 'function') {
      throw new LedgeError('InvalidArgument', `the model must be a Model or a WorkerModel (with ${t.method}), got ${model === null ? 'null' : typeof model}`);
    }
    if (typeof onResult !== 'function') throw new LedgeError('InvalidArgument', 'onResult must be a function (it receives each result)');
    if (onError !== undefined && typeof onError !== 'function') throw new LedgeError('InvalidArgument', 'onError must be a function');
    this.#model = model;
    this.#task = task;
    this.#method = t.method;
    this.#field = t.field;
    this.#options = options;
    this.#onResult = onResult;
    this.#onError = onError ?? ((r) => console.error(`Ledge live stream: the frame at ${r.timestamp} failed:`, r.error));
  }

  /**
   * Offers a frame (any source `classifyFrame` takes). Returns true when it is processed, false
   * when it is dropped because a frame is in flight (or the stream is closed). `timestamp`
   * defaults to the frame's own (`VideoFrame.timestamp`, µs), else the time of the call in µs
   * on `performance.now()`'s clock. The stream owns a submitted VideoFrame or ImageBitmap: it
   * closes a dropped one at once and a processed one as soon as the call settles (it is held,
   * not copied, while in flight). Never throws for a bad frame: that is a failed result.
   */
  submit(source, timestamp = undefined) {
    this.#submitted += 1;
    this.#started ??= now();
    if (this.#closed || this.#inFlight !== null) {
      this.#dropped += 1;
      release(source);
      return false;
    }
    const ts = timestamp ?? (typeof source?.timestamp === 'number' ? source.timestamp : Math.round(now() * 1000));
    const started = now();
    let call;
    try {
      call = Promise.resolve(this.#model[this.#method](source, this.#options));
    } catch (e) {
      call = Promise.reject(e);
    }
    this.#inFlight = call.then(
      (value) => {
        this.#processed += 1;
        const done = now();
        this.#done.push(done);
        this.#finish(source);
        deliver(this.#onResult, { task: this.#task, timestamp: ts, [this.#field]: value, ms: done - started });
      },
      (error) => {
        this.#failed += 1;
        this.#finish(source);
        deliver(this.#onError, { task: this.#task, timestamp: ts, error });
      },
    );
    return true;
  }

  #finish(source) {
    release(source);
    this.#inFlight = null;
  }

  /** True while a frame is being processed (a frame submitted now would be dropped). */
  get busy() {
    return this.#inFlight !== null;
  }

  /** True once `close()` was called. */
  get closed() {
    return this.#closed;
  }

  /**
   * Counts since the stream was made: frames `submitted`, `processed`, `dropped` (arrived while
   * busy or after close) and `failed`, `inFlight` (0 or 1; submitted = processed + dropped +
   * failed + inFlight), and `fps`: frames processed per second over the last two seconds.
   */
  get stats() {
    const t = now();
    while (this.#done.length && this.#done[0] < t - FPS_WINDOW_MS) this.#done.shift();
    const window = this.#started === null ? 0 : Math.min(FPS_WINDOW_MS, t - this.#started);
    return {
      submitted: this.#submitted,
      processed: this.#processed,
      dropped: this.#dropped,
      failed: this.#failed,
      inFlight: this.#inFlight === null ? 0 : 1,
      fps: window > 0 ? (this.#done.length * 1000) / window : 0,
    };
  }

  /** Accepts no more frames; resolves once the frame in flight (if any) is delivered. The
   * model is not freed: it belongs to the caller. */
  async close() {
    this.#closed = true;
    while (this.#inFlight !== null) await this.#inFlight;
  }
}
