package dev.ledge

import org.json.JSONObject
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.io.File
import kotlin.math.abs
import kotlin.math.max

/**
 * What a model needs after it ships, on one model (core/tests/lifecycle.rs through JNI): batches, the
 * prediction cache, signed packages and the monitoring fields of [Stats]. The versioned store is
 * [ModelStoreTest].
 */
class ModelLifecycleTest {
    /** The image-level cases of demo-models/vectors/cases.json, as (model, images). */
    private fun vectorImages(): Map<String, List<String>> =
        cases().filter { it.level == "image" }.groupBy({ it.model }, { it.image })

    @Test
    fun batchResultsEqualSingleResultsForEveryVectorImage() {
        val byModel = vectorImages()
        assertEquals(3, byModel.size, "${byModel.keys}")
        assertEquals(21, byModel.values.sumOf { it.size }, "image-level vector cases")
        var compared = 0
        for ((rel, images) in byModel) {
            load(rel).use { model ->
                val classes = model.info.outputs[0].shape.fold(1L) { a, d -> a * d }.toInt()
                val bytes = images.map { read(it) }
                val single = bytes.map { model.classify(it, classes) }
                for (n in listOf(1, 2, 4)) {
                    for ((chunk, expected) in bytes.chunked(n).zip(single.chunked(n))) {
                        val batch = model.classifyBatch(chunk, classes)
                        assertEquals(chunk.size, batch.size, "$rel batch of $n")
                        for ((b, s) in batch.zip(expected)) {
                            assertEquals(classes, b.size)
                            assertEquals(s.map { it.index to it.label }, b.map { it.index to it.label }, "$rel batch of $n")
                            for ((x, y) in b.zip(s)) assertTrue(abs(x.score - y.score) <= 1e-6f, "$rel batch of $n: $x vs $y")
                            compared++
                        }
                    }
                }
                // Each image of a batch counts as one classification: singles + 3 passes over the images.
                assertEquals(4L * images.size, model.stats.classifications, rel)
            }
        }
        assertEquals(3 * 21, compared)
    }

    @Test
    fun batchEdgeCases() {
        load("efficientnet-lite0/model.onnx").use { model ->
            assertEquals(emptyList<List<Prediction>>(), model.classifyBatch(emptyList()))
            val cat = read("images/chelsea.png")
            val top = model.classifyBatch(listOf(cat, cat), topK = 3)
            assertEquals(listOf(3, 3), top.map { it.size })
            assertEquals("tiger cat", top[1][0].label)
            assertFails<LedgeException.ImageDecode> { model.classifyBatch(listOf(cat, "not an image".toByteArray())) }
            assertFails<LedgeException.InvalidArgument>("at least 1, got 0") { model.classifyBatch(listOf(cat), topK = 0) }
            assertFails<LedgeException.InvalidArgument>("topK must be at least 1, got -1") { model.classifyBatch(listOf(cat), topK = -1) }
            val stats = model.stats
            // The core saw the undecodable image and topK = 0; the bridge refused topK = -1 before it.
            assertEquals(mapOf("ImageDecode" to 1L, "InvalidArgument" to 1L), stats.errors)
            assertEquals(2L, stats.classifications, "a failed batch counts nothing")
        }
        load("ssd-mobilenetv2-oid/model.onnx").use { detector ->
            val e = assertFails<LedgeException.TaskMismatch> { detector.classifyBatch(listOf(read("images/chelsea.png"))) }
            assertEquals("classify", e.task)
        }
    }

