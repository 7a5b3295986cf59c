package dev.ledge

import kotlinx.serialization.SerialName
import kotlinx.serialization.Serializable
import java.util.Locale

/** One class of a classification: its index in the model's output, its label if the manifest has labels, and its probability. */
data class Prediction(val index: Int, val label: String?, val score: Float)

/**
 * What [LedgeModel.detect] returns (the core's `DetectOptions`); every null field takes the value of the
 * manifest's `[detect]` section. Crosses to the core as JSON written by kotlinx.serialization; the core
 * checks the ranges ([LedgeException.InvalidArgument] outside them).
 */
@Serializable
data class DetectOptions(
    /** At most this many detections, best first (≥ 1). */
    val maxResults: Int? = null,
    /** Only detections scoring at least this, in [0, 1]. */
    val scoreThreshold: Float? = null,
    /** Non-maximum suppression (NMS) drops a box whose intersection over union (IoU) with a better one is above this, in [0, 1]. */
    val iouThreshold: Float? = null,
    /** When not empty, only classes whose label (or index, as text) is listed. */
    val allowlist: List<String> = emptyList(),
    /** Classes whose label (or index, as text) is listed are left out. */
    val denylist: List<String> = emptyList(),
)

/**
 * An axis-aligned box in pixels of the image given (after its EXIF orientation; a camera frame's upright
 * pixels), clipped to the image; also a [FrameLayout.region].
 */
@Serializable
data class BoundingBox(
    /** Left edge, pixels from the image's left. */
    val x: Float,
    /** Top edge, pixels from the image's top. */
    val y: Float,
    /** Width in pixels (> 0). */
    val width: Float,
    /** Height in pixels (> 0). */
    val height: Float,
)

/** A point in pixels of the image given, from its top-left corner (like Android's `PointF`). */
data class Point(val x: Float, val y: Float)

/** One detected object, as [LedgeModel.detect] returns it. */
data class Detection(
    /** Class index in the model's scores output. */
    val index: Int,
    /** Class label from the manifest, when it has labels. */
    val label: String?,
    /** Score in [0, 1]. */
    val score: Float,
    /** Where the object is, in image pixels. */
    val boundingBox: BoundingBox,
    /** Keypoints in image pixels, in the model's order (e.g. BlazeFace: eyes, nose, mouth, ears); not clipped, often empty. */
    val keypoints: List<Point>,
)

/**
 * An image's feature vector, as [LedgeModel.embed] returns it: unit length unless the manifest says
 * `l2_normalize = false`. Compare two with [cosineSimilarity]. Equality is by content.
 */
class Embedding(
    /** The values (e.g. 1280 for EfficientNet-Lite0). */
    val values: FloatArray,
) {
    /** Number of values. */
    val size: Int get() = values.size

    /**
     * Cosine similarity with [other], in [−1, 1]: 1 for the same direction, about 0 for unrelated
     * images (the core's `ledge::cosine_similarity`, computed in double precision; one JNI call,
     * 2.3 µs for 1280 values). [LedgeException.InvalidArgument] when the sizes differ
     * (embeddings of different models) or a vector is all zeros or not finite.
     */
    fun cosineSimilarity(other: Embedding): Float {
        NativeLibrary.ensureLoaded()
        return Native.cosineSimilarity(values, other.values)
    }

    override fun equals(other: Any?): Boolean = other is Embedding && values.contentEquals(other.values)

    override fun hashCode(): Int = values.contentHashCode()

    override fun toString(): String =
        "Embedding(size=$size, values=[${values.take(3).joinToString { "%.4f".format(Locale.ROOT, it) }}${if (size > 3) ", …" else ""}])"
}

/** Element type of a [Tensor] or a model input/output. */
enum class DType { F32, I8, U8, I32, I64 }

/** Name, shape (−1 for a dimension only known at run time) and element type of a model input or output. */
data class TensorSpec(val name: String, val shape: List<Long>, val dtype: DType)

/** What Ledge knows about a loaded model (the core's `ModelInfo`). */
data class ModelInfo(
    /** Inputs, with their pinned shapes. */
    val inputs: List<TensorSpec>,
    /** Outputs. */
    val outputs: List<TensorSpec>,
    /** Size of the model bytes. */
    val fileSize: Long,
    /** sha256 of the model bytes, lower-case hex. */
    val sha256: String,
    /** ONNX operator type → node count. */
    val opHistogram: Map<String, Long>,
    /** Number of weight elements. */
    val parameters: Long,
    /** Multiply-accumulates per run (engine estimate). */
    val macs: Long,
    /** MACs on quantized operands. */
    val quantizedMacs: Long,
    /** Convolution/matrix-product nodes. */
    val computeNodes: Long,
    /** How many of [computeNodes] are quantized. */
    val quantizedComputeNodes: Long,
    /** The manifest, if the model has one. */
    val manifest: ManifestInfo?,
    /** Graph repairs applied at load. */
    val repairs: List<String>,
) {
    /** Share of the MACs on quantized operands, in [0, 1]. */
    val quantizedMacFraction: Double get() = if (macs == 0L) 0.0 else quantizedMacs.toDouble() / macs
}

