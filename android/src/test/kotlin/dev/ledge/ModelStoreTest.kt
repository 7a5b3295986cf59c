package dev.ledge

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.io.File
import java.util.Collections
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicLong

/** [LedgeModelStore]: versions on disk and in memory, hot swap under load, rollback, shadow runs, close. */
class ModelStoreTest {
    private val ocr = read("ppocr-cls/model.onnx")
    private val line = read("images/line0_180.png")

    /** The lifecycle snippet of android/README.md, verbatim between the markers. */
    @Test
    fun lifecycleSnippet(@TempDir tmp: File) {
        val signed = File(demo, "fixtures/signed")
        val publicKeyPath = File(signed, "test.pub").path
        val signedModelPath = File(signed, "signed.onnx").path
        val storeDir = File(tmp, "models").path
        val imagePath = File(demo, "images/line0_180.png").path
        val modelPath = File(demo, "ppocr-cls/model.onnx").path
        val linePaths = listOf("line0_0", "line0_180", "line1_0").map { File(demo, "images/$it.png").path }
        val lines = mutableListOf<String>()
        fun println(s: Any) { lines += s.toString(); kotlin.io.println(s) }
        // lifecycle snippet begins
        val options = LoadOptions(trustedKeys = listOf(File(publicKeyPath).readText().trim()))
        LedgeModelStore.open(File(storeDir), options).use { store ->
            for (version in listOf("1.0.0", "1.1.0")) {
                store.install("orientation", version, File(signedModelPath).readBytes())  // LedgeException.Signature unless signed by the key
            }
            store.activate("orientation", "1.0.0")
            store.activate("orientation", "1.1.0")                // 1.0.0 stays loaded as the previous version
            val served = store.classify("orientation", File(imagePath).readBytes(), topK = 1)
            println("${served.version}: ${served.predictions[0].label}")
            store.rollback("orientation")                         // back to 1.0.0 in one call
            println("active: ${store.activeVersion("orientation")}")
        }
        LedgeModel.fromFile(modelPath, LoadOptions(cache = CacheOptions(maxEntries = 64))).use { model ->
            val images = linePaths.map { File(it).readBytes() }
            println(model.classifyBatch(images, topK = 1).map { it[0].label })  // one run of the model
            model.classify(images[0], topK = 1)
            model.classify(images[0], topK = 1)                   // from the cache
            val stats = model.stats
            println("${stats.classifications} classifications, ${stats.cacheHits} cache hit, confidence ${stats.confidenceHistogram}")
        }
        // lifecycle snippet ends
        assertEquals(4, lines.size, "$lines")
        assertEquals("1.1.0: 180°", lines[0])
        assertEquals("active: 1.0.0", lines[1])
        assertEquals("[0°, 180°, 0°]", lines[2])
        assertTrue(lines[3].startsWith("5 classifications, 1 cache hit, confidence ["), lines[3])
        val snippet = Regex("""(?s)// lifecycle snippet begins\n(.*?)\n\s*// lifecycle snippet ends""")
            .find(File("src/test/kotlin/dev/ledge/ModelStoreTest.kt").readText())!!.groupValues[1].trimIndent()
        assertTrue(snippet in File("README.md").readText(), "android/README.md lacks:\n$snippet")
    }

