// The Ledge browser demo: pick, drop or film an image; the int8 EfficientNet-Lite0 classifies
// it in WebAssembly on this device. Encoded PNG/JPEG go through Ledge's own decoder (the same
// path as every other platform); other formats and camera frames go through a canvas as RGBA.

import { init, Model, LedgeError, version } from '../dist/index.js';

const MODEL_URL = new URL('../../demo-models/efficientnet-lite0/model.onnx', import.meta.url);
const $ = (id) => document.getElementById(id);
const ui = {
  drop: $('drop'), preview: $('preview'), video: $('video'), hint: $('drop-hint'), file: $('file'),
  camera: $('camera'), status: $('status'), results: $('results'), empty: $('empty'),
  latency: $('latency'), median: $('median'), loadTime: $('load-time'), info: $('model-info'),
  version: $('version'), canvas: $('canvas'),
};
let model = null;
let stream = null;

function setStatus(state, text) {
  ui.status.dataset.state = state;
  ui.status.textContent = text;
}

const ms = (t) => (t < 10 ? t.toFixed(1) : Math.round(t).toString()) + ' ms';

function show(predictions, elapsed) {
  ui.empty.hidden = true;
  ui.results.replaceChildren(
    ...predictions.map((p) => {
      const li = document.createElement('li');
      const [name, ...synonyms] = (p.label ?? `class ${p.index}`).split(', ');
      const label = document.createElement('span');
      label.className = 'label';
      label.textContent = name;
      label.title = p.label ?? '';
      if (synonyms.length) {
        const small = document.createElement('small');
        small.textContent = ` · ${synonyms.join(', ')}`;
        label.append(small);
      }
      const score = document.createElement('span');
      score.className = 'score';
      score.textContent = `${(p.score * 100).toFixed(1)}%`;
      const bar = document.createElement('div');
      bar.className = 'bar';
      const fill = document.createElement('span');
      fill.style.width = `${Math.max(0.5, p.score * 100)}%`;
      bar.append(fill);
      li.dataset.index = p.index;
      li.dataset.label = p.label ?? '';
      li.append(label, score, bar);
      return li;
    }),
  );
  ui.latency.textContent = ms(elapsed);
  ui.median.textContent = ms(model.stats().p50Ms);
}

function fail(e) {
  console.error(e);
  const text = e instanceof LedgeError ? `${e.kind}: ${e.message}` : String(e.message ?? e);
  setStatus('error', text);
}

function showImage(url) {
  stopCamera();
  ui.preview.src = url;
  ui.preview.hidden = false;
  ui.video.hidden = true;
  ui.hint.hidden = true;
  ui.drop.classList.add('has-image');
}

async function classifyBlob(blob) {
  if (!model) return;
  const url = URL.createObjectURL(blob);
  showImage(url);
  try {
    const bytes = new Uint8Array(await blob.arrayBuffer());
    const started = performance.now();
    let top;
    if (isPngOrJpeg(bytes)) {
      top = model.classify(bytes, 5);
    } else {
      // WebP, GIF, AVIF, ...: let the browser decode, then classify the RGBA pixels.
      const bitmap = await createImageBitmap(blob);
      top = model.classifyImageData(rgbaOf(bitmap, bitmap.width, bitmap.height), 5);
    }
    const elapsed = performance.now() - started;
    show(top, elapsed);
    setStatus('done', `Classified in ${ms(elapsed)}`);
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

async function startCamera() {
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
  } catch (e) {
    fail(new Error(`camera unavailable: ${e.message}`));
    return;
  }
  ui.video.srcObject = stream;
  await ui.video.play();
  ui.video.hidden = false;
  ui.preview.hidden = true;
  ui.hint.hidden = true;
  ui.drop.classList.add('has-image');
  ui.camera.setAttribute('aria-pressed', 'true');
  ui.camera.textContent = 'Stop camera';
  const tick = () => {
    if (!stream) return;
    const { videoWidth: w, videoHeight: h } = ui.video;
    if (w && h) {
      try {
        const started = performance.now();
        const top = model.classifyImageData(rgbaOf(ui.video, w, h), 5);
        const elapsed = performance.now() - started;
        show(top, elapsed);
        setStatus('done', 'Live');
      } catch (e) {
        fail(e);
      }
    }
    setTimeout(() => requestAnimationFrame(tick), 100);
  };
  requestAnimationFrame(tick);
}

function stopCamera() {
  if (!stream) return;
  for (const t of stream.getTracks()) t.stop();
  stream = null;
  ui.video.hidden = true;
  ui.camera.setAttribute('aria-pressed', 'false');
  ui.camera.textContent = 'Use camera';
}

function wire() {
  ui.file.addEventListener('change', () => ui.file.files[0] && classifyBlob(ui.file.files[0]));
  ui.drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    ui.drop.classList.add('over');
  });
  ui.drop.addEventListener('dragleave', () => ui.drop.classList.remove('over'));
  ui.drop.addEventListener('drop', (e) => {
    e.preventDefault();
    ui.drop.classList.remove('over');
    const f = [...e.dataTransfer.files].find((x) => x.type.startsWith('image/'));
    if (f) classifyBlob(f);
  });
  ui.drop.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') ui.file.click();
  });
  document.addEventListener('paste', (e) => {
    const f = [...(e.clipboardData?.files ?? [])].find((x) => x.type.startsWith('image/'));
    if (f) classifyBlob(f);
  });
  for (const b of document.querySelectorAll('.sample')) {
    b.addEventListener('click', async () => {
      const res = await fetch(b.dataset.src);
      classifyBlob(await res.blob());
    });
  }
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
    const started = performance.now();
    model = await Model.load(MODEL_URL);
    const loadMs = performance.now() - started;
    const info = model.info();
    const m = info.manifest;
    ui.loadTime.textContent = ms(loadMs);
    ui.info.textContent = `${m?.description ?? m?.name ?? 'Model'} · ${(info.fileSize / 1e6).toFixed(1)} MB · ${(info.macs / 1e6).toFixed(0)} M multiply-adds · ${Math.round(info.quantizedMacFraction * 100)}% int8`;
    setStatus('ready', 'Ready');
  } catch (e) {
    fail(e);
  }
}

// For tests and benchmarks: resolves to the loaded model once the page is ready.
window.ledgeDemo = { ready: main().then(() => model) };
