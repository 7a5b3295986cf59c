// The Ledge browser demo: pick, drop or film an image, then
//   classify — the int8 EfficientNet-Lite0's top 5 ImageNet classes;
//   detect   — boxes and labels (SSD-MobileNetV2) or faces with keypoints (BlazeFace) drawn over
//              the image or the camera feed;
//   similar  — the sample images ranked by the cosine similarity of their embeddings to it.
// Everything runs in WebAssembly on this device. Encoded PNG/JPEG go through Ledge's own decoder
// (the same path as every other platform); other formats go through a canvas as RGBA. The camera
// runs a LiveStream over a WorkerModel: each video frame goes to a Web Worker as a VideoFrame,
// frames arriving while it is busy are dropped, and the page shows frames per second and the
// dropped count. Each model is loaded the first time its task is chosen.

import { init, LiveStream, Model, LedgeError, version } from '../dist/index.js';
import { WorkerModel } from '../dist/worker.js';

const MODELS = {
  classify: '../../demo-models/efficientnet-lite0/model.onnx',
  objects: '../../demo-models/ssd-mobilenetv2-oid/model.onnx',
  faces: '../../demo-models/blazeface-short-range/model.onnx',
  embed: '../../demo-models/efficientnet-lite0-embed/model.onnx',
};
const TASKS = {
  classify: { title: 'Top 5', empty: 'Pick an image to see what the model thinks it is.', verb: 'Classified' },
  detect: { title: 'Detections', empty: 'Pick an image to find the objects (or faces) in it.', verb: 'Detected' },
  embed: { title: 'Most similar samples', empty: 'Pick an image to rank the sample images by similarity to it.', verb: 'Ranked' },
};
// Box colours, by class index.
const PALETTE = ['#2f6fed', '#e8590c', '#1f9d63', '#c2255c', '#7048e8', '#0c8599', '#d6336c', '#5c940d'];

const $ = (id) => document.getElementById(id);
const ui = {
  drop: $('drop'), preview: $('preview'), video: $('video'), overlay: $('overlay'), hint: $('drop-hint'),
  file: $('file'), camera: $('camera'), status: $('status'), title: $('result-title'), results: $('results'),
  empty: $('empty'), latency: $('latency'), median: $('median'), loadTime: $('load-time'), info: $('model-info'),
  version: $('version'), canvas: $('canvas'), detector: $('detector'), detectorField: $('detector-field'),
  fps: $('fps'), dropped: $('dropped'), liveMetrics: $('live-metrics'),
};
const params = new URLSearchParams(location.search);
let task = TASKS[params.get('task')] ? params.get('task') : 'classify';
if (MODELS[params.get('detector')] && params.get('detector') !== 'classify') ui.detector.value = params.get('detector');

const loaded = new Map(); // model key → Promise<{model, loadMs}>
const galleries = new Map(); // model key → Promise<[{src, name, bytes, embedding}]>
const sampleBytes = new Map(); // src → Promise<Uint8Array | null>
let current = null; // the still image: {bytes: Uint8Array | null, rgba: ImageData | null, width, height}
let stream = null;
const workers = new Map(); // model key → Promise<WorkerModel> (camera mode)
let live = null; // the camera's LiveStream
let runId = 0;
let shownInfo = null; // the model whose info the footer shows
let lastOverlay = null; // what drawOverlay drew last (for redraws on resize, and for tests)

function setStatus(state, text) {
  ui.status.dataset.state = state;
  ui.status.textContent = text;
}

const ms = (t) => (t < 10 ? t.toFixed(1) : Math.round(t).toString()) + ' ms';
const modelKey = () => (task === 'detect' ? ui.detector.value : task);

function fail(e) {
  console.error(e);
  const text = e instanceof LedgeError ? `${e.kind}: ${e.message}` : String(e.message ?? e);
  setStatus('error', text);
}

/** The model of `key`, loaded once (concurrent callers share the promise). */
function modelFor(key) {
  if (!loaded.has(key)) {
    const started = performance.now();
    const p = Model.load(new URL(MODELS[key], import.meta.url)).then((model) => ({ model, loadMs: performance.now() - started }));
    p.catch(() => loaded.delete(key));
    loaded.set(key, p);
  }
  return loaded.get(key);
}

/** The current task's model, saying so in the status line while it loads. */
async function activeModel() {
  const key = modelKey();
  let settled = false;
  const p = modelFor(key).finally(() => (settled = true));
  await Promise.resolve();
  if (!settled) setStatus('loading', `Loading ${key === 'classify' ? 'classifier' : key === 'embed' ? 'embedding model' : `${key} detector`}…`);
  const entry = await p;
  if (shownInfo !== entry) showModelInfo(entry);
  shownInfo = entry;
  return entry;
}

