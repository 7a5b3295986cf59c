package dev.ledge

import java.nio.ByteBuffer
import java.nio.ByteOrder
import kotlinx.serialization.builtins.nullable
import kotlinx.serialization.json.Json

/**
 * The byte format of tensors and results crossing the JNI boundary; the mirror of
 * `bindings/jni/src/codec.rs`, which documents it. Little-endian; strings and blobs are a u32 length and
 * the bytes. Options cross as JSON read by the core's serde derives, and the core's plain-data reports
 * ([Stats], [ShadowReport]) as JSON written by them.
 */
internal object Codec {
    private class Writer(size: Int = 256) {
        var buf: ByteBuffer = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN)

        fun room(n: Int) {
            if (buf.remaining() < n) {
                val bigger = ByteBuffer.allocate(maxOf(buf.capacity() * 2, buf.position() + n)).order(ByteOrder.LITTLE_ENDIAN)
                buf.flip()
                bigger.put(buf)
                buf = bigger
            }
        }

        fun u8(v: Int) { room(1); buf.put(v.toByte()) }
        fun u32(v: Int) { room(4); buf.putInt(v) }
        fun u64(v: Long) { room(8); buf.putLong(v) }

        fun tensor(t: Tensor) {
            u8(t.dtype.ordinal)
            u32(t.shape.size)
            t.shape.forEach { u64(it) }
            when (val d = t.data) {
                is FloatArray -> { room(d.size * 4); buf.asFloatBuffer().put(d); buf.position(buf.position() + d.size * 4) }
                is ByteArray -> { room(d.size); buf.put(d) }
                is IntArray -> { room(d.size * 4); buf.asIntBuffer().put(d); buf.position(buf.position() + d.size * 4) }
                is LongArray -> { room(d.size * 8); buf.asLongBuffer().put(d); buf.position(buf.position() + d.size * 8) }
            }
        }