    @Test
    fun installActivateRollbackRoundTripOnDisk(@TempDir dir: File) {
        val expected = load("ppocr-cls/model.onnx").use { it.classify(line, 2) }
        LedgeModelStore.open(dir).use { store ->
            assertEquals(ModelVersions(emptyList(), null, null), store.versions("ocr"))
            assertNull(store.activeVersion("ocr"))
            assertFails<LedgeException.InvalidArgument>("no active version") { store.classify("ocr", line) }
            store.install("ocr", "v1", ocr)
            store.install("ocr", "v2", ocr)
            assertEquals(ModelVersions(listOf("v1", "v2"), null, null), store.versions("ocr"))
            assertTrue(File(dir, "ocr/v2.onnx").isFile && File(dir, "index.json").isFile)

            store.activate("ocr", "v1")
            assertEquals("v1", store.activeVersion("ocr"))
            assertEquals(Served("v1", expected), store.classify("ocr", line, 2))
            store.activate("ocr", "v2")
            assertEquals(ModelVersions(listOf("v1", "v2"), "v2", "v1"), store.versions("ocr"))
            assertEquals(Served("v2", expected), store.classify("ocr", line, 2))
            store.rollback("ocr")
            assertEquals(ModelVersions(listOf("v1", "v2"), "v1", "v2"), store.versions("ocr"))
            assertEquals("v1", store.classify("ocr", line).version)
            store.rollback("ocr")
            assertEquals("v2", store.classify("ocr", line).version)

            assertFails<LedgeException.InvalidArgument>("installed already") { store.install("ocr", "v1", ocr) }
            assertFails<LedgeException.ModelFormat> { store.install("ocr", "v3", "junk".toByteArray()) }
            assertFails<LedgeException.InvalidArgument>("\"../x\"") { store.install("../x", "v1", ocr) }
            assertFails<LedgeException.InvalidArgument>("no installed version") { store.activate("ocr", "v9") }
            assertFails<LedgeException.InvalidArgument>("no previous version") { store.rollback("other") }
            assertFails<LedgeException.ImageDecode> { store.classify("ocr", "not an image".toByteArray()) }
            assertFails<LedgeException.InvalidArgument>("at least 1") { store.classify("ocr", line, 0) }
            assertEquals(listOf("v1", "v2"), store.versions("ocr").installed, "refused installs leave nothing")
            assertFalse(File(dir, "ocr/v3.onnx").exists())
        }
        // The store reopens in the state it was left in.
        LedgeModelStore.open(dir).use { store ->
            assertEquals(ModelVersions(listOf("v1", "v2"), "v2", "v1"), store.versions("ocr"))
            assertEquals(Served("v2", expected), store.classify("ocr", line, 2))
            store.rollback("ocr")
            assertEquals("v1", store.activeVersion("ocr"))
        }
        assertFails<LedgeException.Io> { LedgeModelStore.open(File(dir, "index.json")) }
    }

    @Test
    fun aStoreInMemoryWritesNothing(@TempDir dir: File) {
        LedgeModelStore.inMemory().use { store ->
            store.install("ocr", "1", ocr)
            store.install("ocr", "2", ocr)
            store.activate("ocr", "1")
            store.activate("ocr", "2")
            store.rollback("ocr")
            assertEquals(ModelVersions(listOf("1", "2"), "1", "2"), store.versions("ocr"))
            assertEquals("1", store.classify("ocr", line, 1).version)
            assertEquals("LedgeModelStore(in memory)", store.toString())
        }
        LedgeModelStore.inMemory().use { assertEquals(ModelVersions(emptyList(), null, null), it.versions("ocr")) }
        assertEquals(0, dir.list()!!.size)
    }

    /** A store with trusted keys installs only what one of them signed. */
    @Test
    fun aTrustingStoreRefusesUnsignedModels() {
        val signed = File(demo, "fixtures/signed")
        val options = LoadOptions(trustedKeys = listOf(File(signed, "test.pub").readText().trim()))
        LedgeModelStore.inMemory(options).use { store ->
            for ((file, problem) in listOf("unsigned.onnx" to "unsigned", "foreign.onnx" to "untrusted_key", "tampered.onnx" to "invalid")) {
                val e = assertFails<LedgeException.Signature> { store.install("ocr", "1", File(signed, file).readBytes()) }
                assertEquals(problem, e.problem, file)
            }
            assertEquals(emptyList<String>(), store.versions("ocr").installed)
            store.install("ocr", "1", File(signed, "signed.onnx").readBytes())
            store.activate("ocr", "1")
            assertEquals(1, store.classify("ocr", line, 1).predictions[0].index)
        }
    }

    /** 8 threads classify through the store while the main thread activates and rolls back 30 times. */
    @Test
    fun eightThreadsClassifyWhileVersionsSwapAndRollBack(@TempDir dir: File) {
        val effnet = read("efficientnet-lite0/model.onnx")
        val cat = read("images/chelsea.png")
        val expected = load("efficientnet-lite0/model.onnx").use { it.classify(cat, 3) }
        LedgeModelStore.open(dir).use { store ->
            store.install("main", "v1", effnet)
            store.install("main", "v2", effnet)
            store.activate("main", "v1")
            val stop = AtomicBoolean(false)
            val started = CountDownLatch(8)
            val seen = ConcurrentHashMap<String, AtomicLong>()
            val failures = Collections.synchronizedList(mutableListOf<Throwable>())
            val workers = (0 until 8).map {
                Thread {
                    try {
                        var first = true
                        while (!stop.get()) {
                            val served = store.classify("main", cat, 3)
                            assertEquals(expected, served.predictions)
                            seen.computeIfAbsent(served.version) { AtomicLong() }.incrementAndGet()
                            if (first) {
                                started.countDown()
                                first = false
                            }
                        }
                    } catch (t: Throwable) {
                        failures += t
                        started.countDown()
                    }
                }.apply { start() }
            }
            assertTrue(started.await(5, TimeUnit.MINUTES), "every worker classified once")
            val swaps = 30
            for (i in 0 until swaps) {
                if (i % 3 == 2) store.rollback("main") else store.activate("main", if (i % 2 == 0) "v2" else "v1")
            }
            stop.set(true)
            workers.forEach { it.join(300_000) }
            assertTrue(workers.none { it.isAlive })
            assertEquals(emptyList<Throwable>(), failures.toList())
            val total = seen.mapValues { it.value.get() }
            println("store under swaps: $total calls by version over $swaps swaps")
            assertEquals(setOf("v1", "v2"), total.keys, "$total")
            assertTrue(total.values.sum() >= 8, "$total")
            // The state after 30 swaps, which the index on disk has too.
            val state = store.versions("main")
            assertEquals(listOf("v1", "v2"), state.installed)
            assertEquals(setOf("v1", "v2"), setOf(state.active, state.previous))
            LedgeModelStore.open(dir).use { reopened -> assertEquals(state, reopened.versions("main")) }
        }
    }