function showModelInfo({ model, loadMs }) {
  const info = model.info();
  const m = info.manifest;
  ui.loadTime.textContent = ms(loadMs);
  ui.info.textContent = `${m?.description ?? m?.name ?? 'Model'} · ${(info.fileSize / 1e6).toFixed(1)} MB · ${(info.macs / 1e6).toFixed(0)} M multiply-adds · ${Math.round(info.quantizedMacFraction * 100)}% int8`;
}

// ---------------------------------------------------------------- results

function row(dataset, ...children) {
  const li = document.createElement('li');
  Object.assign(li.dataset, dataset);
  li.append(...children);
  return li;
}

function span(className, text) {
  const s = document.createElement('span');
  s.className = className;
  s.textContent = text;
  return s;
}

function bar(fraction, color) {
  const b = document.createElement('div');
  b.className = 'bar';
  const fill = document.createElement('span');
  fill.style.width = `${Math.max(0.5, Math.min(1, fraction) * 100)}%`;
  if (color) fill.style.background = color;
  b.append(fill);
  return b;
}

function showList(items, emptyText) {
  ui.results.replaceChildren(...items);
  ui.empty.hidden = items.length > 0;
  if (!items.length) ui.empty.textContent = emptyText;
}

function showPredictions(predictions) {
  showList(
    predictions.map((p) => {
      const [name, ...synonyms] = (p.label ?? `class ${p.index}`).split(', ');
      const label = span('label', name);
      label.title = p.label ?? '';
      if (synonyms.length) {
        const small = document.createElement('small');
        small.textContent = ` · ${synonyms.join(', ')}`;
        label.append(small);
      }
      return row({ index: p.index, label: p.label ?? '' }, label, span('score', `${(p.score * 100).toFixed(1)}%`), bar(p.score));
    }),
    'No class.',
  );
}

function showDetections(found) {
  showList(
    found.map((d) => {
      const b = d.boundingBox;
      const label = span('label', d.label ?? `class ${d.index}`);
      const swatch = span('swatch', '');
      swatch.style.background = colorOf(d.index);
      label.prepend(swatch);
      const where = document.createElement('small');
      where.textContent = ` · ${Math.round(b.width)} × ${Math.round(b.height)} px at ${Math.round(b.x)}, ${Math.round(b.y)}` +
        (d.keypoints.length ? ` · ${d.keypoints.length} keypoints` : '');
      label.append(where);
      return row(
        { index: d.index, label: d.label ?? '', score: d.score, box: [b.x, b.y, b.width, b.height].map((v) => v.toFixed(1)).join(',') },
        label, span('score', `${(d.score * 100).toFixed(1)}%`), bar(d.score, colorOf(d.index)),
      );
    }),
    'Nothing found above the score threshold.',
  );
}

function showSimilar(ranked) {
  showList(
    ranked.map((r) => {
      const img = document.createElement('img');
      img.src = r.src;
      img.alt = '';
      img.className = 'thumb';
      const label = span('label', r.title);
      label.title = r.name;
      label.prepend(img);
      return row({ src: r.src, name: r.name, cosine: r.cosine }, label, span('score', r.cosine.toFixed(3)), bar(r.cosine));
    }),
    'No sample images to compare with.',
  );
}

function showTimes(model, elapsed) {
  ui.latency.textContent = ms(elapsed);
  ui.median.textContent = ms(model.stats().p50Ms);
}

// ---------------------------------------------------------------- overlay

const colorOf = (index) => PALETTE[index % PALETTE.length];

/** Where media of `width × height` pixels shows inside the drop area (`object-fit: contain`). */
function displayRect(width, height) {
  const W = ui.drop.clientWidth;
  const H = ui.drop.clientHeight;
  const scale = Math.min(W / width, H / height);
  return { x: (W - width * scale) / 2, y: (H - height * scale) / 2, width: width * scale, height: height * scale, scale, W, H };
}

/**
 * Draws detections (boxes in pixels of media of `width × height`) over the image or video, scaled
 * to the size it is displayed at. What was drawn is also in the canvas's `data-boxes` (CSS pixels
 * of the overlay, with each box's colour) and in `ledgeDemo.overlay()`.
 */