/** The parts of a model manifest an app usually needs; [toml] has all of it. */
data class ManifestInfo(
    val name: String,
    val version: String,
    val description: String?,
    /** Class labels, by output index (empty when the manifest has none). */
    val labels: List<String>,
    /** Where it came from: `"options"`, `"sidecar"` or `"embedded"`. */
    val source: String,
    /** The whole manifest as TOML. */
    val toml: String,
)

/**
 * A snapshot of a model's usage since it was loaded: the numbers to watch in production (the core's
 * `Stats`). Only these aggregates are kept, never inputs. `@Serializable` as the core writes it
 * (snake_case), so an app can forward it to its own telemetry as is.
 */
@Serializable
data class Stats(
    /** Successful calls (`run`, every `classify*`, `detect*` and `embed*`; each image of a batch counts once). */
    val runs: Long,
    /** Successful classifications (each image of a batch counts once). */
    val classifications: Long,
    /** Median latency over the last 1024 calls, milliseconds (0 before any call). */
    @SerialName("p50_ms") val p50Ms: Double,
    /** 95th percentile latency, milliseconds. */
    @SerialName("p95_ms") val p95Ms: Double,
    /** 99th percentile latency, milliseconds. */
    @SerialName("p99_ms") val p99Ms: Double,
    /** Mean top-1 score over all classifications; null before the first. A falling mean means inputs drift. */
    @SerialName("mean_top1_score") val meanTop1Score: Double?,
    /** Failed calls by error kind ([LedgeException.kind]: `"ImageDecode"`, `"InvalidArgument"`, …). */
    val errors: Map<String, Long>,
    /** Results served from the prediction cache ([LoadOptions.cache]; 0 without one). */
    @SerialName("cache_hits") val cacheHits: Long,
    /** Results the cache did not hold, computed and stored. */
    @SerialName("cache_misses") val cacheMisses: Long,
    /** Top-1 confidence of classifications (best score of detections) in 10 bins of 0.1: `[0, 0.1)`, …, `[0.9, 1]`. */
    @SerialName("confidence_histogram") val confidenceHistogram: List<Long>,
    /** How often each class index was the top-1 (for detections: the best detection's class). */
    @SerialName("class_histogram") val classHistogram: Map<Int, Long>,
    /** Mean entropy of the classifications' probabilities, normalized to [0, 1] (null before the first): near 1 the model is guessing. */
    @SerialName("mean_entropy") val meanEntropy: Double?,
    /** Drift against the manifest's `[baseline]` (`ledge pack --baseline`); null when it has none. */
    val drift: Drift?,
)

/**
 * How far live predictions are from the model's pack-time baseline: the population stability index (PSI)
 * of the confidence and the class histograms. Rules of thumb: < 0.1 no shift, 0.1–0.25 moderate, > 0.25
 * significant.
 */
@Serializable
data class Drift(
    /** PSI of the top-1 confidence histogram. */
    @SerialName("confidence_psi") val confidencePsi: Double,
    /** PSI of the top-1 class histogram. */
    @SerialName("class_psi") val classPsi: Double,
    /** The larger of the two. */
    val score: Double,
    /** The baseline's threshold (default 0.25). */
    val threshold: Double,
    /** `score > threshold` over at least 20 predictions. */
    val drifted: Boolean,
    /** Predictions the live histograms hold. */
    val samples: Long,
)

/**
 * Size limits protecting the app from hostile inputs; exceeding one is [LedgeException.LimitExceeded].
 * Serialized (kotlinx.serialization) as the JSON the core's `Limits` reads: no hand-written codec.
 */
@Serializable
data class Limits(
    /** Largest model accepted, bytes (default 512 MiB). */
    val maxModelBytes: Long = 512L shl 20,
    /** Largest image accepted, pixels, checked from the header before decoding (default 2^26). */
    val maxImagePixels: Long = 1L shl 26,
    /** Largest tensor accepted by [LedgeModel.run], elements (default 2^26). */
    val maxTensorElements: Long = 1L shl 26,
    /** Largest total of tensors the model's graph may plan, bytes, checked at load (default 1 GiB). */
    val maxPlanBytes: Long = 1L shl 30,
)

/**
 * How to load a model (the core's `LoadOptions`). It crosses to the core as JSON written by
 * kotlinx.serialization and read by the core's serde derive, so a core option is one property here
 * and no conversion code.
 */
