package dev.ledge

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestFactory
import org.junit.jupiter.api.assertThrows

/**
 * The bridge itself, through the entry points of the `testing` feature: a panic in native code is a
 * LedgeException.Panic (the JVM survives and keeps working), and each core error kind arrives as its own
 * subclass with the core's message.
 */
class BridgeTest {
    companion object {
        @JvmStatic
        @BeforeAll
        fun loadLibrary() = NativeLibrary.ensureLoaded()

        /** Every variant of ledge::Error (16, declaration order), by ledge::Error::kind(), with a fragment of its message. */
        val kinds = mapOf(
            "ModelFormat" to "invalid model: sample model format",
            "UnsupportedOperator" to "unsupported operator QLinearAdd (node 'add_1') and 2 other unsupported node(s)",
            "InputCount" to "expected 1 input tensor(s), got 0",
            "InputShape" to "input 'x': expected shape [1, 3, 48, 192], got [1, 3, 48, 190]",
            "InputType" to "input 'x': expected dtype f32, got u8",
            "ImageDecode" to "cannot decode image: sample image decode",
            "Preprocess" to "cannot preprocess image: sample preprocess",
            "InvalidArgument" to "invalid argument: sample invalid argument",
            "Manifest" to "manifest: sample manifest",
            "TaskMismatch" to "this model cannot classify: sample task mismatch",
            "Integrity" to "manifest says sha256 ${"0".repeat(64)}, model has ${"f".repeat(64)}",
            "Signature" to "signature check failed (untrusted_key): sample signature",
            "Io" to "/sample/missing.onnx: sample io",
            "LimitExceeded" to "limit exceeded: max_image_pixels is 10, the maximum is 5",
            "Optimization" to "cannot prepare the model: sample optimization",
            "Inference" to "inference failed: sample inference",
        )
    }

    /** The core's fields arrive as typed properties, as in Python, Swift and JavaScript. */
    @Test
    fun exceptionsCarryTheCoresStructuredFields() {
        val limit = assertThrows<LedgeException.LimitExceeded> { Native.testError("LimitExceeded") }
        assertEquals(Triple("max_image_pixels", 10L, 5L), Triple(limit.limit, limit.value, limit.max))
        val shape = assertThrows<LedgeException.InputShape> { Native.testError("InputShape") }
        assertEquals("x", shape.input)
        assertEquals(listOf(1L, 3L, 48L, 192L), shape.expected)
        assertEquals(listOf(1L, 3L, 48L, 190L), shape.got)
        val op = assertThrows<LedgeException.UnsupportedOperator> { Native.testError("UnsupportedOperator") }
        assertEquals(Triple("QLinearAdd", "add_1", 2L), Triple(op.op, op.node, op.others))
        val task = assertThrows<LedgeException.TaskMismatch> { Native.testError("TaskMismatch") }
        assertEquals("classify" to "sample task mismatch", task.task to task.reason)
        assertEquals("/sample/missing.onnx", assertThrows<LedgeException.Io> { Native.testError("Io") }.path)
        val integrity = assertThrows<LedgeException.Integrity> { Native.testError("Integrity") }
        assertEquals("0".repeat(64) to "f".repeat(64), integrity.expected to integrity.actual)
        val signature = assertThrows<LedgeException.Signature> { Native.testError("Signature") }
        assertEquals("untrusted_key" to "sample signature", signature.problem to signature.detail)
    }

    /** A core option added to LoadOptions reaches the core from Kotlin through the derived JSON. */
    @Test
    fun everyLoadOptionReachesTheCore() {
        assertFails<LedgeException.InvalidArgument>("isa = \"sse9\"") {
            load("ppocr-cls/model.onnx", LoadOptions(isa = "sse9"))
        }
        load("ppocr-cls/model.onnx", LoadOptions(isa = "portable", ledgeKernels = true)).use {
            assertEquals(0, it.classify(read("images/line0_0.png"), 1)[0].index)
        }
    }

    /** Two threads split the convolutions' output channels; the scores are the same bits as one thread's. */
    @Test
    fun threadsGiveIdenticalScores() {
        val coffee = read("images/coffee.png")
        val one = load("efficientnet-lite0/model.onnx").use { it.classify(coffee, 5) }
        for (threads in listOf(2, 0)) {
            val many = load("efficientnet-lite0/model.onnx", LoadOptions(threads = threads)).use { it.classify(coffee, 5) }
            assertEquals(one.map { it.index to it.score }, many.map { it.index to it.score }, "threads = $threads")
        }
    }

