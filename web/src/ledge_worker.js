// The script a `WorkerModel` runs (a module Web Worker, or a Node worker thread): one `Model`,
// called by message. Each request is `{id, method, args}`; each answer `{id, value}` (an
// embedding's values are transferred, `embedding: true`) or `{id, error: {kind, message,
// fields}}`. Frame sources posted here (VideoFrame and ImageBitmap clones) belong to this
// worker and are closed as soon as their call is done.

import { init, Embedding, Model } from './index.js';

const METHODS = new Set([
  'classify', 'classifyBatch', 'classifyImageData', 'classifyFrame', 'classifyTensor',
  'detect', 'detectImageData', 'detectFrame', 'embed', 'embedImageData', 'embedFrame',
  'run', 'info', 'stats',
]);

let model = null;
let post;

async function load({ url, bytes, options, wasm }) {
  await init(wasm);
  model = bytes ? Model.fromBytes(bytes, options) : await Model.load(url, options);
}

/** An error as a message: a LedgeError's kind and fields survive the trip. */
function errorMessage(e) {
  if (e?.name !== 'LedgeError') return { kind: null, message: String(e?.message ?? e) };
  const fields = {};
  for (const [key, value] of Object.entries(e)) if (key !== 'kind' && key !== 'name') fields[key] = value;
  return { kind: e.kind, message: e.message, fields };
}

async function handle({ id, method, args }) {
  const owned = method.endsWith('Frame') ? args[0] : null;
  try {
    if (method === 'load') {
      await load(args[0]);
      post({ id, value: null });
      return;
    }
    if (!METHODS.has(method)) throw new Error(`unknown method ${method}`);
    const value = await model[method](...args);
    if (value instanceof Embedding) {
      const v = value.values;
      post({ id, value: v, embedding: true }, v.byteLength === v.buffer.byteLength ? [v.buffer] : []);
    } else {
      post({ id, value });
    }
  } catch (e) {
    post({ id, error: errorMessage(e) });
  } finally {
    if (owned !== null && typeof owned === 'object' && typeof owned.close === 'function') owned.close();
  }
}

if (typeof WorkerGlobalScope !== 'undefined' && globalThis instanceof WorkerGlobalScope) {
  post = (message, transfer = []) => globalThis.postMessage(message, transfer);
  globalThis.addEventListener('message', (e) => handle(e.data));
} else {
  const threads = 'node:worker_threads';
  const { parentPort } = await import(/* webpackIgnore: true */ /* @vite-ignore */ threads);
  post = (message, transfer = []) => parentPort.postMessage(message, transfer);
  parentPort.on('message', handle);
}
