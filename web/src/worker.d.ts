// TypeScript declarations of @ledge/web/worker (hand-written; the API is src/worker.js).

import type {
  ClassifyOptions,
  DetectOptions,
  Detection,
  Embedding,
  FrameModel,
  FrameOptions,
  FrameSource,
  LoadOptions,
  ModelInfo,
  OutputTensor,
  Prediction,
  RgbaImage,
  Stats,
  Tensor,
} from './index.js';

export { Embedding, LedgeError, LiveStream } from './index.js';

/** Where a worker gets the WebAssembly module. */
export interface WorkerSettings {
  /** A URL of the `.wasm`, or a compiled `WebAssembly.Module` (one compilation shared by every
   * worker); default: the `.wasm` beside the package's files. */
  wasm?: string | URL | WebAssembly.Module;
}

type Bytes = Uint8Array | ArrayBuffer | ArrayBufferView;

/** A model loaded in its own Web Worker (a worker thread in Node): `Model`'s API with promises,
 * inference off the calling thread. `free()` ends the worker. Frames are handed over without
 * copying pixels (VideoFrames and ImageBitmaps transferred; `<video>`, canvases and images
 * become one first). */
export class WorkerModel implements FrameModel {
  private constructor();
  /** Starts a worker and loads the model at `url` there (fetched; a path or file: URL in Node). */
  static load(url: string | URL, options?: LoadOptions, settings?: WorkerSettings): Promise<WorkerModel>;
  /** Starts a worker and loads the model from ONNX bytes (copied to it). */
  static fromBytes(bytes: Bytes, options?: LoadOptions, settings?: WorkerSettings): Promise<WorkerModel>;
  classify(encoded: Bytes, options?: number | ClassifyOptions): Promise<Prediction[]>;
  classifyBatch(images: ReadonlyArray<Bytes>, options?: number | ClassifyOptions): Promise<Prediction[][]>;
  classifyImageData(image: RgbaImage, options?: number | ClassifyOptions): Promise<Prediction[]>;
  classifyFrame(source: FrameSource, options?: number | (ClassifyOptions & FrameOptions)): Promise<Prediction[]>;
  detect(encoded: Bytes, options?: DetectOptions): Promise<Detection[]>;
  detectImageData(image: RgbaImage, options?: DetectOptions): Promise<Detection[]>;
  detectFrame(source: FrameSource, options?: DetectOptions & FrameOptions): Promise<Detection[]>;
  /** An Embedding; its `cosineSimilarity` runs in the core, so it needs `init()` on this thread. */
  embed(encoded: Bytes): Promise<Embedding>;
  embedImageData(image: RgbaImage): Promise<Embedding>;
  embedFrame(source: FrameSource, options?: FrameOptions): Promise<Embedding>;
  classifyTensor(tensor: Tensor, options?: number | ClassifyOptions): Promise<Prediction[]>;
  run(inputs: Tensor | Tensor[]): Promise<OutputTensor[]>;
  info(): Promise<ModelInfo>;
  stats(): Promise<Stats>;
  /** Ends the worker; running calls reject and later ones throw, LedgeError kind "ModelFreed". */
  free(): void;
  /** True once freed (or the worker stopped). */
  readonly freed: boolean;
}