function drawOverlay(found, width, height, source) {
  const canvas = ui.overlay;
  const dpr = window.devicePixelRatio || 1;
  const view = displayRect(width, height);
  canvas.width = Math.round(view.W * dpr);
  canvas.height = Math.round(view.H * dpr);
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, view.W, view.H);
  ctx.font = '600 13px system-ui, sans-serif';
  ctx.textBaseline = 'top';
  const drawn = found.map((d) => {
    const b = d.boundingBox;
    const r = { x: view.x + b.x * view.scale, y: view.y + b.y * view.scale, width: b.width * view.scale, height: b.height * view.scale };
    const color = colorOf(d.index);
    ctx.lineWidth = 3;
    ctx.strokeStyle = color;
    ctx.strokeRect(r.x, r.y, r.width, r.height);
    ctx.fillStyle = color;
    for (const p of d.keypoints) {
      ctx.beginPath();
      ctx.arc(view.x + p.x * view.scale, view.y + p.y * view.scale, 3.5, 0, 2 * Math.PI);
      ctx.fill();
    }
    const text = `${d.label ?? `class ${d.index}`} ${Math.round(d.score * 100)}%`;
    const tw = ctx.measureText(text).width + 10;
    // The tag sits above the box, or inside it when the box touches the top.
    const ty = r.y >= 20 ? r.y - 20 : r.y + 2;
    const tx = Math.min(Math.max(r.x, 0), view.W - tw);
    ctx.fillRect(tx, ty, tw, 20);
    ctx.fillStyle = '#fff';
    ctx.fillText(text, tx + 5, ty + 3);
    return { index: d.index, label: d.label, score: d.score, color, ...r };
  });
  lastOverlay = { source, width, height, found, view, drawn };
  canvas.dataset.boxes = JSON.stringify(drawn);
  canvas.dataset.source = source;
  canvas.hidden = false;
}

function clearOverlay() {
  lastOverlay = null;
  ui.overlay.getContext('2d').clearRect(0, 0, ui.overlay.width, ui.overlay.height);
  ui.overlay.dataset.boxes = '[]';
  delete ui.overlay.dataset.source;
}

// ---------------------------------------------------------------- similar images

