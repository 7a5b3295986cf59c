package dev.ledge

import org.json.JSONArray
import org.json.JSONObject
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.io.File
import kotlin.math.abs

/**
 * Models users bring that Ledge once refused or misread (issue 18), through Kotlin: the kinds of
 * core/tests/field_models.rs and core/tests/image_formats.rs with the same fixtures and the same
 * expected values (onnxruntime 1.32, in each folder's expected.json):
 * several outputs and two inputs (fixtures/multi-output/), external data (fixtures/external-data/),
 * `Upsample`, a dynamic height and width, 16-bit QDQ, u8 NHWC and grey image inputs (fixtures/field/),
 * WebP, BMP and GIF images and TIFF's error (fixtures/formats/).
 */
class FieldModelsTest {
    private fun fixture(rel: String): String = File(demo, "fixtures/$rel").path

    private fun expected(dir: String) = JSONObject(File(demo, "fixtures/$dir/expected.json").readText())

    private fun npy(rel: String): Tensor = readNpy(read("fixtures/$rel"))

    private fun JSONArray.floats() = FloatArray(length()) { getDouble(it).toFloat() }

    private fun manifestText(rel: String) = File(demo, "fixtures/$rel").readText()

    private fun assertClose(got: FloatArray, want: FloatArray, tolerance: Float, what: String) {
        assertEquals(want.size, got.size, "$what: length")
        for (i in got.indices) assertTrue(abs(got[i] - want[i]) <= tolerance, "$what[$i]: ${got[i]} vs ${want[i]}")
    }

    /** Top-4 of the colour images in `dir` against its expected.json (`[index, probability]` pairs; the grey image's classes are too close to rank). */
    private fun assertClassifies(model: LedgeModel, dir: String) {
        val expected = expected(dir)
        for (color in listOf("red", "green", "blue")) {
            val top = expected.getJSONArray(color)
            val got = model.classify(read("fixtures/$dir/$color.png"), topK = 4)
            assertEquals(top.length(), got.size, "$dir/$color: $got")
            for ((rank, p) in got.withIndex()) {
                val (index, score) = top.getJSONArray(rank).let { it.getInt(0) to it.getDouble(1).toFloat() }
                assertEquals(index, p.index, "$dir/$color: rank $rank of $got")
                // Pillow's and Ledge's bilinear resize of the 64×64 images differ slightly.
                assertTrue(abs(p.score - score) < 0.02f, "$dir/$color: $p vs $score")
            }
        }
    }

    @Test
    fun runWorksWhateverTheManifestSaysAndTheScoresOutputIsFound() {
        val runs = expected("multi-output")
        // (features [1, 8], logits [1, 4]) with a 4-label sidecar manifest that names no scores output.
        LedgeModel.fromFile(fixture("multi-output/features_then_logits.onnx")).use { model ->
            val outputs = model.run(npy("multi-output/red_x.npy"))
            assertEquals(2, outputs.size)
            val want = runs.getJSONArray("features_then_logits_run")
            for ((i, out) in outputs.withIndex()) {
                assertClose(out.floats(), want.getJSONArray(i).floats(), 1e-4f, "features_then_logits output $i")
            }
            val manifest = model.info.manifest!!
            assertEquals("sidecar", manifest.source)
            assertTrue(Regex("""(?m)^scores = "logits"$""").containsMatchIn(manifest.toml), manifest.toml)
            assertClassifies(model, "multi-output")
        }
        // (logits, aux_logits): the first output fits, as before.
        LedgeModel.fromFile(fixture("multi-output/logits_then_aux.onnx")).use { assertClassifies(it, "multi-output") }

        // Two inputs: run takes one tensor each; an image task says why it cannot.
        LedgeModel.fromFile(fixture("multi-output/two_inputs.onnx")).use { model ->
            val out = model.run(npy("multi-output/red_x.npy"), npy("multi-output/temp.npy"))
            assertClose(out[0].floats(), runs.getJSONArray("two_inputs_run").floats(), 1e-4f, "two_inputs")
            assertFails<LedgeException.TaskMismatch>("call run with one tensor per input") {
                model.classify(read("fixtures/multi-output/red.png"), topK = 1)
            }
        }
    }

    @Test
    fun externalDataIsReadBesideTheModel() {
        LedgeModel.fromFile(fixture("external-data/model.onnx")).use { assertClassifies(it, "external-data") }

        // From bytes there is no folder to read it from: say so, and what to do.
        val bytes = read("fixtures/external-data/model.onnx")
        assertFails<LedgeException.ModelFormat>("external data file 'model.onnx.data'", "from its path") {
            LedgeModel.fromBytes(bytes, LoadOptions(manifestToml = manifestText("external-data/model.toml"))).close()
        }

        // The data counts against maxModelBytes with the model.
        val small = LoadOptions(limits = Limits(maxModelBytes = bytes.size + 100L))
        val e = assertFails<LedgeException.LimitExceeded>("max_model_bytes") {
            LedgeModel.fromFile(fixture("external-data/model.onnx"), small).close()
        }
        assertEquals(bytes.size + 100L, e.max)
    }

    @Test
    fun externalDataOutsideTheModelsFolderOrFileIsRefused() {
        val options = LoadOptions(manifestToml = manifestText("external-data/model.toml"))
        for ((model, part) in listOf(
            "field/escape.onnx" to "'../external-data/model.onnx.data' is absolute or leaves",
            "field/absolute.onnx" to "'/etc/hostname' is absolute or leaves",
            "external-data/short.onnx" to "bytes 1000..1128 of 'model.onnx.data', which has 1040",
        )) {
            assertFails<LedgeException.ModelFormat>(part) { LedgeModel.fromFile(fixture(model), options).close() }
        }
    }

