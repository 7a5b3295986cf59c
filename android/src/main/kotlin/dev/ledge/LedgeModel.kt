package dev.ledge

import java.io.File
import java.nio.ByteBuffer
import java.util.concurrent.locks.ReentrantReadWriteLock
import kotlin.concurrent.read
import kotlin.concurrent.write

/**
 * A loaded, optimized model. Thread-safe: load once, call from any number of threads. Holds native
 * memory until [close] (use `use { }`); every call after [close] throws [IllegalStateException], and
 * [close] is idempotent and waits for calls in flight on other threads.
 *
 * ```
 * LedgeModel.fromFile("efficientnet-lite0/model.onnx").use { model ->
 *     val top3 = model.classify(File("chelsea.png").readBytes(), topK = 3)
 *     println(top3.first().label)   // tiger cat
 * }
 * ```
 *
 * Failures are [LedgeException] subclasses, one per kind of problem, with the core's messages.
 */
class LedgeModel private constructor(private var handle: Long, private val cachedInfo: ModelInfo) : AutoCloseable {
    private val lock = ReentrantReadWriteLock()

    /** Runs [block] with the live handle under the read lock, so [close] cannot free it meanwhile. */
    private inline fun <T> withHandle(block: (Long) -> T): T = lock.read {
        val h = handle
        check(h != 0L) { "LedgeModel is closed" }
        block(h)
    }

    /** What Ledge knows about the model: inputs/outputs, size, sha256, operators, manifest, repairs. */
    val info: ModelInfo get() = withHandle { cachedInfo }

    /**
     * Usage statistics since load: runs, latency percentiles, mean top-1 score, errors by kind, cache hits
     * and misses, confidence and class histograms, mean entropy and drift against the manifest's baseline.
     */
    val stats: Stats get() = withHandle { Codec.stats(Native.stats(it)) }

    /** True once [close] has run. */
    val isClosed: Boolean get() = lock.read { handle == 0L }

    /**
     * Decodes an encoded image (JPEG, PNG, WebP, BMP or GIF), preprocesses it as the model's manifest says, runs the
     * model and returns the [topK] best classes, best first (capped at the class count).
     */
    fun classify(encoded: ByteArray, topK: Int = 5): List<Prediction> =
        withHandle { Codec.predictions(Native.classify(it, encoded, topK)) }

    /**
     * Classifies several encoded images in one run of the model: one list per image, in order, equal to
     * what [classify] returns for each. The model's plan for a batch size is built on its first use and kept
     * (a few sizes at most); the cache is not consulted. The first image that fails fails the call (its
     * [LedgeException], nothing for the others); an empty list gives an empty list.
     */
    fun classifyBatch(images: List<ByteArray>, topK: Int = 5): List<List<Prediction>> {
        val packed = Codec.blobs(images)
        return withHandle { Codec.predictionLists(Native.classifyBatch(it, packed, topK)) }
    }

    /**
     * Like [classify] for a tightly packed RGBA frame (camera, canvas): `width × height × 4` bytes
     * between the buffer's position and limit, copied once by the bridge (0.03 ms for 640×480) before
     * it is read. For camera frames with strides, YUV planes or a rotation, [classifyFrame] reads direct
     * buffers in place.
     */
    fun classifyRgba(pixels: ByteBuffer, width: Int, height: Int, topK: Int = 5): List<Prediction> {
        val view = frame(pixels)
        return withHandle { Codec.predictions(Native.classifyRgba(it, view, width, height, topK)) }
    }

    /** Classifies an already preprocessed input tensor (softmax for logits and labels as the manifest says). */
    fun classifyTensor(tensor: Tensor, topK: Int = 5): List<Prediction> {
        val encoded = Codec.tensors(listOf(tensor))
        return withHandle { Codec.predictions(Native.classifyTensor(it, encoded, topK)) }
    }

    /** Runs the model on raw tensors, one per input in order; count, shapes and dtypes are checked first. */
    fun run(inputs: List<Tensor>): List<Tensor> {
        val encoded = Codec.tensors(inputs)
        return withHandle { Codec.tensors(Native.run(it, encoded)) }
    }