function sameBytes(a, b) {
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function bytesOfSample(src) {
  if (!sampleBytes.has(src)) {
    sampleBytes.set(src, fetch(src).then(async (res) => (res.ok ? new Uint8Array(await res.arrayBuffer()) : null), () => null));
  }
  return sampleBytes.get(src);
}

/** The embeddings of the page's sample images (those that exist), once per model. */
function gallery(key, model) {
  if (!galleries.has(key)) {
    const buttons = [...document.querySelectorAll('.sample')];
    galleries.set(key, Promise.all(buttons.map(async (b) => {
      const src = b.querySelector('img').src;
      const bytes = await bytesOfSample(src);
      if (!bytes) return null;
      const name = src.split('/').pop();
      const title = b.querySelector('img').alt || name;
      return { src, name, title, bytes, embedding: model.embed(bytes) };
    })).then((items) => items.filter(Boolean)));
  }
  return galleries.get(key);
}

/** The gallery ranked by cosine similarity to `embedding`, best first, without the query itself. */
function rank(items, embedding, queryBytes) {
  return items
    .filter((it) => !sameBytes(it.bytes, queryBytes))
    .map((it) => ({ src: it.src, name: it.name, title: it.title, cosine: it.embedding.cosineSimilarity(embedding) }))
    .sort((a, b) => b.cosine - a.cosine);
}

// ---------------------------------------------------------------- running a task

/** Runs the current task on `input` ({bytes} or {rgba}) and shows the result. */
function runTask(model, input, items) {
  const started = performance.now();
  let show;
  if (task === 'classify') {
    const top = input.bytes ? model.classify(input.bytes, 5) : model.classifyImageData(input.rgba, 5);
    show = () => showPredictions(top);
  } else if (task === 'detect') {
    const found = input.bytes ? model.detect(input.bytes) : model.detectImageData(input.rgba);
    show = () => {
      showDetections(found);
      drawOverlay(found, input.width, input.height, input.source);
    };
  } else {
    const e = input.bytes ? model.embed(input.bytes) : model.embedImageData(input.rgba);
    show = () => showSimilar(rank(items, e, input.bytes));
  }
  const elapsed = performance.now() - started;
  show();
  showTimes(model, elapsed);
  return elapsed;
}

/** Runs the current task on the current still image. */
async function analyzeCurrent() {
  if (!current) return;
  const id = ++runId;
  const input = current;
  setStatus('busy', 'Working…');
  try {
    const { model } = await activeModel();
    const items = task === 'embed' ? await gallery(modelKey(), model) : null;
    if (id !== runId || input !== current) return;
    const elapsed = runTask(model, input, items);
    setStatus('done', `${TASKS[task].verb} in ${ms(elapsed)}`);
  } catch (e) {
    if (id === runId) fail(e);
  }
}

async function openBlob(blob) {
  ++runId;
  setStatus('busy', 'Reading image…');
  const url = URL.createObjectURL(blob);
  showImage(url);
  try {
    const bytes = new Uint8Array(await blob.arrayBuffer());
    const bitmap = await createImageBitmap(blob);
    const { width, height } = bitmap;
    // PNG and JPEG go to Ledge's decoder; WebP, GIF, AVIF, ...: the browser's, as RGBA pixels.
    current = isPngOrJpeg(bytes)
      ? { bytes, rgba: null, width, height, source: 'image' }
      : { bytes: null, rgba: rgbaOf(bitmap, width, height), width, height, source: 'image' };
    bitmap.close();
    await analyzeCurrent();
  } catch (e) {
    fail(e);
  }
}

function isPngOrJpeg(b) {
  return (b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) || (b[0] === 0xff && b[1] === 0xd8);
}

function rgbaOf(source, width, height) {
  ui.canvas.width = width;
  ui.canvas.height = height;
  const ctx = ui.canvas.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(source, 0, 0, width, height);
  return ctx.getImageData(0, 0, width, height);
}

function showImage(url) {
  stopCamera();
  clearOverlay();
  ui.preview.src = url;
  ui.preview.hidden = false;
  ui.video.hidden = true;
  ui.hint.hidden = true;
  ui.drop.classList.add('has-image');
}

// ---------------------------------------------------------------- camera

/** The current task's model in a Web Worker (one per model, loaded the first time the camera
 * needs it), so inference never blocks the page while the camera runs. */
function workerFor(key) {
  if (!workers.has(key)) {
    const p = WorkerModel.load(new URL(MODELS[key], import.meta.url));
    p.catch(() => workers.delete(key));
    workers.set(key, p);
  }
  return workers.get(key);
}

/** Shows the live stream's counts: frames per second and dropped frames. */
function showLiveStats() {
  const s = live?.stats;
  ui.fps.textContent = s ? s.fps.toFixed(1) : '—';
  ui.dropped.textContent = s ? `${s.dropped} of ${s.submitted}` : '—';
  if (s) Object.assign(ui.liveMetrics.dataset, { submitted: s.submitted, processed: s.processed, dropped: s.dropped, failed: s.failed, fps: s.fps.toFixed(2) });
}

/**
 * Runs the current task on the camera: a LiveStream over the task's WorkerModel. Every frame the
 * video presents is submitted; while the worker is busy, frames are dropped (and counted), so
 * the results always follow the newest frame. Restarted when the task changes.
 */
async function runLive() {
  const id = ++runId;
  const previous = live;
  live = null;
  await previous?.close();
  try {
    const key = modelKey();
    if (!workers.has(key)) setStatus('loading', 'Loading the model into a worker…');
    const model = await workerFor(key);
    // Similar images: the gallery's embeddings come from the same model on this thread.
    const items = task === 'embed' ? await gallery(key, (await activeModel()).model) : null;
    if (id !== runId || !stream) return;
    const liveTask = task;
    live = new LiveStream(model, {
      task: liveTask,
      options: liveTask === 'classify' ? { maxResults: 5 } : undefined,
      onResult: (r) => {
        if (id !== runId || !stream) return;
        if (r.task === 'classify') showPredictions(r.predictions);
        else if (r.task === 'detect') {
          showDetections(r.detections);
          drawOverlay(r.detections, ui.video.videoWidth, ui.video.videoHeight, 'camera');
        } else showSimilar(rank(items, r.embedding, null));
        ui.latency.textContent = ms(r.ms);
        model.stats().then((s) => id === runId && (ui.median.textContent = ms(s.p50Ms)), () => {});
        showLiveStats();
        setStatus('done', 'Live');
      },
      onError: (f) => id === runId && fail(f.error),
    });
    setStatus('busy', 'Starting…');
  } catch (e) {
    if (id === runId) fail(e);
  }
}

async function startCamera() {
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
  } catch (e) {
    fail(new Error(`camera unavailable: ${e.message}`));
    return;
  }
  current = null;
  clearOverlay();
  ui.video.srcObject = stream;
  await ui.video.play();
  ui.video.hidden = false;
  ui.preview.hidden = true;
  ui.hint.hidden = true;
  ui.drop.classList.add('has-image');
  ui.camera.setAttribute('aria-pressed', 'true');
  ui.camera.textContent = 'Stop camera';
  ui.liveMetrics.hidden = false;
  const mine = stream;
  // Each frame the video presents (requestVideoFrameCallback; rAF where it is missing), with
  // its presentation time as the result's timestamp, µs.
  const next = (callback) => (ui.video.requestVideoFrameCallback ? ui.video.requestVideoFrameCallback(callback) : requestAnimationFrame(callback));
  const onFrame = (now, meta) => {
    if (stream !== mine) return;
    if (live && ui.video.readyState >= 2) live.submit(ui.video, Math.round((meta?.mediaTime ?? now / 1000) * 1e6));
    showLiveStats();
    next(onFrame);
  };
  next(onFrame);
  await runLive();
}

