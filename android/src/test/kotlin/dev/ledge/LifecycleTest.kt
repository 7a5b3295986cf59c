package dev.ledge

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.io.File
import java.nio.ByteBuffer
import java.util.concurrent.CountDownLatch
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger

/** Closing, use after close, sharing across threads, and native memory over many load/close cycles. */
class LifecycleTest {
    @Test
    fun useAfterCloseThrowsAndCloseIsIdempotent() {
        val model = load("ppocr-cls/model.onnx")
        val png = read("images/line0_0.png")
        assertEquals(0, model.classify(png, 1)[0].index)
        assertFalse(model.isClosed)
        model.close()
        model.close()
        assertTrue(model.isClosed)
        assertFails<IllegalStateException>("closed") { model.classify(png, 1) }
        assertFails<IllegalStateException>("closed") { model.classifyRgba(ByteBuffer.allocateDirect(16), 2, 2, 1) }
        assertFails<IllegalStateException>("closed") {
            model.classifyTensor(Tensor.f32(listOf(1, 3, 48, 192), FloatArray(3 * 48 * 192)))
        }
        assertFails<IllegalStateException>("closed") { model.run() }
        assertFails<IllegalStateException>("closed") { model.detect(png) }
        assertFails<IllegalStateException>("closed") { model.detectRgba(ByteBuffer.allocateDirect(16), 2, 2) }
        assertFails<IllegalStateException>("closed") { model.embed(png) }
        assertFails<IllegalStateException>("closed") { model.embedRgba(ByteBuffer.allocateDirect(16), 2, 2) }
        assertFails<IllegalStateException>("closed") { model.info }
        assertFails<IllegalStateException>("closed") { model.stats }
        assertEquals("LedgeModel(closed)", model.toString())
    }

    /** 8 threads share one model (the core's concurrency test through JNI): identical results. */
    @Test
    fun eightThreadsShareOneModel() {
        load("efficientnet-lite0/model.onnx").use { model ->
            val tensor = readNpy(read("vectors/tensors/efficientnet-lite0_chelsea.npy"))
            val image = read("images/chelsea.png")
            val reference = model.run(tensor)
            val referenceTop = model.classify(image, 5)
            val pool = Executors.newFixedThreadPool(8)
            try {
                val futures = (0 until 8).map {
                    pool.submit {
                        repeat(10) {
                            assertEquals(reference, model.run(tensor))
                            assertEquals(referenceTop, model.classify(image, 5))
                        }
                    }
                }
                futures.forEach { it.get(10, TimeUnit.MINUTES) }
            } finally {
                pool.shutdown()
            }
            val stats = model.stats
            assertEquals(2L + 8 * 10 * 2, stats.runs)
            assertEquals(1L + 8 * 10, stats.classifications)
            assertTrue(stats.p50Ms > 0 && stats.p50Ms <= stats.p99Ms)
        }
    }

    /** close() on one thread while others call: every call either succeeds or sees IllegalStateException. */
    @Test
    fun closeWhileOtherThreadsCall() {
        val model = load("ppocr-cls/model.onnx")
        val png = read("images/line0_0.png")
        val ok = AtomicInteger()
        val closed = AtomicInteger()
        val started = CountDownLatch(4)
        val threads = (0 until 4).map {
            Thread {
                started.countDown()
                while (true) {
                    try {
                        model.classify(png, 1)
                        ok.incrementAndGet()
                    } catch (e: IllegalStateException) {
                        closed.incrementAndGet()
                        break
                    }
                }
            }.apply { start() }
        }
        started.await()
        Thread.sleep(200)
        model.close()
        threads.forEach { it.join(60_000) }
        assertTrue(ok.get() > 0)
        assertEquals(4, closed.get())
    }

    /**
     * 500 load/close cycles of the small PP-OCR model, each with one classification: native memory
     * stays flat (a leaked model would cost megabytes per cycle, i.e. gigabytes in all; the 64 MB
     * limit catches any leak over 128 kB per cycle, 2,000 cycles caught 32 kB but took 111 s of every
     * test run; valgrind checks the core's native paths byte by byte). RSS is printed after the
     * warm-up, half-way and at the end. A longer campaign: -Dledge.memory.cycles=N.
     */
    @Test
    fun loadCloseLoopKeepsMemoryFlat() {
        val path = File(demo, "ppocr-cls/model.onnx").path
        val png = read("images/line0_0.png")
        val cycles = System.getProperty("ledge.memory.cycles")?.toIntOrNull() ?: 500
        fun cycle() = LedgeModel.fromFile(path).use { assertEquals(0, it.classify(png, 1)[0].index) }
        repeat(50) { cycle() }
        System.gc()
        val before = rssBytes()
        val started = System.nanoTime()
        repeat(cycles / 2) { cycle() }
        System.gc()
        val half = rssBytes()
        repeat(cycles - cycles / 2) { cycle() }
        val seconds = (System.nanoTime() - started) / 1e9
        System.gc()
        val after = rssBytes()
        val growth = after - before
        println(
            "load/close loop: $cycles cycles in ${"%.1f".format(seconds)} s (${"%.1f".format(seconds * 1e3 / cycles)} ms/cycle); " +
                "RSS after warm-up ${before / 1024} KiB, half-way ${half / 1024} KiB, end ${after / 1024} KiB; " +
                "growth ${growth / 1024} KiB (${growth / cycles} B/cycle)",
        )
        assertTrue(growth < 64L shl 20, "RSS grew by ${growth / 1024} KiB over $cycles cycles")
    }
}
