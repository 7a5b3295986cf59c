#!/usr/bin/env node
// Per-image latency of Ledge's WebAssembly build next to onnxruntime-web (wasm backend, 1 thread)
// on the same int8 EfficientNet-Lite0, in Node and in headless Chromium, in the same run.
// Rounds are interleaved (Ledge, ORT, Ledge, ...) and the medians reported.
//
//   node scripts/bench-web.mjs [--runs 30] [--dist web/dist] [--no-browser] [--no-ort] [--json]
//   node scripts/bench-web.mjs --compare DIR,DIR,...   (Ledge builds against each other, Node)
//   node scripts/bench-web.mjs --fp32 FILE   (Ledge int8 against Ledge on the fp32 source, Node)
//
// Ledge is timed twice: `classify` (PNG decode + preprocessing + inference + softmax/top-5, what
// an app calls) and `classifyTensor` (the preprocessed tensor: inference + softmax, comparable
// with ORT's `session.run`). Needs scripts/build-wasm.sh (and `npm ci` in web/) first.

import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const requireWeb = createRequire(`${REPO}web/package.json`);
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const RUNS = Number(arg('--runs', 30));
const DIST = resolve(REPO, arg('--dist', 'web/dist'));
const MODEL = 'demo-models/efficientnet-lite0/model.onnx';
const IMAGE = 'demo-models/images/chelsea.png';
const TENSOR = 'demo-models/vectors/tensors/efficientnet-lite0_chelsea.npy';
const withOrt = !process.argv.includes('--no-ort');

/** The benchmark body; runs in Node and, serialized, in the page. `env` gives the imports. */
async function bench({ ledgeUrl, ortUrl, ortWasmPaths, files, runs, withOrt }) {
  const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const npy = (bytes) => {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const headerLen = view.getUint16(8, true);
    const header = new TextDecoder().decode(bytes.subarray(10, 10 + headerLen));
    const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').filter((s) => s.trim()).map(Number);
    const body = bytes.slice(10 + headerLen);
    return { data: new Float32Array(body.buffer, body.byteOffset, body.byteLength / 4), shape };
  };
  const ledge = await import(ledgeUrl);
  const model = await files.model();
  const image = await files.image();
  const tensor = npy(await files.tensor());
  await ledge.init();
  let t = performance.now();
  const m = ledge.Model.fromBytes(model);
  const ledgeLoad = performance.now() - t;
  let session = null;
  let ort = null;
  let ortLoad = null;
  if (withOrt) {
    ort = await import(ortUrl);
    ort.env.wasm.numThreads = 1;
    if (ortWasmPaths) ort.env.wasm.wasmPaths = ortWasmPaths;
    t = performance.now();
    session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    ortLoad = performance.now() - t;
  }
  const feeds = session && { [session.inputNames[0]]: new ort.Tensor('float32', tensor.data, tensor.shape) };
  const times = { classify: [], classifyTensor: [], ort: [] };
  let top1 = null;
  let ortTop1 = null;
  for (let i = 0; i < runs + 3; i++) {
    const warm = i >= 3;
    t = performance.now();
    top1 = m.classify(image, 5)[0];
    if (warm) times.classify.push(performance.now() - t);
    t = performance.now();
    m.classifyTensor(tensor, 5);
    if (warm) times.classifyTensor.push(performance.now() - t);
    if (session) {
      t = performance.now();
      const out = await session.run(feeds);
      if (warm) times.ort.push(performance.now() - t);
      const scores = out[session.outputNames[0]].data;
      ortTop1 = scores.indexOf(Math.max(...scores));
    }
  }
  m.free();
  return {
    ledgeLoadMs: ledgeLoad,
    ortLoadMs: ortLoad,
    classifyMs: median(times.classify),
    classifyTensorMs: median(times.classifyTensor),
    ortRunMs: session ? median(times.ort) : null,
    top1: `${top1.index} ${top1.label}`,
    ortTop1,
    runs,
  };
}