    @Test
    fun cacheHitsReturnWhatAMissComputedAndAreCounted() {
        val options = LoadOptions(cache = CacheOptions(maxEntries = 2, maxBytes = 1L shl 20))
        load("efficientnet-lite0/model.onnx", options).use { model ->
            val cat = read("images/chelsea.png")
            val miss = model.classify(cat, 5)
            val hit = model.classify(cat, 5)
            assertEquals(miss, hit)
            // Other options are another entry.
            assertEquals(miss.take(1), model.classify(cat, 1))
            val s = model.stats
            assertEquals(Triple(1L, 2L, 3L), Triple(s.cacheHits, s.cacheMisses, s.runs))
            // Two entries at most: a third key (coffee) evicts the least recently used, cat's top-5.
            model.classify(read("images/coffee.png"), 5)
            assertEquals(miss, model.classify(cat, 5))
            assertEquals(1L to 4L, model.stats.cacheHits to model.stats.cacheMisses, "the top-5 entry was evicted")
            // Batches bypass the cache.
            model.classifyBatch(listOf(cat))
            assertEquals(1L to 4L, model.stats.cacheHits to model.stats.cacheMisses)
        }
        load("efficientnet-lite0/model.onnx").use { model ->
            val cat = read("images/chelsea.png")
            assertEquals(model.classify(cat), model.classify(cat))
            assertEquals(0L to 0L, model.stats.cacheHits to model.stats.cacheMisses, "no cache by default")
        }
        assertFails<LedgeException.InvalidArgument>("load options") {
            load("ppocr-cls/model.onnx", LoadOptions(cache = CacheOptions(maxEntries = -1)))
        }
    }

    /** demo-models/fixtures/signed/expected.json: every case gives its problem, as in every language. */
    @Test
    fun theSharedSignedFixturesGiveTheirExpectedProblems() {
        val dir = File(demo, "fixtures/signed")
        val expected = JSONObject(File(dir, "expected.json").readText())
        val key = File(dir, expected.getString("trusted_key")).readText().trim()
        assertEquals(64, key.length)
        val cases = expected.getJSONArray("cases")
        assertEquals(5, cases.length())
        val trusting = LoadOptions(trustedKeys = listOf(key))
        val seen = mutableMapOf<String, String?>()
        for (i in 0 until cases.length()) {
            val case = cases.getJSONObject(i)
            val model = case.getString("model")
            val want = if (case.isNull("problem")) null else case.getString("problem")
            for (fromBytes in listOf(false, true)) {
                val got = try {
                    val loaded = if (fromBytes) LedgeModel.fromBytes(File(dir, model).readBytes(), trusting) else LedgeModel.fromFile(File(dir, model), trusting)
                    loaded.use { assertEquals(0, it.classify(read("images/line0_0.png"), 1)[0].index) }
                    null
                } catch (e: LedgeException.Signature) {
                    assertEquals("Signature", e.kind)
                    assertTrue(e.message!!.contains("signature check failed (${e.problem})"), e.message)
                    e.problem
                }
                assertEquals(want, got, "$model (from bytes: $fromBytes)")
            }
            seen[model] = want
        }
        assertEquals(setOf(null, "unsigned", "untrusted_key", "invalid"), seen.values.toSet())
        // Without trusted keys they load like any other model, except the one whose weights changed: the
        // embedded manifest's sha256 catches that even without a key.
        for (model in seen.keys - "tampered.onnx") LedgeModel.fromFile(File(dir, model)).close()
        assertFails<LedgeException.Integrity> { LedgeModel.fromFile(File(dir, "tampered.onnx")) }
        // A manifest beside the signature would bypass it: refused.
        val manifest = File(demo, "ppocr-cls/manifest.toml").path
        val e = assertFails<LedgeException.Signature> {
            LedgeModel.fromFile(File(dir, "signed.onnx"), trusting.copy(manifestPath = manifest))
        }
        assertTrue(e.problem in setOf("unsigned", "untrusted_key", "invalid"), e.problem)
        assertFails<LedgeException.InvalidArgument> { LedgeModel.fromFile(File(dir, "signed.onnx"), LoadOptions(trustedKeys = listOf("zz"))) }
    }