    @Test
    fun upsampleRunsAsOnnxruntimeComputesIt() {
        val x = npy("field/x5.npy")
        for (opset in listOf(7, 9)) {
            LedgeModel.fromFile(fixture("field/upsample_opset$opset.onnx")).use { model ->
                val got = model.run(x)[0]
                val want = npy("field/upsample_opset$opset.out.npy")
                assertEquals(want.shape, got.shape, "opset $opset")
                assertClose(got.floats(), want.floats(), 1e-5f, "upsample opset $opset")
            }
        }
    }

    @Test
    fun aDynamicHeightAndWidthIsPlannedAtTheGivenSize() {
        val runs = expected("field")
        val path = fixture("field/dynamic_hw.onnx")
        assertFails<LedgeException.InvalidArgument>(
            "input 'input' has a dynamic dimension 2 (named 'height')",
            "--input-shape input=1,3,N,N",
            "size = [height, width]",
        ) { LedgeModel.fromFile(path).close() }

        LedgeModel.fromFile(path, LoadOptions(inputShapes = listOf(listOf(1L, 3L, 48L, 64L)))).use { model ->
            assertEquals(listOf(1L, 3L, 48L, 64L), model.info.inputs[0].shape)
            val out = model.run(npy("field/x_48x64.npy"))
            assertClose(out[0].floats(), runs.getJSONArray("dynamic_hw_48x64").getJSONArray(0).floats(), 1e-4f, "48×64")
            // Other sizes are planned on first use.
            val out8 = model.run(npy("field/x8.npy"))
            assertClose(out8[0].floats(), runs.getJSONArray("dynamic_hw_8x8").getJSONArray(0).floats(), 1e-4f, "8×8")
            // A tensor of another rank is still the model's shape error.
            assertFails<LedgeException.InputShape> { model.run(Tensor.f32(listOf(1L, 3L, 8L), FloatArray(24))) }
        }

        // The manifest's [input] size plans an image model.
        val manifest = manifestText("multi-output/logits_then_aux.toml").replaceFirst("[input]\n", "[input]\nsize = [48, 64]\n")
        assertTrue("size = [48, 64]" in manifest, manifest)
        LedgeModel.fromFile(path, LoadOptions(manifestToml = manifest)).use { model ->
            assertEquals(listOf(1L, 3L, 48L, 64L), model.info.inputs[0].shape)
            val top = model.classify(read("fixtures/multi-output/red.png"), topK = 4)
            assertEquals(4, top.size)
            assertTrue(abs(top.sumOf { it.score.toDouble() } - 1.0) < 1e-4, "$top")
        }
    }

    @Test
    fun sixteenBitQdqIsRefusedNamingTheType() {
        val e = assertFails<LedgeException.UnsupportedOperator>("QuantizeLinear(uint16)", "and 1 other", "8-bit types") {
            LedgeModel.fromFile(fixture("field/qdq_uint16.onnx")).close()
        }
        assertEquals("QuantizeLinear(uint16)", e.op)
    }

    @Test
    fun uint8NhwcAndGreyImageModelsClassifyAsOnnxruntime() {
        val expected = expected("field")
        val png = read("fixtures/field/pattern.png")
        for (name in listOf("uint8_nhwc", "grey")) {
            // The sidecar manifest beside each model.
            LedgeModel.fromFile(fixture("field/$name.onnx")).use { model ->
                val want = expected.getJSONArray("${name}_pattern").floats()
                val got = model.classify(png, topK = 4)
                assertEquals(4, got.size, "$name: $got")
                for (p in got) assertTrue(abs(p.score - want[p.index]) < 1e-3f, "$name: $p vs ${want[p.index]}")
                // What the model takes: u8 pixels as they are (NHWC), or one channel of luma.
                val input = model.info.inputs[0]
                when (name) {
                    "uint8_nhwc" -> assertEquals(TensorSpec(input.name, listOf(1L, 32L, 32L, 3L), DType.U8), input)
                    else -> assertEquals(listOf(1L, 1L, 32L, 32L), input.shape)
                }
            }
        }
    }

    private fun top5(model: LedgeModel, name: String) = model.classify(read("fixtures/formats/$name"), topK = 5)

    /** Same top-5 classes in the same order, each score within 0.02. */
    private fun assertSameClasses(got: List<Prediction>, want: List<Prediction>, what: String) {
        assertEquals(want.map { it.index }, got.map { it.index }, what)
        for ((g, w) in got.zip(want)) assertTrue(abs(g.score - w.score) <= 0.02f, "$what: class ${g.index} scores ${g.score} vs ${w.score}")
    }

    @Test
    fun webpBmpAndGifClassifyAsThePngAndTiffIsRefused() {
        load("efficientnet-lite0/model.onnx").use { model ->
            val png = top5(model, "chelsea.png")
            // A cat (ImageNet 281-285), confidently: the fixture is a meaningful test image.
            assertTrue(png[0].index in 281..285 && png[0].score > 0.3f, "$png")
            for (name in listOf("chelsea_lossless.webp", "chelsea.bmp", "chelsea_orient6.webp")) {
                assertSameClasses(top5(model, name), png, name)
            }
            // GIF: 256 colours, compared with a PNG of the same palette pixels (the second frame is ignored).
            assertSameClasses(top5(model, "chelsea_animated.gif"), top5(model, "chelsea_256.png"), "chelsea_animated.gif")
            // Lossy WebP: the same top class.
            assertEquals(png[0].index, top5(model, "chelsea_lossy.webp")[0].index)

            assertFails<LedgeException.ImageDecode>(
                "TIFF images are not supported",
                "JPEG, PNG, WebP, BMP and GIF (first frame)",
                "convert it to JPEG or PNG",
            ) { model.classify(read("fixtures/formats/chelsea.tif"), topK = 1) }
        }
    }
}