    @Test
    fun aShadowCandidateIsReportedPromotedOrRejected() {
        val effnet = read("efficientnet-lite0/model.onnx")
        val photos = listOf("chelsea", "coffee", "camera").map { read("images/$it.png") }
        LedgeModelStore.inMemory().use { store ->
            store.install("main", "v1", effnet)
            store.install("main", "v2", effnet)
            store.install("main", "bad", ocr)
            store.activate("main", "v1")
            assertNull(store.shadowReport("main"))

            // The app decides: every call sampled, no automatic decision.
            store.setCandidate("main", "v2", ShadowPolicy(sampleRate = 1.0, minSamples = 2, autoDecide = false))
            repeat(6) { assertEquals("v1", store.classify("main", photos[it % 3], 1).version) }
            val r = store.shadowReport("main")!!
            assertEquals(listOf("v2", "v1", "pending"), listOf(r.candidate, r.active, r.decision))
            assertEquals(6L, r.samples)
            assertEquals(1.0, r.agreement)
            assertTrue(r.meanAbsScoreDelta < 1e-6 && r.latencyRatio > 0, "$r")
            store.activate("main", "v2")
            assertNull(store.shadowReport("main"), "activating the candidate ends its shadow run")

            // Automatic: a candidate that disagrees (text orientation vs ImageNet classes) is rejected...
            val auto = ShadowPolicy(sampleRate = 0.5, minSamples = 4, maxLatencyRatio = 1000.0)
            store.setCandidate("main", "bad", auto)
            repeat(8) { assertEquals("v2", store.classify("main", photos[it % 3], 1).version) }
            val rejected = store.shadowReport("main")!!
            assertEquals("rejected" to 4L, rejected.decision to rejected.samples, "$rejected")
            assertTrue(rejected.agreement < 0.5, "$rejected")
            assertEquals("v2", store.activeVersion("main"))

            // ...and one that agrees is promoted.
            store.setCandidate("main", "v1", auto)
            val versions = (0 until 8).map { store.classify("main", photos[it % 3], 1).version }
            assertEquals(List(8) { "v2" }, versions, "the call that promotes is served by the old version")
            assertEquals(ModelVersions(listOf("v1", "v2", "bad"), "v1", "v2"), store.versions("main"))
            assertEquals("v1", store.classify("main", photos[0], 1).version)

            assertFails<LedgeException.InvalidArgument>("sample_rate in (0, 1]") { store.setCandidate("main", "v2", ShadowPolicy(sampleRate = 0.0)) }
            assertFails<LedgeException.InvalidArgument>("sample_rate in (0, 1]") { store.setCandidate("main", "v2", ShadowPolicy(minAgreement = Double.NaN)) }
            assertFails<LedgeException.InvalidArgument>("shadow policy") { store.setCandidate("main", "v2", ShadowPolicy(minSamples = -1)) }
            assertFails<LedgeException.InvalidArgument>("no installed version") { store.setCandidate("main", "v7") }
            assertNull(store.shadowReport("main"))
        }
    }