// --compare A,B,...: Ledge builds (package folders) against each other in Node, interleaved,
// e.g. the opt-level 3 / s / z builds of the size profile measurement.
if (arg('--compare')) {
  const dirs = arg('--compare').split(',').map((d) => resolve(REPO, d));
  const image = readFileSync(`${REPO}${IMAGE}`);
  const model = readFileSync(`${REPO}${MODEL}`);
  const builds = [];
  for (const dir of dirs) {
    const ledge = await import(pathToFileURL(`${dir}/index.js`).href);
    await ledge.init();
    const t = performance.now();
    const m = ledge.Model.fromBytes(model);
    builds.push({ dir, m, load: performance.now() - t, times: [] });
  }
  for (let i = 0; i < RUNS + 3; i++) {
    for (const b of builds) {
      const t = performance.now();
      b.m.classify(image, 5);
      if (i >= 3) b.times.push(performance.now() - t);
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  console.log('| build | wasm bytes | classify median | load |\n|---|--:|--:|--:|');
  for (const b of builds) {
    const size = readFileSync(`${b.dir}/ledge_wasm_bg.wasm`).length;
    console.log(`| ${b.dir.startsWith(REPO) ? b.dir.slice(REPO.length) : b.dir} | ${size} | ${median(b.times).toFixed(1)} ms | ${b.load.toFixed(0)} ms |`);
  }
  console.log(`\nNode ${process.version}, medians of ${RUNS} interleaved runs after 3 warm-ups`);
  process.exit(0);
}

// --fp32 FILE: the int8 demo model against its fp32 source (demo-models/README.md names it) in
// the same build, `classifyTensor` on the same tensor, interleaved: is int8 faster than fp32 on
// the wasm32 SIMD128 kernels?
if (arg('--fp32')) {
  const ledge = await import(pathToFileURL(`${DIST}/index.js`).href);
  await ledge.init();
  const npy = readFileSync(`${REPO}${TENSOR}`);
  const headerLen = npy.readUInt16LE(8);
  const body = npy.subarray(10 + headerLen);
  const data = new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
  const tensor = { data, shape: [1, 3, 224, 224] };
  const models = [
    ['int8', readFileSync(`${REPO}${MODEL}`)],
    ['fp32', readFileSync(resolve(process.cwd(), arg('--fp32')))],
  ].map(([name, bytes]) => {
    // The fp32 source has no manifest of its own: the int8 model's sidecar describes both.
    const dir = `${REPO}demo-models/efficientnet-lite0`;
    const options = name === 'fp32'
      ? { manifest: readFileSync(`${dir}/manifest.toml`, 'utf8'), labels: readFileSync(`${dir}/labels.txt`, 'utf8') }
      : {};
    return { name, m: ledge.Model.fromBytes(bytes, options), times: [] };
  });
  for (let i = 0; i < RUNS + 3; i++) {
    for (const b of models) {
      const t = performance.now();
      const top = b.m.classifyTensor(tensor, 1)[0];
      if (i >= 3) b.times.push(performance.now() - t);
      b.top1 = top.index;
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const [q, f] = models.map((b) => median(b.times));
  console.log('| model | classifyTensor median | top-1 |\n|---|--:|--:|');
  for (const b of models) console.log(`| ${b.name} | ${median(b.times).toFixed(1)} ms | ${b.top1} |`);
  console.log(`\nint8 / fp32 = ${(q / f).toFixed(2)}; Node ${process.version}, medians of ${RUNS} interleaved runs after 3 warm-ups`);
  process.exit(0);
}

const results = {};

// Node: files from disk, packages by file URL.
{
  const files = {
    model: async () => readFileSync(`${REPO}${MODEL}`),
    image: async () => readFileSync(`${REPO}${IMAGE}`),
    tensor: async () => readFileSync(`${REPO}${TENSOR}`),
  };
  results.node = await bench({
    ledgeUrl: pathToFileURL(`${DIST}/index.js`).href,
    ortUrl: withOrt ? pathToFileURL(requireWeb.resolve('onnxruntime-web')).href : null,
    files,
    runs: RUNS,
    withOrt,
  });
  results.node.engine = `Node ${process.version}`;
}

if (!process.argv.includes('--no-browser')) {
  const { chromium } = requireWeb('playwright-core');
  const { serve } = await import(pathToFileURL(`${REPO}web/serve.mjs`).href);
  const { server, url } = await serve({ port: 0, root: REPO, quiet: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    await page.goto(`${url}/web/serve.mjs`); // any same-origin page
    const rel = (p) => `/${p.slice(REPO.length)}`;
    results.chromium = await page.evaluate(
      async ({ src, args }) => {
        const get = (u) => async () => new Uint8Array(await (await fetch(u)).arrayBuffer());
        const body = eval(`(${src})`);
        return body({ ...args, files: { model: get(args.model), image: get(args.image), tensor: get(args.tensor) } });
      },
      {
        src: bench.toString(),
        args: {
          ledgeUrl: `${rel(DIST)}/index.js`,
          ortUrl: '/web/node_modules/onnxruntime-web/dist/ort.wasm.min.mjs',
          ortWasmPaths: '/web/node_modules/onnxruntime-web/dist/',
          model: `/${MODEL}`,
          image: `/${IMAGE}`,
          tensor: `/${TENSOR}`,
          runs: RUNS,
          withOrt,
        },
      },
    );
    results.chromium.engine = `Chromium ${browser.version()}`;
  } finally {
    await browser.close();
    server.close();
  }
}

const f = (x) => (x == null ? '—' : x.toFixed(1));
console.log(`| engine | Ledge classify (PNG → top-5) | Ledge classifyTensor | onnxruntime-web run (wasm, 1 thread) | load Ledge / ORT |`);
console.log(`|---|--:|--:|--:|--:|`);
for (const r of Object.values(results)) {
  console.log(`| ${r.engine} | ${f(r.classifyMs)} ms | ${f(r.classifyTensorMs)} ms | ${f(r.ortRunMs)} ms | ${f(r.ledgeLoadMs)} / ${f(r.ortLoadMs)} ms |`);
}
console.log(`\nmedians of ${RUNS} interleaved runs after 3 warm-ups; ${DIST.slice(REPO.length)}; top-1 Ledge ${results.node.top1}, ORT ${results.node.ortTop1}`);
if (process.argv.includes('--json')) console.log(JSON.stringify(results));