    /** [run] with the inputs as arguments. */
    fun run(vararg inputs: Tensor): List<Tensor> = run(inputs.toList())

    /**
     * Decodes an encoded image (JPEG, PNG, WebP, BMP or GIF), preprocesses it as the model's manifest says, runs the
     * detector (a model whose manifest says `task = "detect"`) and returns what it finds, best first:
     * boxes and keypoints in pixels of the image (after its EXIF orientation), boxes clipped to it, at
     * most `maxResults`, after non-maximum suppression. Unset [options] take the manifest's values.
     * [LedgeException.TaskMismatch] for a model of another task, [LedgeException.InvalidArgument] for
     * options out of range.
     */
    fun detect(encoded: ByteArray, options: DetectOptions = DetectOptions()): List<Detection> {
        val json = Codec.options(options)
        return withHandle { Codec.detections(Native.detect(it, encoded, json)) }
    }

    /**
     * Like [detect] for a tightly packed RGBA frame (as [classifyRgba] reads it); boxes are in the
     * frame's pixels.
     */
    fun detectRgba(pixels: ByteBuffer, width: Int, height: Int, options: DetectOptions = DetectOptions()): List<Detection> {
        val view = frame(pixels)
        val json = Codec.options(options)
        return withHandle { Codec.detections(Native.detectRgba(it, view, width, height, json)) }
    }

    /**
     * Decodes an encoded image (JPEG, PNG, WebP, BMP or GIF), preprocesses it as the model's manifest says and returns
     * its embedding (a model whose manifest says `task = "embed"`); compare two with
     * [Embedding.cosineSimilarity]. [LedgeException.TaskMismatch] for a model of another task.
     */
    fun embed(encoded: ByteArray): Embedding = withHandle { Embedding(Native.embed(it, encoded)) }

    /** Like [embed] for a tightly packed RGBA frame (as [classifyRgba] reads it). */
    fun embedRgba(pixels: ByteBuffer, width: Int, height: Int): Embedding {
        val view = frame(pixels)
        return withHandle { Embedding(Native.embedRgba(it, view, width, height)) }
    }

    /**
     * Classifies a camera frame: its [planes] as [layout] describes them (format, stored size, strides),
     * turned upright by [FrameLayout.rotationDegrees] and [FrameLayout.mirror], cut to [FrameLayout.region],
     * and converted from YUV with its colour matrix and range, in one pass with the model's resize. Returns
     * the [topK] best classes, best first.
     *
     * Each plane is read from its position to its limit; the buffers' positions are not changed. A
     * **direct** buffer (what `Image.Plane.getBuffer()` and `ImageProxy.PlaneProxy.getBuffer()` return) is
     * read in place, without a copy; a heap buffer is copied once (so is a `ByteArray` wrapped with
     * `ByteBuffer.wrap`). Don't write the planes during the call, and don't pass the buffers of a closed
     * `Image`. Frames are not cached ([LoadOptions.cache]).
     *
     * [LedgeException.InvalidArgument] when the planes do not fit the layout (wrong plane count, a stride too
     * small for the width, a plane shorter than its strides say), for a rotation other than 0/90/180/270, or
     * a region outside the upright frame; each message names the plane and the bytes expected.
     * [LedgeException.LimitExceeded] over [Limits.maxImagePixels]; [LedgeException.TaskMismatch] for a model
     * of another task.
     */
    fun classifyFrame(planes: List<ByteBuffer>, layout: FrameLayout, topK: Int = 5): List<Prediction> {
        val views = planeViews(planes)
        val json = Codec.options(layout)
        return withHandle { Codec.predictions(Native.classifyFrame(it, views, json, topK)) }
    }

    /** [classifyFrame] for a [CameraFrame] (which stays open: close it, or let a [LedgeLiveStream] do it). */
    fun classifyFrame(frame: CameraFrame, topK: Int = 5): List<Prediction> = classifyFrame(open(frame).planes, frame.layout, topK)

