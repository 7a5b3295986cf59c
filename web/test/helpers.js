// Shared by the Node tests: paths, the shared vectors, .npy reading, hostile PNG headers.
// The tests import the BUILT package by its name (`@ledge/web` → dist/), never src/.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

import { init, LedgeError, Model } from '@ledge/web';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const DEMO = process.env.LEDGE_DEMO_MODELS ?? `${REPO}demo-models`;

export function read(rel) {
  return readFileSync(`${DEMO}/${rel}`);
}

export function cases() {
  const data = JSON.parse(readFileSync(`${DEMO}/vectors/cases.json`, 'utf8'));
  assert.equal(data.format, 1);
  return data.cases;
}

/** `vectors/detect.json` or `vectors/embed.json` (format 1), the whole file. */
export function taskVectors(file) {
  const data = JSON.parse(readFileSync(`${DEMO}/vectors/${file}`, 'utf8'));
  assert.equal(data.format, 1, `${file}: format`);
  assert.ok(Array.isArray(data.cases), `${file}: no cases array`);
  return data;
}

/** Intersection over union of two `[x, y, width, height]` boxes (0 when both are empty). */
export function iou([ax, ay, aw, ah], [bx, by, bw, bh]) {
  const w = Math.max(0, Math.min(ax + aw, bx + bw) - Math.max(ax, bx));
  const h = Math.max(0, Math.min(ay + ah, by + bh) - Math.max(ay, by));
  const inter = w * h;
  const union = aw * ah + bw * bh - inter;
  return union > 0 ? inter / union : 0;
}

export const boxOf = (d) => [d.boundingBox.x, d.boundingBox.y, d.boundingBox.width, d.boundingBox.height];

/**
 * The detection rule every language applies (as core/tests/common/mod.rs): the same number of
 * detections; each expected one, in order, matched to the untaken actual detection of the same
 * class with the best IoU, which must be ≥ `min_iou`, with |Δscore| ≤ `score_tolerance`, the same
 * label and as many keypoints. Returns the problems (empty when the case passes) and, per matched
 * detection, the IoU and |Δscore|.
 */
export function detectionMismatches(c, actual) {
  const problems = [];
  const ious = [];
  const scoreDiffs = [];
  if (actual.length !== c.expected.length) problems.push(`${actual.length} detections, expected ${c.expected.length}`);
  const taken = new Array(actual.length).fill(false);
  for (const e of c.expected) {
    let best = -1;
    let bestIou = -1;
    actual.forEach((a, i) => {
      if (taken[i] || a.index !== e.index) return;
      const v = iou(boxOf(a), e.box);
      if (v > bestIou) [best, bestIou] = [i, v];
    });
    if (best < 0 || bestIou < c.min_iou) {
      problems.push(`class ${e.index} box [${e.box}]: best IoU ${best < 0 ? 'none' : bestIou.toFixed(3)} < ${c.min_iou}`);
      continue;
    }
    taken[best] = true;
    ious.push(bestIou);
    const a = actual[best];
    scoreDiffs.push(Math.abs(a.score - e.score));
    if (Math.abs(a.score - e.score) > c.score_tolerance) {
      problems.push(`class ${e.index} score ${a.score} vs ${e.score} (tolerance ${c.score_tolerance})`);
    }
    if (a.label !== (e.label ?? null) || a.keypoints.length !== (e.keypoints ?? []).length) {
      problems.push(`class ${e.index}: label ${a.label} / ${a.keypoints.length} keypoints vs ${e.label} / ${(e.keypoints ?? []).length}`);
    }
  }
  return { problems, ious, scoreDiffs };
}

/** Options that give a case's model its sidecar manifest (JS has no file system to look in). */
export function optionsFor(c) {
  if (!c.manifest) return undefined;
  return {
    manifest: read(c.manifest).toString('utf8'),
    labels: read('ppocr-cls/labels.txt').toString('utf8'),
  };
}

const cache = new Map();

/** Models loaded once per test file, by path relative to demo-models/. */
export async function model(rel, options) {
  await init();
  const key = `${rel} ${JSON.stringify(options ?? null)}`;
  if (!cache.has(key) || cache.get(key).freed) cache.set(key, Model.fromBytes(read(rel), options));
  return cache.get(key);
}

/** A NumPy .npy file (C order, little-endian f4/i1/u1/i4) as {data, shape}. */
export function readNpy(bytes) {
  assert.equal(bytes.subarray(1, 6).toString('latin1'), 'NUMPY');
  const major = bytes[6];
  const headerLen = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = bytes.subarray(start, start + headerLen).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  assert.match(header, /'fortran_order':\s*False/);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').filter((s) => s.trim()).map(Number);
  const body = bytes.subarray(start + headerLen);
  const copy = body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength);
  const Type = { '<f4': Float32Array, '|i1': Int8Array, '|u1': Uint8Array, '<i4': Int32Array }[descr];
  assert.ok(Type, `unsupported dtype ${descr}`);
  return { data: new Type(copy), shape };
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A PNG whose header claims w × h pixels, followed by an empty data chunk. */
export function pngHeader(w, h) {
  const chunk = (body) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(body.length - 4);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(17);
  ihdr.write('IHDR', 0, 'latin1');
  ihdr.writeUInt32BE(w, 4);
  ihdr.writeUInt32BE(h, 8);
  ihdr.set([8, 2, 0, 0, 0], 12);
  return Buffer.concat([
    Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'),
    chunk(ihdr),
    chunk(Buffer.from('IDAT', 'latin1')),
  ]);
}

/** assert.throws for one LedgeError kind: a real Error, a LedgeError, the kind, the message
 * fragments; returns the error for further checks. */
export function throwsKind(fn, kind, ...needles) {
  let caught;
  assert.throws(fn, (e) => {
    caught = e;
    return true;
  });
  assert.ok(caught instanceof Error, `not an Error: ${caught}`);
  assert.ok(caught instanceof LedgeError, `not a LedgeError: ${caught}`);
  assert.equal(caught.name, 'LedgeError');
  assert.equal(caught.kind, kind, `${caught.kind}: ${caught.message}`);
  for (const n of needles) assert.ok(caught.message.includes(n), `'${caught.message}' should mention '${n}'`);
  return caught;
}

/** The async twin of throwsKind. */
export async function rejectsKind(promise, kind, ...needles) {
  let caught;
  await assert.rejects(promise, (e) => {
    caught = e;
    return true;
  });
  return throwsKind(() => {
    throw caught;
  }, kind, ...needles);
}
