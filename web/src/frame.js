// Picture sources → the core's camera frame: `{planes, layout}`, the planes' bytes and a
// `FrameLayout` in camelCase JSON (format, size, strides, rotation, mirror, colour, region).
//
// A WebCodecs `VideoFrame` in a format the core reads (NV12, I420, RGBA/RGBX, BGRA/BGRX) is
// copied out with `copyTo` as it is stored — the planes and the strides `copyTo` reports, its
// visible rectangle, rotation, flip and colour space — and converted in the core (no RGB
// conversion here). Everything else a canvas can draw (ImageBitmap, <video>, <canvas>,
// OffscreenCanvas, <img>, and VideoFrames in other formats) is drawn onto a 2D canvas and read
// back as RGBA. `ImageData` and raw `{planes, layout}` frames are passed as they are.

import { LedgeError } from './ledge_error.js';

const invalid = (message) => new LedgeError('InvalidArgument', message);

/** WebCodecs pixel formats the core reads directly: its format name and each plane's pixel
 * stride (I420A's fourth, alpha plane is left out; RGBX/BGRX's fourth byte is ignored). */
const VIDEO_FORMATS = {
  NV12: { format: 'nv12', pixelStrides: [1, 2] },
  I420: { format: 'i420', pixelStrides: [1, 1, 1] },
  I420A: { format: 'i420', pixelStrides: [1, 1, 1] },
  RGBA: { format: 'rgba', pixelStrides: [4] },
  RGBX: { format: 'rgba', pixelStrides: [4] },
  BGRA: { format: 'bgra', pixelStrides: [4] },
  BGRX: { format: 'bgra', pixelStrides: [4] },
};

/** Options of the frame calls that are about the frame, not the task. */
const FRAME_KEYS = new Set(['rotationDegrees', 'mirror', 'region', 'transfer']);

const SOURCES =
  'a VideoFrame, an ImageBitmap, an ImageData (or {data, width, height}), an HTMLVideoElement, ' +
  'an HTMLCanvasElement, an OffscreenCanvas, an HTMLImageElement, or a raw frame {planes, layout}';

export function describe(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return v.constructor?.name ?? 'object';
  return `a ${typeof v}`;
}

const isA = (v, name) => typeof globalThis[name] === 'function' && v instanceof globalThis[name];

/**
 * What kind of source `source` is: `"videoFrame"`, `"video"` (an HTMLVideoElement), `"drawable"`
 * (anything else a 2D canvas draws), `"imageData"` or `"raw"`. A LedgeError "InvalidArgument"
 * naming the accepted sources for anything else.
 */
export function sourceKind(source) {
  if (source !== null && typeof source === 'object') {
    if (isA(source, 'VideoFrame')) return 'videoFrame';
    if (isA(source, 'HTMLVideoElement')) return 'video';
    for (const name of ['ImageBitmap', 'HTMLCanvasElement', 'OffscreenCanvas', 'HTMLImageElement']) {
      if (isA(source, name)) return 'drawable';
    }
    if ('planes' in source || 'layout' in source) return 'raw';
    if ('data' in source && 'width' in source && 'height' in source) return 'imageData';
  }
  throw invalid(`a frame must be ${SOURCES}; got ${describe(source)}`);
}

/**
 * Splits the options of `classifyFrame` / `detectFrame` / `embedFrame` into the task's options
 * (what `classify` / `detect` take; none for embed) and the frame's `{rotationDegrees, mirror,
 * region}`, each checked.
 */
export function splitFrameOptions(options, task) {
  if (options === undefined || options === null) return [undefined, orientation({})];
  if (typeof options === 'number' && task === 'classify') return [options, orientation({})];
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw invalid(
      `${task}Frame options must be a plain object {rotationDegrees, mirror, region${
        task === 'embed' ? '' : `, …the ${task} options`
      }}${task === 'classify' ? ' or a number (maxResults)' : ''}, got ${describe(options)}`,
    );
  }
  const frame = {};
  const rest = {};
  for (const [key, value] of Object.entries(options)) (FRAME_KEYS.has(key) ? frame : rest)[key] = value;
  const extra = Object.keys(rest);
  if (task === 'embed' && extra.length) {
    throw invalid(`embedFrame options are {rotationDegrees, mirror, region}; unknown option(s): ${extra.join(', ')}`);
  }
  return [extra.length ? rest : undefined, orientation(frame)];
}

