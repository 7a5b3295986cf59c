// Camera frames for the tests, built here from the demo photos: a small PNG decoder (8-bit
// grey, RGB, RGBA; not interlaced), turns and mirrors, and RGB → RGBA, BGRA, RGB, NV12, NV21,
// I420 and YUV_420_888-style interleaved chroma with padded strides, in BT.601 full range (the
// JFIF coefficients; chroma averaged over each 2×2 block). Independent of the core: the frames
// are what a camera would hand out, and the tests compare the core's answers on them with its
// answers on the upright photo.

import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';

/** `{width, height, rgb}` (3 bytes a pixel) of a PNG. */
export function decodePng(bytes) {
  assert.equal(bytes.subarray(1, 4).toString('latin1'), 'PNG');
  let offset = 8;
  let header = null;
  const data = [];
  while (offset < bytes.length) {
    const length = bytes.readUInt32BE(offset);
    const type = bytes.subarray(offset + 4, offset + 8).toString('latin1');
    const body = bytes.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      header = { width: body.readUInt32BE(0), height: body.readUInt32BE(4), depth: body[8], color: body[9], interlace: body[12] };
    } else if (type === 'IDAT') {
      data.push(body);
    }
    offset += 12 + length;
  }
  const { width, height, depth, color, interlace } = header;
  assert.equal(depth, 8, 'PNG bit depth');
  assert.equal(interlace, 0, 'interlaced PNG');
  const channels = { 0: 1, 2: 3, 6: 4 }[color];
  assert.ok(channels, `PNG colour type ${color}`);
  const raw = inflateSync(Buffer.concat(data));
  const stride = width * channels;
  const px = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = px.subarray(y * stride, (y + 1) * stride);
    const up = y > 0 ? px.subarray((y - 1) * stride, y * stride) : new Uint8Array(stride);
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? out[i - channels] : 0;
      const b = up[i];
      const c = i >= channels ? up[i - channels] : 0;
      let p;
      if (filter === 0) p = 0;
      else if (filter === 1) p = a;
      else if (filter === 2) p = b;
      else if (filter === 3) p = (a + b) >> 1;
      else {
        const pa = Math.abs(b - c);
        const pb = Math.abs(a - c);
        const pc = Math.abs(a + b - 2 * c);
        p = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      out[i] = (line[i] + p) & 0xff;
    }
  }
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    for (let k = 0; k < 3; k++) rgb[3 * i + k] = px[channels * i + (channels === 1 ? 0 : k)];
  }
  return { width, height, rgb };
}

/** The `w × h` part of an RGB image at `(x, y)`. */
export function crop({ width, rgb }, x, y, w, h) {
  const out = new Uint8Array(w * h * 3);
  for (let j = 0; j < h; j++) out.set(rgb.subarray(3 * ((y + j) * width + x), 3 * ((y + j) * width + x + w)), 3 * j * w);
  return { width: w, height: h, rgb: out };
}

/** The image turned 90° clockwise. */
function turnClockwise({ width, height, rgb }) {
  const out = new Uint8Array(rgb.length);
  for (let y = 0; y < width; y++) {
    for (let x = 0; x < height; x++) {
      const from = 3 * ((height - 1 - x) * width + y);
      out.set(rgb.subarray(from, from + 3), 3 * (y * height + x));
    }
  }
  return { width: height, height: width, rgb: out };
}

/** The image mirrored left to right. */
export function mirrored({ width, height, rgb }) {
  const out = new Uint8Array(rgb.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = 3 * (y * width + width - 1 - x);
      out.set(rgb.subarray(from, from + 3), 3 * (y * width + x));
    }
  }
  return { width, height, rgb: out };
}

/**
 * What a camera stores for an upright picture that its `rotationDegrees` (the clockwise turn
 * that makes the stored frame upright) and `mirror` (after turning) describe: the upright
 * image, mirrored, turned back counter-clockwise.
 */
export function stored(upright, rotationDegrees, mirror = false) {
  let img = mirror ? mirrored(upright) : upright;
  for (let turns = (4 - rotationDegrees / 90) % 4; turns > 0; turns--) img = turnClockwise(img);
  return img;
}

/** BT.601 full range (JFIF). */
const yOf = (r, g, b) => 0.299 * r + 0.587 * g + 0.114 * b;
const uOf = (r, g, b) => 128 - 0.168736 * r - 0.331264 * g + 0.5 * b;
const vOf = (r, g, b) => 128 + 0.5 * r - 0.418688 * g - 0.081312 * b;
const byte = (v) => Math.max(0, Math.min(255, Math.round(v)));

