package dev.ledge

import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows
import java.nio.ByteBuffer
import java.util.Collections
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.Executors
import java.util.concurrent.RejectedExecutionException
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger

/** [LedgeLiveStream]: one frame in flight, drops, timestamps, release, stats, the flow, close, errors. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LiveStreamTest {
    private val classifier by lazy { load("efficientnet-lite0/model.onnx") }
    private val executor = Executors.newSingleThreadExecutor { Thread(it, "ledge-inference") }

    /** Two pictures as a phone's back camera stores them (YUV_420_888 with padded rows, 90°), and the upright top-1 of each. */
    private val scenes by lazy {
        listOf("chelsea", "coffee").map { name ->
            val rgb = Rgb.read("images/$name.png")
            val top1 = classifier.classifyRgba(rgb.rgba(), rgb.width, rgb.height, 1)[0].index
            rgb.stored(90).frame(PixelFormat.I420, 90, pad = 8, chromaPixelStride = 2) to top1
        }
    }

    /** Polls [done] every 5 ms for at most 2 minutes. */
    private fun waitFor(what: String, done: () -> Boolean) {
        val deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2)
        while (!done()) {
            if (System.nanoTime() - deadline > 0) throw AssertionError("still waiting for $what after 2 minutes")
            Thread.sleep(5)
        }
    }

    @AfterAll
    fun close() {
        executor.shutdown()
        classifier.close()
    }

    /**
     * A fake camera submits a frame every 2 ms for 1.5 s, much faster than the model runs: frames are dropped,
     * every result carries its own frame's timestamp and that frame's top-1, every frame is released exactly
     * once (a dropped one inside submit, a taken one before its result is delivered), and the counts add up.
     */
    @Test
    fun aFastCameraDropsFramesAndEveryResultIsItsOwnFrames() {
        val releases = ConcurrentHashMap<Long, AtomicInteger>()
        val sceneOf = ConcurrentHashMap<Long, Int>()
        val results = Collections.synchronizedList(mutableListOf<LiveResult<List<Prediction>>>())
        val problems = Collections.synchronizedList(mutableListOf<String>())
        val camera = Thread.currentThread()
        val stream = LedgeLiveStream.classify(classifier, executor, topK = 1) { result ->
            if (Thread.currentThread() === camera) problems += "result delivered on the camera's thread"
            if (releases[result.timestampNanos]?.get() != 1) problems += "frame ${result.timestampNanos} not released before its result"
            results += result
        }
        var submitted = 0L
        var taken = 0
        val start = System.nanoTime()
        while (System.nanoTime() - start < 1_500_000_000L) {
            val t = 1_000_000_000L + submitted * 33_333_333L // the camera's clock, not ours
            val scene = (submitted % 2).toInt()
            val (planes, layout) = scenes[scene].first
            releases[t] = AtomicInteger()
            sceneOf[t] = scene
            val accepted = stream.submit(CameraFrame(planes, layout, t) { releases.getValue(t).incrementAndGet() })
            if (accepted) taken++ else if (releases.getValue(t).get() != 1) problems += "dropped frame $t not released at once"
            submitted++
            Thread.sleep(2)
        }
        stream.close()
        assertTrue(stream.awaitTermination(2, TimeUnit.MINUTES))
        assertFalse(stream.submit(CameraFrame(scenes[0].first.first, scenes[0].first.second, -1) { releases[-1L] = AtomicInteger(1) }))
        submitted++

        val stats = stream.stats
        println("live stream: $stats over 1.5 s, ${results.size} results")
        assertEquals(emptyList<String>(), problems.toList())
        assertEquals(submitted, stats.submitted)
        assertEquals(stats.submitted, stats.processed + stats.dropped + stats.failed, "$stats")
        assertEquals(0L, stats.failed)
        assertEquals(taken.toLong(), stats.processed)
        assertTrue(stats.dropped > stats.processed, "a camera faster than the model: $stats")
        assertTrue(stats.processed >= 3, "$stats")
        assertTrue(stats.framesPerSecond > 0 && stats.framesPerSecond < 1000, "$stats")
        assertTrue(releases.values.all { it.get() == 1 }, "every frame released exactly once")
        assertEquals(stats.processed.toInt(), results.size)
        assertEquals(results.map { it.timestampNanos }.sorted(), results.map { it.timestampNanos }, "in order")
        for (r in results) {
            assertTrue(r is LiveResult.Success, "$r")
            val top1 = (r as LiveResult.Success).value[0].index
            assertEquals(scenes[sceneOf.getValue(r.timestampNanos)].second, top1, "frame ${r.timestampNanos}")
            assertTrue(r.latencyMillis > 0, "$r")
        }
        assertTrue(results.map { sceneOf.getValue(it.timestampNanos) }.toSet().size == 2 || results.size < 4, "both scenes were seen")
    }

    /** The same stream as a Flow, for detection (boxes in upright pixels), and embeddings through the listener. */
    @Test
    fun resultsFlowForDetectionAndEmbedding() {
        val cat = Rgb.read("images/chelsea.png")
        val (planes, layout) = cat.stored(270).frame(PixelFormat.I420, 270, pad = 4, chromaPixelStride = 2)
        load("ssd-mobilenetv2-oid/model.onnx").use { detector ->
            val expected = detector.detectRgba(cat.rgba(), cat.width, cat.height).single()
            val stream = LedgeLiveStream.detect(detector, executor, DetectOptions(scoreThreshold = 0.5f))
            val delivered = runBlocking {
                withTimeout(120_000) {
                    val collected = async(Dispatchers.Default, start = CoroutineStart.UNDISPATCHED) { stream.results.take(3).toList() }
                    for (t in 0L until 3) waitFor("frame $t taken") { stream.submit(CameraFrame(planes, layout, t)) }
                    collected.await()
                }
            }
            stream.close()
            assertTrue(stream.awaitTermination(1, TimeUnit.MINUTES))
            assertEquals(listOf(0L, 1L, 2L), delivered.map { it.timestampNanos })
            for (r in delivered) {
                val box = ((r as LiveResult.Success).value.single()).boundingBox
                assertTrue(iou(box, expected.boundingBox) >= 0.9f, "$box vs ${expected.boundingBox}")
            }
        }
        load("efficientnet-lite0-embed/model.onnx").use { embedder ->
            val expected = embedder.embedRgba(cat.rgba(), cat.width, cat.height)
            val got = Collections.synchronizedList(mutableListOf<LiveResult<Embedding>>())
            val stream = LedgeLiveStream.embed(embedder, executor) { got += it }
            assertTrue(stream.submit(CameraFrame(planes, layout, 5)))
            stream.close()
            assertTrue(stream.awaitTermination(1, TimeUnit.MINUTES))
            val r = got.single() as LiveResult.Success
            assertTrue(r.value.cosineSimilarity(expected) >= 0.98f && r.timestampNanos == 5L, "$r")
        }
    }

    /** A frame that cannot be processed is a Failure with its timestamp and typed error, and the stream goes on. */
    @Test
    fun errorsAreDeliveredNotThrown() {
        val (planes, layout) = scenes[0].first
        val results = Collections.synchronizedList(mutableListOf<LiveResult<List<Prediction>>>())
        val stream = LedgeLiveStream.classify(classifier, executor, topK = 1) { results += it }
        var released = 0
        assertTrue(stream.submit(CameraFrame(planes.dropLast(1) + ByteBuffer.allocateDirect(10), layout, 10) { released++ }))
        waitFor("the first result") { results.isNotEmpty() }
        // The next frame once the first is done (an attempt that still finds it in flight is dropped).
        waitFor("the second frame taken") { stream.submit(CameraFrame(planes, layout, 11)) }
        stream.close()
        assertTrue(stream.awaitTermination(1, TimeUnit.MINUTES))
        assertEquals(1, released)
        assertEquals(listOf(10L, 11L), results.map { it.timestampNanos })
        val failure = results[0] as LiveResult.Failure
        assertTrue(failure.error is LedgeException.InvalidArgument && "plane 2" in failure.error.message!!, "${failure.error}")
        assertEquals(scenes[0].second, (results[1] as LiveResult.Success).value[0].index)
        val stats = stream.stats
        assertEquals(1L to 1L, stats.processed to stats.failed, "$stats")
        assertEquals(2L + stats.dropped, stats.submitted, "$stats")

        // A model closed under the stream: IllegalStateException, delivered.
        val closed = load("efficientnet-lite0/model.onnx").also { it.close() }
        val late = Collections.synchronizedList(mutableListOf<LiveResult<List<Prediction>>>())
        val orphan = LedgeLiveStream.classify(closed, executor) { late += it }
        assertTrue(orphan.submit(CameraFrame(planes, layout, 12)))
        orphan.close()
        assertTrue(orphan.awaitTermination(1, TimeUnit.MINUTES))
        val error = (late.single() as LiveResult.Failure).error
        assertTrue(error is IllegalStateException && "closed" in error.message!!, "$error")

        // An executor that refuses work: the frame is released and counted, and the refusal is the app's to see.
        val stopped = Executors.newSingleThreadExecutor().also { it.shutdown() }
        val refused = LedgeLiveStream.classify(classifier, stopped)
        var freed = 0
        assertThrows<RejectedExecutionException> { refused.submit(CameraFrame(planes, layout, 13) { freed++ }) }
        assertEquals(1, freed)
        assertEquals(listOf(1L, 0L, 1L), refused.stats.let { listOf(it.submitted, it.processed, it.dropped) })
        refused.close()
        assertTrue(refused.awaitTermination(1, TimeUnit.SECONDS), "nothing left in flight")
    }

    @Test
    fun awaitTerminationWaitsForClose() {
        val stream = LedgeLiveStream.classify(classifier, executor)
        assertFalse(stream.awaitTermination(10, TimeUnit.MILLISECONDS), "open")
        assertEquals(LiveStreamStats(0, 0, 0, 0, 0.0), stream.stats)
        stream.close()
        stream.close()
        assertTrue(stream.isClosed)
        assertTrue(stream.awaitTermination(0, TimeUnit.MILLISECONDS))
    }
}