    @Test
    fun statsHaveHistogramsErrorsAndEntropy() {
        load("ppocr-cls/model.onnx").use { model ->
            val fresh = model.stats
            assertEquals(List(10) { 0L }, fresh.confidenceHistogram)
            assertEquals(emptyMap<Int, Long>(), fresh.classHistogram)
            assertEquals(emptyMap<String, Long>(), fresh.errors)
            assertNull(fresh.meanEntropy)
            assertNull(fresh.drift)
            val lines = lineImages()
            val top = lines.map { model.classify(read(it), 1)[0] }
            assertFails<LedgeException.ImageDecode> { model.classify("not an image".toByteArray()) }
            assertFails<LedgeException.ImageDecode> { model.classify(ByteArray(0)) }
            assertFails<LedgeException.InvalidArgument> { model.classify(read(lines[0]), 0) }
            val s = model.stats
            val n = lines.size.toLong()
            assertEquals(n to n, s.runs to s.classifications, "failures are not runs")
            assertEquals(mapOf("ImageDecode" to 2L, "InvalidArgument" to 1L), s.errors)
            assertEquals(10, s.confidenceHistogram.size)
            assertEquals(n, s.confidenceHistogram.sum())
            assertEquals(n, s.classHistogram.values.sum())
            assertEquals(top.groupingBy { it.index }.eachCount().mapValues { it.value.toLong() }, s.classHistogram)
            for (p in top) assertTrue(s.confidenceHistogram[minOf(9, (p.score * 10).toInt())] > 0, "$p")
            val entropy = s.meanEntropy!!
            assertTrue(entropy > 0 && entropy < 0.5, "a confident model: mean entropy $entropy")
            assertEquals(0L to 0L, s.cacheHits to s.cacheMisses)
            assertNull(s.drift, "no baseline in the manifest")
        }
    }

    /** A manifest `[baseline]` made from these very images shows no drift; a shifted one does. */
    @Test
    fun driftComparesWithTheManifestBaseline() {
        val lines = lineImages().map { read(it) }
        val top = load("ppocr-cls/model.onnx").use { m -> lines.map { m.classify(it, 1)[0] } }
        val confidence = DoubleArray(10)
        val classes = DoubleArray(2)
        for (p in top) {
            confidence[minOf(9, (p.score * 10).toInt())] += 1.0 / top.size
            classes[p.index] += 1.0 / top.size
        }
        val toml = File(demo, "ppocr-cls/manifest.toml").readText()
            .replace("labels_file = \"labels.txt\"", "labels = [\"0\", \"180\"]")
        fun withBaseline(confidence: DoubleArray, classes: DoubleArray): LoadOptions = LoadOptions(
            manifestToml = toml + "\n[baseline]\nconfidence = [${confidence.joinToString()}]\n" +
                "classes = [${classes.joinToString()}]\nthreshold = 0.25\nsamples = ${top.size}\n",
        )
        load("ppocr-cls/model.onnx", withBaseline(confidence, classes)).use { model ->
            repeat(2) { lines.forEach { model.classify(it, 1) } }
            val d = model.stats.drift!!
            assertEquals(2L * lines.size, d.samples)
            assertTrue(d.score < 1e-9 && !d.drifted, "$d")
            assertEquals(0.25, d.threshold)
        }
        // The baseline saw only low-confidence predictions of class 1.
        val shifted = DoubleArray(10).also { it[0] = 1.0 }
        load("ppocr-cls/model.onnx", withBaseline(shifted, doubleArrayOf(0.0, 1.0))).use { model ->
            lines.forEach { model.classify(it, 1) }
            val early = model.stats.drift!!
            assertTrue(early.score > 1.0, "$early")
            assertFalse(early.drifted, "fewer than 20 samples never drift: $early")
            lines.forEach { model.classify(it, 1) }
            val d = model.stats.drift!!
            assertTrue(d.drifted, "$d")
            assertEquals(max(d.confidencePsi, d.classPsi), d.score)
            assertEquals(2L * lines.size, d.samples)
        }
    }

    private fun lineImages(): List<String> {
        val lines = File(demo, "images").list()!!.filter { it.startsWith("line") }.sorted().map { "images/$it" }
        assertEquals(14, lines.size)
        return lines
    }
}
