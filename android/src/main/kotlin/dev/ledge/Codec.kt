package dev.ledge

import java.nio.ByteBuffer
import java.nio.ByteOrder
import kotlinx.serialization.json.Json

/**
 * The byte format of tensors and results crossing the JNI boundary (options cross as JSON); the mirror of
 * `bindings/jni/src/codec.rs`, which documents it. Little-endian; strings are a u32 length and UTF-8.
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

        fun bytes(): ByteArray = buf.array().copyOf(buf.position())
    }

    private class Reader(bytes: ByteArray) {
        val buf: ByteBuffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN)
        fun u8(): Int = buf.get().toInt() and 0xff
        fun flag(): Boolean = u8() != 0
        fun u32(): Int = buf.getInt()
        fun u64(): Long = buf.getLong()
        fun f32(): Float = buf.getFloat()
        fun f64(): Double = buf.getDouble()
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
    }

    /** Every field, defaults included, so the JSON is the whole of [LoadOptions]. */
    private val json = Json { encodeDefaults = true }

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

    fun predictions(bytes: ByteArray): List<Prediction> = Reader(bytes).run {
        list { Prediction(index = u32(), score = f32(), label = optString()) }
    }

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

    fun stats(bytes: ByteArray): Stats = Reader(bytes).run {
        Stats(
            runs = u64(), classifications = u64(), p50Ms = f64(), p95Ms = f64(), p99Ms = f64(),
            meanTop1Score = if (flag()) f64() else null,
        )
    }
}