        /** The bytes written (the buffer's own array when it is exactly full, as a presized writer's is). */
        fun bytes(): ByteArray = if (buf.position() == buf.capacity()) buf.array() else buf.array().copyOf(buf.position())
    }

    private class Reader(bytes: ByteArray) {
        val buf: ByteBuffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN)
        fun u8(): Int = buf.get().toInt() and 0xff
        fun flag(): Boolean = u8() != 0
        fun u32(): Int = buf.getInt()
        fun u64(): Long = buf.getLong()
        fun f32(): Float = buf.getFloat()
        fun string(): String {
            val b = ByteArray(u32()); buf.get(b); return String(b, Charsets.UTF_8)
        }
        fun optString(): String? = if (flag()) string() else null
        fun strings(): List<String> = List(u32()) { string() }
        fun <T> list(item: () -> T): List<T> = List(u32()) { item() }

        fun tensor(): Tensor {
            val dtype = DType.entries[u8()]
            val shape = List(u32()) { u64() }
            val n = shape.fold(1L) { a, d -> a * d }.toInt()
            val data: Any = when (dtype) {
                DType.F32 -> FloatArray(n).also { buf.asFloatBuffer().get(it); buf.position(buf.position() + 4 * n) }
                DType.I8, DType.U8 -> ByteArray(n).also { buf.get(it) }
                DType.I32 -> IntArray(n).also { buf.asIntBuffer().get(it); buf.position(buf.position() + 4 * n) }
                DType.I64 -> LongArray(n).also { buf.asLongBuffer().get(it); buf.position(buf.position() + 8 * n) }
            }
            return Tensor.trusted(dtype, shape, data)
        }

        fun spec() = TensorSpec(string(), List(u32()) { u64() }, DType.entries[u8()])

        fun predictions(): List<Prediction> = list { Prediction(index = u32(), score = f32(), label = optString()) }
    }

    /** Every field, defaults included, so the JSON is the whole of [LoadOptions]. */
    private val json = Json { encodeDefaults = true }

    /** Reads the core's serde JSON: every field required, an unknown one refused (a core change shows at once). */
    private val reports = Json

    /**
     * The policy as the JSON the core's `ShadowPolicy` reads (UTF-8, camelCase). A NaN or infinite value (JSON
     * has none) cannot cross: it is refused here with the message the core gives for any value out of range.
     */
    fun options(p: ShadowPolicy): ByteArray {
        if (!(p.sampleRate.isFinite() && p.minAgreement.isFinite() && p.maxLatencyRatio.isFinite())) {
            throw LedgeException.InvalidArgument(
                "invalid argument: a shadow policy needs sample_rate in (0, 1], min_agreement in [0, 1] and " +
                    "max_latency_ratio > 0, got $p",
            )
        }
        return json.encodeToString(ShadowPolicy.serializer(), p).encodeToByteArray()
    }

    /** Encoded images as one blob list (a u32 count, then each image's u32 length and bytes). */
    fun blobs(items: List<ByteArray>): ByteArray {
        val size = items.fold(4L) { total, it -> total + 4 + it.size }
        if (size > Int.MAX_VALUE - 8) {
            throw LedgeException.InvalidArgument(
                "invalid argument: a batch of ${items.size} images is $size bytes, more than one JVM array holds (2 GiB)",
            )
        }
        return Writer(size.toInt()).run {
            u32(items.size)
            for (item in items) {
                u32(item.size)
                room(item.size)
                buf.put(item)
            }
            bytes()
        }
    }

    /** The options as the JSON the core's `LoadOptions::from_json` reads (UTF-8). */
    fun options(o: LoadOptions): ByteArray = json.encodeToString(LoadOptions.serializer(), o).encodeToByteArray()

    /**
     * The options as the JSON the core's `DetectOptions` reads (UTF-8, camelCase). A negative `maxResults`
     * (the core's is unsigned) and a NaN or infinite threshold (JSON has none) cannot cross: they are refused
     * here with the message the core gives for any value out of range.
     */
    fun options(o: DetectOptions): ByteArray {
        o.maxResults?.let { if (it < 0) throw LedgeException.InvalidArgument("invalid argument: max_results must be at least 1, got $it") }
        for ((name, v) in listOf("score_threshold" to o.scoreThreshold, "iou_threshold" to o.iouThreshold)) {
            if (v != null && !v.isFinite()) throw LedgeException.InvalidArgument("invalid argument: $name must be in [0, 1], got $v")
        }
        return json.encodeToString(DetectOptions.serializer(), o).encodeToByteArray()
    }

    /**
     * The layout as the JSON the core's `FrameLayout` reads (UTF-8, camelCase, the shared frame vectors'
     * form). Values the core's unsigned fields cannot hold, and a region JSON cannot write (NaN, infinite),
     * are refused here with the message the core gives for a value out of range, in Kotlin's names.
     */
    fun options(l: FrameLayout): ByteArray {
        fun bad(message: String): Nothing = throw LedgeException.InvalidArgument("invalid argument: $message")
        if (l.width < 0 || l.height < 0) bad("a frame's width and height must be ≥ 0, got ${l.width}×${l.height}")
        if (l.rotationDegrees < 0) {
            bad(
                "rotationDegrees must be 0, 90, 180 or 270 (the clockwise turn that makes the frame upright, as " +
                    "Android's getRotationDegrees() says), got ${l.rotationDegrees}",
            )
        }
        l.planes.forEachIndexed { p, plane ->
            if (plane.rowStride < 0 || plane.pixelStride < 0) {
                bad("plane $p has a negative stride (rowStride ${plane.rowStride}, pixelStride ${plane.pixelStride}): pass the strides the camera reports")
            }
        }
        l.region?.let { r ->
            if (!(r.x.isFinite() && r.y.isFinite() && r.width.isFinite() && r.height.isFinite())) {
                bad("the region $r must be at least 1×1 and lie inside the upright ${l.uprightWidth}×${l.uprightHeight} frame: clip it to the frame")
            }
        }
        return json.encodeToString(FrameLayout.serializer(), l).encodeToByteArray()
    }

    fun tensors(tensors: List<Tensor>): ByteArray {
        val size = 4 + tensors.sumOf { 5 + 8 * it.shape.size + it.size * when (it.dtype) {
            DType.F32, DType.I32 -> 4
            DType.I8, DType.U8 -> 1
            DType.I64 -> 8
        } }
        return Writer(size).run {
            u32(tensors.size)
            tensors.forEach { tensor(it) }
            bytes()
        }
    }

    fun tensors(bytes: ByteArray): List<Tensor> = Reader(bytes).run { list { tensor() } }

    fun predictions(bytes: ByteArray): List<Prediction> = Reader(bytes).run { predictions() }

    fun predictionLists(bytes: ByteArray): List<List<Prediction>> = Reader(bytes).run { list { predictions() } }

    fun served(bytes: ByteArray): Served = Reader(bytes).run { Served(version = string(), predictions = predictions()) }

    fun versions(bytes: ByteArray): ModelVersions = Reader(bytes).run {
        ModelVersions(installed = strings(), active = optString(), previous = optString())
    }

    fun shadowReport(bytes: ByteArray): ShadowReport? =
        reports.decodeFromString(ShadowReport.serializer().nullable, bytes.decodeToString())

    fun detections(bytes: ByteArray): List<Detection> = Reader(bytes).run {
        list {
            Detection(
                index = u32(), score = f32(), label = optString(),
                boundingBox = BoundingBox(x = f32(), y = f32(), width = f32(), height = f32()),
                keypoints = list { Point(x = f32(), y = f32()) },
            )
        }
    }

    fun info(bytes: ByteArray): ModelInfo = Reader(bytes).run {
        val inputs = list { spec() }
        val outputs = list { spec() }
        val fileSize = u64()
        val sha256 = string()
        val ops = LinkedHashMap<String, Long>()
        repeat(u32()) { ops[string()] = u64() }
        val parameters = u64()
        val macs = u64()
        val quantizedMacs = u64()
        val computeNodes = u64()
        val quantizedComputeNodes = u64()
        val manifest = if (flag()) {
            ManifestInfo(
                name = string(), version = string(), description = optString(),
                labels = strings(), source = string(), toml = string(),
            )
        } else {
            null
        }
        ModelInfo(
            inputs, outputs, fileSize, sha256, ops, parameters, macs, quantizedMacs, computeNodes,
            quantizedComputeNodes, manifest, repairs = strings(),
        )
    }

    fun stats(bytes: ByteArray): Stats = reports.decodeFromString(Stats.serializer(), bytes.decodeToString())
}