    @Test
    fun aPanicBecomesAnExceptionAndTheJvmCarriesOn() {
        repeat(3) {
            assertFails<LedgeException.Panic>("panic in native code", "boom $it") { Native.testPanic("boom $it") }
        }
        load("ppocr-cls/model.onnx").use { assertEquals(0, it.classify(read("images/line0_0.png"), 1)[0].index) }
    }

    @TestFactory
    fun everyErrorKindHasItsExceptionClass(): List<DynamicTest> = kinds.map { (kind, message) ->
        DynamicTest.dynamicTest(kind) {
            val e = assertThrows<LedgeException> { Native.testError(kind) }
            assertTrue(e.message!!.contains(message), "'${e.message}' should mention '$message'")
            assertEquals(kind, e.kind)
            assertEquals("dev.ledge.LedgeException$$kind", e.javaClass.name)
        }
    }

    /** Every subclass is one of the core's 16 kinds, or `Panic`, in the core's declaration order. */
    @Test
    fun everySubclassIsCovered() {
        assertEquals(
            listOf(
                "ModelFormat", "UnsupportedOperator", "InputCount", "InputShape", "InputType", "ImageDecode", "Preprocess",
                "InvalidArgument", "Manifest", "TaskMismatch", "Integrity", "Signature", "Io", "LimitExceeded",
                "Optimization", "Inference",
            ),
            kinds.keys.toList(),
        )
        val subclasses = LedgeException::class.java.declaredClasses
            .filter { LedgeException::class.java.isAssignableFrom(it) }
            .map { it.simpleName }.toSet()
        assertEquals(kinds.keys + "Panic", subclasses)
    }

    @Test
    fun anUnknownKindIsAnIllegalStateException() {
        assertFails<IllegalStateException>("no error kind Nope") { Native.testError("Nope") }
    }

    /** A batch's images cross as one blob list; a malformed one is refused before any allocation it claims. */
    @Test
    fun malformedBatchDataIsRefused() {
        val handle = Native.loadFile(java.io.File(demo, "ppocr-cls/model.onnx").path, Codec.options(LoadOptions()))
        try {
            val line = read("images/line0_0.png")
            assertEquals(listOf(0), Codec.predictionLists(Native.classifyBatch(handle, Codec.blobs(listOf(line)), 1)).map { it[0].index })
            assertFails<LedgeException.InvalidArgument>("malformed bridge data: blob count") {
                Native.classifyBatch(handle, byteArrayOf(-1, -1, -1, 127), 1)
            }
            assertFails<LedgeException.InvalidArgument>("malformed bridge data: truncated") {
                Native.classifyBatch(handle, byteArrayOf(1, 0, 0, 0, 9, 0, 0, 0, 1), 1)
            }
            assertFails<LedgeException.InvalidArgument>("malformed bridge data: trailing bytes") {
                Native.classifyBatch(handle, Codec.blobs(listOf(line)) + 0, 1)
            }
        } finally {
            Native.free(handle)
        }
    }

    @Test
    fun tensorsRoundTripThroughTheCodec() {
        val tensors = listOf(
            Tensor.f32(listOf(2, 3), floatArrayOf(0f, -1.5f, 2f, Float.MAX_VALUE, Float.MIN_VALUE, -0f)),
            Tensor.i8(listOf(4), byteArrayOf(-128, -1, 0, 127)),
            Tensor.u8(listOf(1, 2), byteArrayOf(0, -1)),
            Tensor.i32(listOf(2), intArrayOf(Int.MIN_VALUE, Int.MAX_VALUE)),
            Tensor.i64(listOf(), longArrayOf(Long.MIN_VALUE)),
            Tensor.f32(listOf(0, 5), FloatArray(0)),
        )
        assertEquals(tensors, Codec.tensors(Native.testEcho(Codec.tensors(tensors))))
        assertFails<LedgeException.InvalidArgument>("malformed bridge data") { Native.testEcho(byteArrayOf(1, 0, 0, 0, 9)) }
        assertFails<LedgeException.InvalidArgument>("malformed bridge data: truncated") { Native.testEcho(byteArrayOf(1)) }
    }
}