@Serializable
data class LoadOptions(
    /** Batch size pinned into a symbolic first dimension. */
    val batch: Int = 1,
    /** Explicit shapes for every input (needed when a model has symbolic dimensions besides the batch). */
    val inputShapes: List<List<Long>>? = null,
    /** A manifest as TOML text, overriding the sidecar and the embedded one (labels inline: `labels = [...]`). */
    @SerialName("manifest") val manifestToml: String? = null,
    /** A manifest file, overriding the sidecar and the embedded one (`labels_file` is relative to it). */
    val manifestPath: String? = null,
    /** Verify the manifest's sha256 against the model bytes. */
    val verifyIntegrity: Boolean = true,
    /** Resource limits. */
    val limits: Limits = Limits(),
    /** Class labels replacing the manifest's (e.g. for a `labels_file` that is not on the device). */
    val labels: List<String>? = null,
    /** Use Ledge's int8 and depthwise kernels (false: tract's own, for comparison). */
    val ledgeKernels: Boolean = true,
    /** Turn encoded photos as their EXIF Orientation tag says, as viewers show them (false: the pixels as stored). */
    val applyExifOrientation: Boolean = true,
    /** Force the int8 kernels' instruction set by name (`portable`, `neon`, `neon-dot`, `avx2`, …); null or `auto`: the best this CPU runs. */
    val isa: String? = null,
    /**
     * Threads one run uses for its convolutions and matrix products (default 1; 0 = one per CPU core).
     * Outputs are identical whatever the count; models loaded with the same count share one pool.
     */
    val threads: Int = 1,
    /**
     * Ed25519 public keys, 64 hex digits each (as `ledge keygen` writes `ledge.pub`). When not empty, only a
     * model signed by one of them loads (`ledge pack --sign`): an unsigned, changed or foreign-signed one is
     * [LedgeException.Signature], and a manifest from these options or a sidecar is refused (the signature
     * does not cover it).
     */
    val trustedKeys: List<String> = emptyList(),
    /** An opt-in cache of results (see [CacheOptions]); null (the default) caches nothing. */
    val cache: CacheOptions? = null,
)

/**
 * Bounds of the prediction cache: a least-recently-used map from (task, options, input bytes) to the
 * result, per loaded model. A hit returns exactly what the call would compute ([Stats.cacheHits] counts
 * them); `run`, `classifyTensor` and batches bypass it.
 */
@Serializable
data class CacheOptions(
    /** At most this many results (default 256). */
    val maxEntries: Int = 256,
    /** At most this many bytes of results, estimated (default 4 MiB). */
    val maxBytes: Long = 4L shl 20,
)

/** A result of [LedgeModelStore.classify] and the version that computed it. */
data class Served(
    /** The version that computed [predictions] (the active one when the call started). */
    val version: String,
    /** Its predictions, best first. */
    val predictions: List<Prediction>,
)

/** The versions of one name in a [LedgeModelStore]. */
data class ModelVersions(
    /** Every installed version, in installation order. */
    val installed: List<String>,
    /** The version serving [LedgeModelStore.classify]; null before the first [LedgeModelStore.activate]. */
    val active: String?,
    /** The version [LedgeModelStore.rollback] returns to (kept loaded); null when there is none. */
    val previous: String?,
)

/**
 * When a candidate version shadows the active one and what promotes or rejects it
 * ([LedgeModelStore.setCandidate]; the core's `ShadowPolicy`). Crosses to the core as JSON; the core
 * checks the ranges ([LedgeException.InvalidArgument] outside them).
 */
@Serializable
data class ShadowPolicy(
    /** Share of live calls the candidate also runs on, in (0, 1] (default 0.1; deterministic, not random). */
    val sampleRate: Double = 0.1,
    /** Samples needed before a decision (≥ 0, default 50). */
    val minSamples: Long = 50,
    /** Top-1 agreement with the active version needed to promote, in [0, 1] (default 0.95). */
    val minAgreement: Double = 0.95,
    /** Highest candidate p95 / active p95 latency ratio that promotes (> 0, default 1.2). */
    val maxLatencyRatio: Double = 1.2,
    /**
     * Promote (activate) or reject the candidate once [minSamples] are in (default true); false leaves the
     * decision to the app ([LedgeModelStore.shadowReport], then [LedgeModelStore.activate]).
     */
    val autoDecide: Boolean = true,
    /**
     * Run the candidate on a background thread (default false): a sampled call returns as soon as the active
     * version's result is ready; a promotion decided there takes effect at the next call.
     */
    val background: Boolean = false,
)