/** Y, U and V planes (tight, chroma ⌈w/2⌉ × ⌈h/2⌉, each sample the mean of its block). */
function yuv({ width: w, height: h, rgb }) {
  const Y = new Uint8Array(w * h);
  for (let i = 0; i < w * h; i++) Y[i] = byte(yOf(rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]));
  const [cw, ch] = [Math.ceil(w / 2), Math.ceil(h / 2)];
  const U = new Uint8Array(cw * ch);
  const V = new Uint8Array(cw * ch);
  for (let j = 0; j < ch; j++) {
    for (let i = 0; i < cw; i++) {
      let [r, g, b, n] = [0, 0, 0, 0];
      for (let y = 2 * j; y < Math.min(h, 2 * j + 2); y++) {
        for (let x = 2 * i; x < Math.min(w, 2 * i + 2); x++) {
          r += rgb[3 * (y * w + x)];
          g += rgb[3 * (y * w + x) + 1];
          b += rgb[3 * (y * w + x) + 2];
          n += 1;
        }
      }
      U[j * cw + i] = byte(uOf(r / n, g / n, b / n));
      V[j * cw + i] = byte(vOf(r / n, g / n, b / n));
    }
  }
  return { Y, U, V, cw, ch };
}

/** `rows` rows of `rowBytes` from `src` laid out `rowStride` apart (the last row unpadded when
 * `short`, as Android's planes end). */
function strided(src, rowBytes, rows, rowStride, short) {
  const out = new Uint8Array(rowStride * (rows - 1) + (short ? rowBytes : rowStride));
  out.fill(0xa5); // padding that would show if it were read
  for (let r = 0; r < rows; r++) out.set(src.subarray(r * rowBytes, (r + 1) * rowBytes), r * rowStride);
  return out;
}

/** Samples interleaved: a, b, a, b, … */
function interleave(a, b) {
  const out = new Uint8Array(a.length * 2);
  for (let i = 0; i < a.length; i++) [out[2 * i], out[2 * i + 1]] = [a[i], b[i]];
  return out;
}

/** The formats `frameOf` makes: the core's five and YUV_420_888 with interleaved chroma. */
export const FORMATS = ['rgba', 'bgra', 'rgb', 'nv12', 'nv21', 'i420', 'yuv_420_888'];

/**
 * A raw frame `{planes, layout}` of an RGB image in `format`, with rows padded by `pad` bytes
 * (the last row of each plane unpadded) — what a camera hands out.
 */
export function frameOf(img, format, { pad = 0, rotationDegrees = 0, mirror = false } = {}) {
  const { width: w, height: h, rgb } = img;
  const base = { width: w, height: h, rotationDegrees, mirror };
  if (format === 'rgba' || format === 'bgra' || format === 'rgb') {
    const n = format === 'rgb' ? 3 : 4;
    const px = new Uint8Array(w * h * n);
    for (let i = 0; i < w * h; i++) {
      const [r, g, b] = rgb.subarray(3 * i, 3 * i + 3);
      px.set(format === 'bgra' ? [b, g, r] : [r, g, b], n * i);
      if (n === 4) px[n * i + 3] = 255;
    }
    return { planes: [strided(px, w * n, h, w * n + pad, true)], layout: { format, ...base, planes: [{ rowStride: w * n + pad, pixelStride: n }] } };
  }
  const { Y, U, V, cw, ch } = yuv(img);
  const y = { rowStride: w + pad, pixelStride: 1 };
  const yPlane = strided(Y, w, h, w + pad, true);
  if (format === 'nv12' || format === 'nv21') {
    const uv = format === 'nv12' ? interleave(U, V) : interleave(V, U);
    return {
      planes: [yPlane, strided(uv, 2 * cw, ch, 2 * cw + pad, true)],
      layout: { format, ...base, planes: [y, { rowStride: 2 * cw + pad, pixelStride: 2 }] },
    };
  }
  if (format === 'i420') {
    const c = { rowStride: cw + pad, pixelStride: 1 };
    return { planes: [yPlane, strided(U, cw, ch, cw + pad, true), strided(V, cw, ch, cw + pad, true)], layout: { format, ...base, planes: [y, c, c] } };
  }
  assert.equal(format, 'yuv_420_888');
  // Android's ImageProxy for most cameras: U and V planes are views 1 byte apart into one
  // interleaved buffer (pixel stride 2), each ending right after its last sample.
  const both = strided(interleave(U, V), 2 * cw, ch, 2 * cw + pad, true);
  const c = { rowStride: 2 * cw + pad, pixelStride: 2 };
  return {
    planes: [yPlane, both.subarray(0, both.length - 1), both.subarray(1)],
    layout: { format: 'i420', ...base, planes: [y, c, c] },
  };
}

/** The image as RGBA `{data, width, height}` (an ImageData's shape). */
export function rgbaImage({ width, height, rgb }) {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) data.set([rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2], 255], 4 * i);
  return { data, width, height };
}