/** The frame options checked, with their defaults. */
function orientation({ rotationDegrees = 0, mirror = false, region = null }) {
  checkRotation(rotationDegrees, 'options.rotationDegrees');
  if (typeof mirror !== 'boolean') throw invalid(`options.mirror must be true or false, got ${describe(mirror)}`);
  if (region !== null && (typeof region !== 'object' || Array.isArray(region))) {
    throw invalid(`options.region must be {x, y, width, height} in pixels of the upright frame, or null; got ${describe(region)}`);
  }
  return { rotationDegrees, mirror, region };
}

function checkRotation(value, what) {
  if (![0, 90, 180, 270].includes(value)) {
    throw invalid(
      `${what} must be 0, 90, 180 or 270 (the clockwise turn, in degrees, that makes the frame upright), got ${
        typeof value === 'number' ? value : describe(value)
      }`,
    );
  }
}

/**
 * Turning by `first` then by `then` (each: rotate clockwise, then mirror left-right) as one
 * turn: a mirror reverses the direction of the rotations after it.
 */
function compose(first, then) {
  const turn = first.mirror ? 360 - then.rotationDegrees : then.rotationDegrees;
  return { rotationDegrees: (first.rotationDegrees + turn) % 360, mirror: first.mirror !== then.mirror };
}

function bytesOf(value, what) {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw invalid(`${what} must be a Uint8Array, an ArrayBuffer or a typed array view, got ${describe(value)}`);
}

/**
 * The core's frame `{planes, layout}` for any accepted source, turned by `orient` (from
 * `splitFrameOptions`) after the source's own orientation. Asynchronous because
 * `VideoFrame.copyTo` is. The caller keeps ownership of `source` (nothing is closed here).
 */
export async function frameFrom(source, orient) {
  switch (sourceKind(source)) {
    case 'raw':
      return rawFrame(source, orient);
    case 'imageData': {
      const { width, height } = source;
      for (const [name, v] of [['width', width], ['height', height]]) {
        if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw invalid(`image.${name} must be a whole number, got ${v}`);
      }
      return { planes: [bytesOf(source.data, 'image.data')], layout: { format: 'rgba', width, height, ...placed(orient) } };
    }
    case 'videoFrame':
      return videoFrame(source, orient);
    case 'video': {
      if (source.readyState < 2) {
        throw invalid(`the video has no frame to read yet (readyState ${source.readyState}): wait for its 'loadeddata' event`);
      }
      if (typeof VideoFrame !== 'function') return drawn(source, source.videoWidth, source.videoHeight, orient);
      const frame = new VideoFrame(source);
      try {
        return await videoFrame(frame, orient);
      } finally {
        frame.close();
      }
    }
    default: {
      const width = source.naturalWidth ?? source.width;
      const height = source.naturalHeight ?? source.height;
      return drawn(source, width, height, orient);
    }
  }
}

/** The layout fields that place the frame: rotation, mirror and region. */
function placed({ rotationDegrees, mirror, region }) {
  return { rotationDegrees, mirror, region };
}

function rawFrame({ planes, layout }, orient) {
  if (!Array.isArray(planes)) throw invalid(`frame.planes must be an array of the planes' bytes (Uint8Array), got ${describe(planes)}`);
  if (layout === null || typeof layout !== 'object' || Array.isArray(layout)) {
    throw invalid(`frame.layout must be a FrameLayout object {format, width, height, planes, …}, got ${describe(layout)}`);
  }
  const own = { rotationDegrees: layout.rotationDegrees ?? 0, mirror: layout.mirror ?? false };
  checkRotation(own.rotationDegrees, 'frame.layout.rotationDegrees');
  if (typeof own.mirror !== 'boolean') throw invalid(`frame.layout.mirror must be true or false, got ${describe(own.mirror)}`);
  return {
    planes: planes.map((p, i) => bytesOf(p, `frame.planes[${i}]`)),
    layout: { ...layout, ...compose(own, orient), region: orient.region ?? layout.region ?? null },
  };
}