    /**
     * Detects objects in a camera frame, read as [classifyFrame] reads it. Boxes and keypoints are in pixels
     * of the **upright** frame (after rotation and mirror; [FrameLayout.uprightWidth] ×
     * [FrameLayout.uprightHeight]), as the user sees it on screen, also when a region is set. Errors as
     * [classifyFrame] and [detect].
     */
    fun detectFrame(planes: List<ByteBuffer>, layout: FrameLayout, options: DetectOptions = DetectOptions()): List<Detection> {
        val views = planeViews(planes)
        val json = Codec.options(layout)
        val optionsJson = Codec.options(options)
        return withHandle { Codec.detections(Native.detectFrame(it, views, json, optionsJson)) }
    }

    /** [detectFrame] for a [CameraFrame] (which stays open). */
    fun detectFrame(frame: CameraFrame, options: DetectOptions = DetectOptions()): List<Detection> =
        detectFrame(open(frame).planes, frame.layout, options)

    /** The embedding of a camera frame, read as [classifyFrame] reads it. Errors as [classifyFrame] and [embed]. */
    fun embedFrame(planes: List<ByteBuffer>, layout: FrameLayout): Embedding {
        val views = planeViews(planes)
        val json = Codec.options(layout)
        return withHandle { Embedding(Native.embedFrame(it, views, json)) }
    }

    /** [embedFrame] for a [CameraFrame] (which stays open). */
    fun embedFrame(frame: CameraFrame): Embedding = embedFrame(open(frame).planes, frame.layout)

    /** Frees the native model. Idempotent; waits for calls in flight; later calls throw [IllegalStateException]. */
    override fun close() {
        lock.write {
            val h = handle
            handle = 0L
            if (h != 0L) Native.free(h)
        }
    }

    override fun toString(): String =
        if (isClosed) "LedgeModel(closed)" else "LedgeModel(${cachedInfo.manifest?.name ?: cachedInfo.sha256.take(12)})"

    companion object {
        /** Each plane as [frame] passes it: a slice of a direct buffer, a direct copy of a heap one. */
        private fun planeViews(planes: List<ByteBuffer>): Array<ByteBuffer> = Array(planes.size) { frame(planes[it]) }

        /** [frame] while it is open; its buffers may be freed once it is closed. */
        private fun open(frame: CameraFrame): CameraFrame {
            check(!frame.isClosed) { "the CameraFrame is closed: its planes may be freed (an Image's are); read it before close()" }
            return frame
        }

        /** The bytes from [pixels]' position to its limit as a direct buffer: a slice of it, or a copy of a heap buffer. */
        private fun frame(pixels: ByteBuffer): ByteBuffer = if (pixels.isDirect) {
            pixels.slice()
        } else {
            ByteBuffer.allocateDirect(pixels.remaining()).put(pixels.duplicate()).also { it.flip() }
        }

        /** Loads a model from its bytes (an embedded manifest is used; a sidecar cannot be found this way). */
        @JvmStatic
        @JvmOverloads
        fun fromBytes(bytes: ByteArray, options: LoadOptions = LoadOptions()): LedgeModel {
            NativeLibrary.ensureLoaded()
            return wrap(Native.loadBytes(bytes, Codec.options(options)))
        }

        /** Loads a model file; a sidecar manifest beside it (`model.onnx` → `model.toml`) is found. */
        @JvmStatic
        @JvmOverloads
        fun fromFile(path: String, options: LoadOptions = LoadOptions()): LedgeModel {
            NativeLibrary.ensureLoaded()
            return wrap(Native.loadFile(path, Codec.options(options)))
        }

        /** [fromFile] for a [File]. */
        @JvmStatic
        @JvmOverloads
        fun fromFile(file: File, options: LoadOptions = LoadOptions()): LedgeModel = fromFile(file.path, options)

        private fun wrap(handle: Long): LedgeModel {
            try {
                return LedgeModel(handle, Codec.info(Native.info(handle)))
            } catch (t: Throwable) {
                Native.free(handle)
                throw t
            }
        }
    }
}