function stopCamera() {
  if (!stream) return;
  for (const t of stream.getTracks()) t.stop();
  stream = null;
  ++runId;
  live?.close();
  live = null;
  clearOverlay();
  ui.video.hidden = true;
  ui.liveMetrics.hidden = true;
  ui.camera.setAttribute('aria-pressed', 'false');
  ui.camera.textContent = 'Use camera';
}

// ---------------------------------------------------------------- task switch

async function selectTask(next) {
  task = next;
  for (const b of document.querySelectorAll('.task')) b.setAttribute('aria-selected', String(b.dataset.task === task));
  ui.detectorField.hidden = task !== 'detect';
  ui.title.textContent = TASKS[task].title;
  document.body.dataset.task = task;
  const url = new URL(location.href);
  url.searchParams.set('task', task);
  if (task === 'detect') url.searchParams.set('detector', ui.detector.value);
  else url.searchParams.delete('detector');
  history.replaceState(null, '', url);
  clearOverlay();
  showList([], TASKS[task].empty);
  ui.latency.textContent = '—';
  ui.median.textContent = '—';
  if (current) {
    await analyzeCurrent();
  } else if (stream) {
    await runLive();
  } else {
    const id = ++runId;
    try {
      await activeModel();
      if (id === runId) setStatus('ready', 'Ready');
    } catch (e) {
      fail(e);
    }
  }
}

function wire() {
  ui.file.addEventListener('change', () => {
    if (ui.file.files[0]) openBlob(ui.file.files[0]);
    ui.file.value = ''; // so that choosing the same file again runs again
  });
  ui.drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    ui.drop.classList.add('over');
  });
  ui.drop.addEventListener('dragleave', () => ui.drop.classList.remove('over'));
  ui.drop.addEventListener('drop', (e) => {
    e.preventDefault();
    ui.drop.classList.remove('over');
    const f = [...e.dataTransfer.files].find((x) => x.type.startsWith('image/'));
    if (f) openBlob(f);
  });
  ui.drop.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') ui.file.click();
  });
  document.addEventListener('paste', (e) => {
    const f = [...(e.clipboardData?.files ?? [])].find((x) => x.type.startsWith('image/'));
    if (f) openBlob(f);
  });
  for (const b of document.querySelectorAll('.sample')) {
    const img = b.querySelector('img');
    // A sample missing from demo-models/images (e.g. the mirrored photos before
    // `scripts/task_models.py vectors` made them) is hidden.
    img.addEventListener('error', () => (b.hidden = true));
    b.addEventListener('click', async () => {
      ++runId;
      setStatus('busy', 'Reading image…');
      const res = await fetch(b.dataset.src);
      openBlob(await res.blob());
    });
  }
  for (const b of document.querySelectorAll('.task')) b.addEventListener('click', () => selectTask(b.dataset.task));
  ui.detector.addEventListener('change', () => selectTask('detect'));
  new ResizeObserver(() => {
    if (lastOverlay) drawOverlay(lastOverlay.found, lastOverlay.width, lastOverlay.height, lastOverlay.source);
  }).observe(ui.drop);
  if (navigator.mediaDevices?.getUserMedia) {
    ui.camera.addEventListener('click', () => (stream ? stopCamera() : startCamera()));
  } else {
    ui.camera.disabled = true;
    ui.camera.title = 'No camera access here (needs https or localhost)';
  }
}

async function main() {
  wire();
  try {
    await init();
    ui.version.textContent = version();
    await selectTask(task);
    return (await modelFor(modelKey())).model;
  } catch (e) {
    fail(e);
    return null;
  }
}

// For tests and benchmarks: `ready` resolves to the first task's model once the page is ready;
// `overlay()` is what the detection overlay drew last (boxes in image pixels and on screen);
// `live()` the camera's live-stream counts (null without the camera).
window.ledgeDemo = {
  ready: main(),
  get task() {
    return task;
  },
  overlay: () => lastOverlay && JSON.parse(JSON.stringify({ ...lastOverlay, found: lastOverlay.found })),
  model: async (key = modelKey()) => (await modelFor(key)).model,
  live: () => live?.stats ?? null,
};
