package dev.ledge

import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.io.File
import java.nio.ByteBuffer
import kotlin.math.abs

/** The Kotlin API end to end: the README quick start, RGBA frames, raw tensors, info and stats. */
class ApiTest {
    /** The quick start of android/README.md, verbatim between the markers. */
    @Test
    fun quickStart() {
        val modelPath = File(demo, "efficientnet-lite0/model.onnx").path
        val imagePath = File(demo, "images/chelsea.png").path
        val lines = mutableListOf<String>()
        fun println(s: String) { lines += s; kotlin.io.println(s) }
        // quick start begins
        LedgeModel.fromFile(modelPath).use { model ->
            val top3 = model.classify(File(imagePath).readBytes(), topK = 3)
            for (p in top3) {
                println("%5.1f%%  %s".format(p.score * 100, p.label))
            }
        }
        // quick start ends
        assertEquals(3, lines.size)
        assertTrue(lines[0].endsWith("tiger cat"), lines[0])
    }

    /** The detection and embedding quick start of android/README.md, verbatim between the markers. */
    @Test
    fun quickStartDetectAndEmbed() {
        val detectorPath = File(demo, "ssd-mobilenetv2-oid/model.onnx").path
        val embedderPath = File(demo, "efficientnet-lite0-embed/model.onnx").path
        val (photo, mirrored, cup) = listOf("chelsea", "chelsea_mirror", "coffee").map { File(demo, "images/$it.png").path }
        val lines = mutableListOf<String>()
        fun println(s: String) { lines += s; kotlin.io.println(s) }
        // quick start begins
        LedgeModel.fromFile(detectorPath).use { detector ->
            for (d in detector.detect(File(photo).readBytes(), DetectOptions(scoreThreshold = 0.5f))) {
                val b = d.boundingBox
                println("%s %.0f%% at x=%.0f y=%.0f, %.0f×%.0f px".format(d.label, d.score * 100, b.x, b.y, b.width, b.height))
            }
        }
        LedgeModel.fromFile(embedderPath).use { embedder ->
            val cat = embedder.embed(File(photo).readBytes())
            println("mirrored: %.2f".format(embedder.embed(File(mirrored).readBytes()).cosineSimilarity(cat)))
            println("coffee:   %.2f".format(embedder.embed(File(cup).readBytes()).cosineSimilarity(cat)))
        }
        // quick start ends
        assertEquals(3, lines.size, "$lines")
        assertTrue(lines[0].startsWith("Cat 8"), lines[0])
        val (same, other) = lines.drop(1).map { it.substringAfter(":").trim().toFloat() }
        assertTrue(same > 0.9f && other < 0.3f, "$lines")
    }

    /** Each quick start above is in android/README.md and in the repository's README as written here. */
    @Test
    fun readmeShowsTheQuickStartsVerbatim() {
        val source = File("src/test/kotlin/dev/ledge/ApiTest.kt").readText()
        val starts = Regex("""(?s)// quick start begins\n(.*?)\n\s*// quick start ends""").findAll(source).map { it.groupValues[1].trimIndent() }.toList()
        assertEquals(2, starts.size)
        for (readme in listOf("README.md", "../README.md")) {
            val text = File(readme).readText()
            for (code in starts) assertTrue(code in text, "$readme lacks:\n$code")
        }
    }

    @Test
    fun rgbaFramesClassifyLikeTheEncodedImage() {
        val file = File(demo, "images/chelsea.png")
        val (pixels, w, h) = rgbaFrame("images/chelsea.png")
        load("efficientnet-lite0/model.onnx").use { model ->
            val encoded = model.classify(file.readBytes(), 5)
            val direct = model.classifyRgba(pixels, w, h, 5)
            assertEquals(encoded.map { it.index }, direct.map { it.index })
            encoded.zip(direct).forEach { (a, b) -> assertTrue(abs(a.score - b.score) < 1e-4, "$a vs $b") }
            assertEquals(w * h * 4, pixels.remaining(), "the caller's buffer position is untouched")
            // A heap buffer works too (copied once), and so does a slice at an offset.
            val heap = ByteBuffer.allocate(w * h * 4).put(pixels.duplicate()).flip()
            assertEquals(direct, model.classifyRgba(heap, w, h, 5))
            val padded = ByteBuffer.allocateDirect(w * h * 4 + 7)
            padded.position(7)
            padded.put(pixels.duplicate())
            padded.position(7)
            assertEquals(direct, model.classifyRgba(padded, w, h, 5))
        }
    }

    @Test
    fun rawRunGivesTheLogitsThatClassifyTensorRanks() {
        load("efficientnet-lite0/model.onnx").use { model ->
            val input = readNpy(read("vectors/tensors/efficientnet-lite0_chelsea.npy"))
            val out = model.run(input)
            assertEquals(1, out.size)
            assertEquals(DType.F32, out[0].dtype)
            assertEquals(listOf(1L, 1000L), out[0].shape)
            val logits = out[0].floats()
            val best = logits.indices.maxByOrNull { logits[it] }
            assertEquals(282, best)
            assertEquals(282, model.classifyTensor(input, 1).single().index)
        }
    }