/**
 * A VideoFrame's own orientation in the core's terms. WebCodecs mirrors first and then rotates
 * clockwise; the core rotates first, then mirrors: mirroring then turning by r is turning by
 * 360 − r, then mirroring.
 */
function ownOrientation(frame) {
  const rotation = frame.rotation ?? 0;
  const flip = frame.flip ?? false;
  return { rotationDegrees: flip ? (360 - rotation) % 360 : rotation, mirror: flip };
}

/** The core's colour matrix for a VideoColorSpace matrix, or null for one it does not have. */
function colorMatrixOf(matrix) {
  if (matrix === 'bt709') return 'bt709';
  if (matrix === null || matrix === undefined || matrix === 'bt470bg' || matrix === 'smpte170m') return 'bt601';
  return null;
}

async function videoFrame(frame, orient) {
  if (frame.format === null && frame.codedWidth === 0) {
    throw invalid('the VideoFrame is closed (close() was called, or it was transferred): pass an open frame');
  }
  const kind = VIDEO_FORMATS[frame.format];
  const space = frame.colorSpace ?? {};
  const matrix = colorMatrixOf(space.matrix);
  const rect = frame.visibleRect;
  const own = ownOrientation(frame);
  if (!kind || (kind.format !== 'rgba' && kind.format !== 'bgra' && matrix === null)) {
    // A format or colour space the core does not read: the browser draws it (turned as it
    // displays it) and the core gets RGBA.
    const [w, h] = own.rotationDegrees % 180 ? [rect.height, rect.width] : [rect.width, rect.height];
    return drawn(frame, w, h, orient);
  }
  const buffer = new Uint8Array(frame.allocationSize());
  const layouts = await frame.copyTo(buffer);
  const planes = kind.pixelStrides.map((_, i) => {
    const rows = i === 0 ? rect.height : Math.ceil(rect.height / 2);
    const { offset, stride } = layouts[i];
    return buffer.subarray(offset, Math.min(buffer.length, offset + stride * rows));
  });
  return {
    planes,
    layout: {
      format: kind.format,
      width: rect.width,
      height: rect.height,
      planes: kind.pixelStrides.map((pixelStride, i) => ({ rowStride: layouts[i].stride, pixelStride })),
      colorMatrix: matrix ?? 'bt601',
      // Video is studio range unless it says otherwise.
      colorRange: space.fullRange === true ? 'full' : 'video',
      ...placed({ ...compose(own, orient), region: orient.region }),
    },
  };
}

let scratch = null;

/** A 2D context `width × height` to draw into: one canvas, reused (an OffscreenCanvas when the
 * platform has one: workers have no DOM). */
function canvas2d(width, height) {
  if (scratch === null) {
    if (typeof OffscreenCanvas === 'function') scratch = new OffscreenCanvas(width, height);
    else if (typeof document !== 'undefined') scratch = document.createElement('canvas');
    else throw invalid('drawing this source needs a canvas (OffscreenCanvas or a document), and there is none here');
  }
  if (scratch.width !== width) scratch.width = width;
  if (scratch.height !== height) scratch.height = height;
  return scratch.getContext('2d', { willReadFrequently: true });
}

/** `source` drawn `width × height` and read back as RGBA. */
function drawn(source, width, height, orient) {
  if (!(width > 0 && height > 0)) throw invalid(`the ${describe(source)} has no pixels (${width}×${height}): wait until it has loaded`);
  const ctx = canvas2d(width, height);
  ctx.clearRect(0, 0, width, height);
  ctx.drawImage(source, 0, 0, width, height);
  const { data } = ctx.getImageData(0, 0, width, height);
  return { planes: [bytesOf(data, 'pixels')], layout: { format: 'rgba', width, height, ...placed(orient) } };
}