    /** Each loaded version (active, previous, candidate) keeps its own statistics; any other version is refused. */
    @Test
    fun eachLoadedVersionKeepsItsOwnStats() {
        val upright = read("images/line0_0.png")
        LedgeModelStore.inMemory().use { store ->
            for (v in listOf("v1", "v2", "v3", "v4")) store.install("ocr", v, ocr)
            store.activate("ocr", "v1")
            repeat(3) { assertEquals(1, store.classify("ocr", line, 1).predictions[0].index) }
            store.activate("ocr", "v2")
            repeat(2) { assertEquals(0, store.classify("ocr", upright, 1).predictions[0].index) }
            assertFails<LedgeException.ImageDecode> { store.classify("ocr", "not an image".toByteArray()) }

            val (v1, v2) = store.stats("ocr", "v1") to store.stats("ocr", "v2")
            assertEquals(listOf(3L, 3L, 0L), listOf(v1.runs, v1.classifications, v1.errors.values.sum()), "$v1")
            assertEquals(mapOf(1 to 3L), v1.classHistogram)
            assertEquals(listOf(2L, 2L), listOf(v2.runs, v2.classifications), "$v2")
            assertEquals(mapOf(0 to 2L), v2.classHistogram)
            assertEquals(mapOf("ImageDecode" to 1L), v2.errors)

            // The candidate counts its shadow runs; the versions serving calls are unchanged by them.
            store.setCandidate("ocr", "v3", ShadowPolicy(sampleRate = 1.0, minSamples = 100, autoDecide = false))
            repeat(4) { store.classify("ocr", line, 1) }
            assertEquals(4L, store.stats("ocr", "v3").runs)
            assertEquals(6L, store.stats("ocr", "v2").runs)
            assertEquals(3L, store.stats("ocr", "v1").runs)

            assertFails<LedgeException.InvalidArgument>("ocr v4 is not loaded", "(v2, v1, v3)") { store.stats("ocr", "v4") }
            assertFails<LedgeException.InvalidArgument>("ocr v9 is not loaded") { store.stats("ocr", "v9") }
            assertFails<LedgeException.InvalidArgument>("other v1 is not loaded") { store.stats("other", "v1") }
        }
    }

    /**
     * A background shadow run (ShadowPolicy.background): each sampled call returns the active version's result
     * while the candidate runs on another thread; the promotion decided there is served from the next call.
     */
    @Test
    fun aBackgroundShadowRunPromotesFromTheNextCall() {
        val effnet = read("efficientnet-lite0/model.onnx")
        val photos = listOf("chelsea", "coffee", "camera").map { read("images/$it.png") }
        LedgeModelStore.inMemory().use { store ->
            store.install("main", "v1", effnet)
            store.install("main", "v2", effnet)
            store.activate("main", "v1")
            store.setCandidate("main", "v2", ShadowPolicy(sampleRate = 1.0, minSamples = 3, maxLatencyRatio = 1000.0, background = true))
            assertEquals(List(3) { "v1" }, photos.map { store.classify("main", it, 1).version })
            val deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2)
            while (store.shadowReport("main")?.decision != "promoting" && System.nanoTime() < deadline) Thread.sleep(10)
            val report = store.shadowReport("main")!!
            assertEquals(listOf("promoting", "v2"), listOf(report.decision, report.candidate), "$report")
            assertEquals(3L to 1.0, report.samples to report.agreement)
            assertEquals("v1", store.activeVersion("main"), "decided in the background: active from the next call")
            assertEquals("v2", store.classify("main", photos[0], 1).version)
            assertEquals(ModelVersions(listOf("v1", "v2"), "v2", "v1"), store.versions("main"))
            assertEquals(3L, store.stats("main", "v1").runs)
        }
    }

    @Test
    fun useAfterCloseThrowsAndCloseIsIdempotent() {
        val store = LedgeModelStore.inMemory()
        store.install("ocr", "1", ocr)
        store.activate("ocr", "1")
        assertFalse(store.isClosed)
        store.close()
        store.close()
        assertTrue(store.isClosed)
        assertFails<IllegalStateException>("LedgeModelStore is closed") { store.install("ocr", "2", ocr) }
        assertFails<IllegalStateException>("closed") { store.activate("ocr", "1") }
        assertFails<IllegalStateException>("closed") { store.rollback("ocr") }
        assertFails<IllegalStateException>("closed") { store.activeVersion("ocr") }
        assertFails<IllegalStateException>("closed") { store.versions("ocr") }
        assertFails<IllegalStateException>("closed") { store.setCandidate("ocr", "1") }
        assertFails<IllegalStateException>("closed") { store.shadowReport("ocr") }
        assertFails<IllegalStateException>("closed") { store.classify("ocr", line) }
        assertFails<IllegalStateException>("closed") { store.stats("ocr", "1") }
        assertEquals("LedgeModelStore(closed)", store.toString())
    }
}