    @Test
    fun infoDescribesTheDemoModel() {
        load("efficientnet-lite0/model.onnx").use { model ->
            val info = model.info
            assertEquals(listOf(TensorSpec("input", listOf(1L, 3, 224, 224), DType.F32)).map { it.shape }, info.inputs.map { it.shape })
            assertEquals(DType.F32, info.inputs[0].dtype)
            assertEquals(listOf(1L, 1000L), info.outputs[0].shape)
            assertEquals(File(demo, "efficientnet-lite0/model.onnx").length(), info.fileSize)
            val sha = java.security.MessageDigest.getInstance("SHA-256")
                .digest(read("efficientnet-lite0/model.onnx")).joinToString("") { "%02x".format(it) }
            assertEquals(sha, info.sha256)
            assertTrue(info.opHistogram.getValue("DequantizeLinear") > 100)
            assertTrue(info.parameters in 4_500_000L until 5_000_000L, "${info.parameters}")
            assertTrue(info.macs in 380_000_000L until 420_000_000L, "${info.macs}")
            assertEquals(50L, info.computeNodes)
            assertTrue(info.quantizedMacFraction > 0.99)
            val manifest = info.manifest!!
            assertEquals("efficientnet-lite0", manifest.name)
            assertEquals("embedded", manifest.source)
            assertEquals(1000, manifest.labels.size)
            assertEquals("tiger cat", manifest.labels[282])
            assertTrue("[input.resize]" in manifest.toml, manifest.toml)
            assertTrue(info.repairs.isEmpty())
        }
        load("fixtures/ppocr-cls-softmax-qdq.onnx").use { model ->
            assertEquals("sidecar", model.info.manifest?.source)
            assertEquals(listOf("0°", "180°"), model.info.manifest?.labels)
            assertTrue(model.info.repairs.isNotEmpty(), "the quantized Softmax is repaired")
        }
    }

    @Test
    fun statsTrackRunsLatencyAndConfidence() {
        load("ppocr-cls/model.onnx").use { model ->
            assertNull(model.stats.meanTop1Score)
            assertEquals(0L, model.stats.runs)
            for (line in listOf("line0_0", "line0_180")) model.classify(read("images/$line.png"), 1)
            val stats = model.stats
            assertEquals(2L to 2L, stats.runs to stats.classifications)
            assertTrue(stats.p50Ms > 0 && stats.p50Ms <= stats.p99Ms)
            val mean = stats.meanTop1Score!!
            assertTrue(mean > 0.5 && mean <= 1.0, "$mean")
        }
    }

    @Test
    fun loadOptionsReachTheCore() {
        val toml = File(demo, "ppocr-cls/manifest.toml").readText()
            .replace("labels_file = \"labels.txt\"", "labels = [\"upright\", \"upside down\"]")
        load("ppocr-cls/model.onnx", LoadOptions(manifestToml = toml)).use { model ->
            assertEquals("options", model.info.manifest?.source)
            assertEquals("upside down", model.classify(read("images/line0_180.png"), 1)[0].label)
        }
        load("ppocr-cls/model.onnx", LoadOptions(manifestPath = File(demo, "ppocr-cls/manifest.toml").path)).use { model ->
            assertEquals(listOf("0°", "180°"), model.info.manifest?.labels)
        }
        LedgeModel.fromBytes(read("ppocr-cls/model.onnx"), LoadOptions(inputShapes = listOf(listOf(1L, 3L, 48L, 192L)))).use { model ->
            val out = model.run(Tensor.f32(listOf(1, 3, 48, 192), FloatArray(3 * 48 * 192)))
            assertArrayEquals(longArrayOf(1, 2), out[0].shape.toLongArray())
        }
    }

    /** Phone photos stored rotated (demo-models/fixtures/exif): as viewed by default, as stored on request. */
    @Test
    fun photosAreClassifiedAsViewed() {
        val cases = org.json.JSONObject(String(read("fixtures/exif/expected.json"))).getJSONArray("cases")
        assertEquals(4, cases.length())
        for (apply in listOf(true, false)) {
            for (i in 0 until cases.length()) {
                val c = cases.getJSONObject(i)
                val want = c.getJSONArray(if (apply) "as_viewed_top1" else "ignoring_exif_top1")
                load(c.getString("model"), LoadOptions(applyExifOrientation = apply)).use { model ->
                    val top = model.classify(read(c.getString("image")), 1)[0]
                    assertEquals(want.getInt(0), top.index, "${c.getString("image")} (exif applied: $apply)")
                    assertTrue(abs(top.score - want.getDouble(1)) < 0.1, "${top.score} vs ${want.getDouble(1)}")
                }
            }
        }
    }
}