/** How a candidate compares with the active version so far ([LedgeModelStore.shadowReport]; the core's `ShadowReport`). */
@Serializable
data class ShadowReport(
    /** The candidate version. */
    val candidate: String,
    /** The active version it was compared with. */
    val active: String,
    /** Inputs both ran on. */
    val samples: Long,
    /** Share of samples with the same top-1 class, in [0, 1]. */
    val agreement: Double,
    /** Mean |candidate score − active score| of the active version's top-1 class. */
    @SerialName("mean_abs_score_delta") val meanAbsScoreDelta: Double,
    /** Candidate p95 latency / active p95 latency on the samples. */
    @SerialName("latency_ratio") val latencyRatio: Double,
    /**
     * `pending`, `promoted` or `rejected`; with [ShadowPolicy.background], `promoting` once a background run
     * decided to promote (the candidate becomes active at the next call).
     */
    val decision: String,
)

/**
 * A dense row-major tensor for [LedgeModel.run] and [LedgeModel.classifyTensor]. Build one with [f32],
 * [i8], [u8], [i32] or [i64]; read it back with [floats], [bytes], [ints] or [longs]. Equality is by
 * dtype, shape and contents.
 */
class Tensor private constructor(
    /** Element type. */
    val dtype: DType,
    /** Dimensions. */
    val shape: List<Long>,
    internal val data: Any,
) {
    /** Number of elements (product of [shape]). */
    val size: Int get() = when (data) {
        is FloatArray -> data.size
        is ByteArray -> data.size
        is IntArray -> data.size
        is LongArray -> data.size
        else -> 0
    }

    /** The elements of an F32 tensor. */
    fun floats(): FloatArray = data as? FloatArray ?: throw IllegalStateException("tensor is $dtype, not F32")

    /** The elements of an I8 or U8 tensor (U8 values are the bytes' unsigned reading). */
    fun bytes(): ByteArray = data as? ByteArray ?: throw IllegalStateException("tensor is $dtype, not I8/U8")

    /** The elements of an I32 tensor. */
    fun ints(): IntArray = data as? IntArray ?: throw IllegalStateException("tensor is $dtype, not I32")

    /** The elements of an I64 tensor. */
    fun longs(): LongArray = data as? LongArray ?: throw IllegalStateException("tensor is $dtype, not I64")

    override fun equals(other: Any?): Boolean =
        other is Tensor && other.dtype == dtype && other.shape == shape && when (data) {
            is FloatArray -> data.contentEquals(other.data as? FloatArray)
            is ByteArray -> data.contentEquals(other.data as? ByteArray)
            is IntArray -> data.contentEquals(other.data as? IntArray)
            is LongArray -> data.contentEquals(other.data as? LongArray)
            else -> false
        }

    override fun hashCode(): Int = 31 * (31 * dtype.hashCode() + shape.hashCode()) + when (data) {
        is FloatArray -> data.contentHashCode()
        is ByteArray -> data.contentHashCode()
        is IntArray -> data.contentHashCode()
        is LongArray -> data.contentHashCode()
        else -> 0
    }

    override fun toString(): String = "Tensor($dtype, shape=$shape)"

    companion object {
        private fun make(dtype: DType, shape: List<Long>, data: Any, size: Int): Tensor {
            var expected = 1L
            for (d in shape) {
                if (d < 0) throw LedgeException.InvalidArgument("tensor shape $shape has a negative dimension")
                expected = if (d == 0L || expected <= Int.MAX_VALUE / d) expected * d else Long.MAX_VALUE
            }
            if (expected != size.toLong()) {
                throw LedgeException.InvalidArgument("tensor of shape $shape needs $expected elements, got $size")
            }
            return Tensor(dtype, shape.toList(), data)
        }

        /** A 32-bit float tensor; [LedgeException.InvalidArgument] if `data.size` is not the product of [shape]. */
        @JvmStatic fun f32(shape: List<Long>, data: FloatArray): Tensor = make(DType.F32, shape, data, data.size)

        /** A signed 8-bit tensor. */
        @JvmStatic fun i8(shape: List<Long>, data: ByteArray): Tensor = make(DType.I8, shape, data, data.size)

        /** An unsigned 8-bit tensor (bytes read as 0..255). */
        @JvmStatic fun u8(shape: List<Long>, data: ByteArray): Tensor = make(DType.U8, shape, data, data.size)

        /** A 32-bit integer tensor. */
        @JvmStatic fun i32(shape: List<Long>, data: IntArray): Tensor = make(DType.I32, shape, data, data.size)

        /** A 64-bit integer tensor. */
        @JvmStatic fun i64(shape: List<Long>, data: LongArray): Tensor = make(DType.I64, shape, data, data.size)

        internal fun trusted(dtype: DType, shape: List<Long>, data: Any): Tensor = Tensor(dtype, shape, data)
    }
}
