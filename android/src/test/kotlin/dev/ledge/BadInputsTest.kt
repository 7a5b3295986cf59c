package dev.ledge

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.io.File
import java.nio.ByteBuffer

/**
 * The bad-input catalogue of core/tests/bad_inputs.rs, through Kotlin: every hostile or mistaken input
 * becomes its LedgeException subclass with the core's message; nothing crashes the JVM.
 */
class BadInputsTest {
    private fun loadBytes(bytes: ByteArray, options: LoadOptions = LoadOptions()) {
        LedgeModel.fromBytes(bytes, options).close()
    }

    @Test
    fun emptyFile() {
        assertFails<LedgeException.ModelFormat>("empty") { loadBytes(ByteArray(0)) }
    }

    @Test
    fun truncatedModel() {
        val bytes = read("efficientnet-lite0/model.onnx")
        for (cut in listOf(16, bytes.size / 2, bytes.size - 100)) {
            assertFails<LedgeException.ModelFormat>("truncated") { loadBytes(bytes.copyOf(cut)) }
        }
    }

    @Test
    fun randomBytes() {
        var state = 7
        val noise = ByteArray(4096) {
            state = state * 1_664_525 + 1_013_904_223
            (state ushr 24).toByte()
        }
        assertFails<LedgeException.ModelFormat> { loadBytes(noise) }
        assertFails<LedgeException.ModelFormat> { loadBytes("definitely not a model".toByteArray()) }
    }

    @Test
    fun unsupportedOperatorIsNamed() {
        assertFails<LedgeException.UnsupportedOperator>("QLinear", "other unsupported node") {
            loadBytes(read("fixtures/ppocr-cls-qoperator.onnx"))
        }
    }

    @Test
    fun wrongInputShapeCountAndDtype() {
        load("ppocr-cls/model.onnx").use { model ->
            assertFails<LedgeException.InputShape>("expected shape [1, 3, 48, 192], got [1, 3, 48, 190]") {
                model.run(Tensor.f32(listOf(1, 3, 48, 190), FloatArray(3 * 48 * 190)))
            }
            assertFails<LedgeException.InputType>("expected dtype f32, got u8") {
                model.run(Tensor.u8(listOf(1, 3, 48, 192), ByteArray(3 * 48 * 192)))
            }
            assertFails<LedgeException.InputType>("expected dtype f32, got i8") {
                model.classifyTensor(Tensor.i8(listOf(1, 3, 48, 192), ByteArray(3 * 48 * 192)))
            }
            assertFails<LedgeException.InputCount>("expected 1 input tensor(s), got 0") { model.run() }
            assertEquals(0L, model.stats.runs, "failed calls are not counted")
        }
    }

    @Test
    fun undecodableAndTruncatedImages() {
        load("ppocr-cls/model.onnx").use { model ->
            assertFails<LedgeException.ImageDecode> { model.classify("GIF89a nope".toByteArray(), 1) }
            assertFails<LedgeException.ImageDecode>("empty") { model.classify(ByteArray(0), 1) }
            val png = read("images/line0_0.png")
            assertFails<LedgeException.ImageDecode> { model.classify(png.copyOf(png.size / 2), 1) }
            assertFails<LedgeException.ImageDecode>("JPEG or PNG") { model.classify(byteArrayOf(0, 1, 2, 3), 1) }
        }
    }

    @Test
    fun zeroSizedImages() {
        load("ppocr-cls/model.onnx").use { model ->
            assertFails<LedgeException.ImageDecode>("0×10", "no pixels") {
                model.classifyRgba(ByteBuffer.allocateDirect(0), 0, 10, 1)
            }
            assertFails<LedgeException.ImageDecode> { model.classify(pngHeader(0, 5), 1) }
        }
    }

    @Test
    fun oversizeDimensionsAreRefusedBeforeAllocating() {
        load("ppocr-cls/model.onnx").use { model ->
            // 100 000 × 100 000 RGB would need 30 GB: refused from the 33-byte header alone.
            assertFails<LedgeException.LimitExceeded>("max_image_pixels is 10000000000") {
                model.classify(pngHeader(100_000, 100_000), 1)
            }
            assertFails<LedgeException.LimitExceeded>("max_image_pixels is 4900000000") {
                model.classifyRgba(ByteBuffer.allocateDirect(4), 70_000, 70_000, 1)
            }
        }
        assertFails<LedgeException.LimitExceeded>("max_model_bytes") {
            load("ppocr-cls/model.onnx", LoadOptions(limits = Limits(maxModelBytes = 1000))).close()
        }
        load("ppocr-cls/model.onnx", LoadOptions(limits = Limits(maxTensorElements = 100))).use { small ->
            assertFails<LedgeException.LimitExceeded>("max_tensor_elements is 27648") {
                small.run(Tensor.f32(listOf(1, 3, 48, 192), FloatArray(3 * 48 * 192)))
            }
        }
    }

    @Test
    fun aGraphThatPlansTerabytesIsRefusedBeforeAllocating() {
        // A 104-byte model whose ConstantOfShape asks for 2^20 × 2^20 floats (4 TiB).
        assertFails<LedgeException.LimitExceeded>("limit exceeded: max_plan_bytes") {
            loadBytes(read("fixtures/plan-4tib.onnx"))
        }
        assertFails<LedgeException.LimitExceeded>("the maximum is 500000") {
            load("ppocr-cls/model.onnx", LoadOptions(limits = Limits(maxPlanBytes = 500_000))).close()
        }
    }

    @Test
    fun badArguments() {
        load("ppocr-cls/model.onnx").use { model ->
            val png = read("images/line0_0.png")
            assertFails<LedgeException.InvalidArgument>("at least 1, got 0") { model.classify(png, 0) }
            assertFails<LedgeException.InvalidArgument>("topK must be at least 1, got -1") { model.classify(png, -1) }
            assertFails<LedgeException.InvalidArgument>("needs 16 bytes, got 15") {
                model.classifyRgba(ByteBuffer.allocateDirect(15), 2, 2, 1)
            }
            assertFails<LedgeException.InvalidArgument>("width and height must be ≥ 0") {
                model.classifyRgba(ByteBuffer.allocateDirect(16), -2, -2, 1)
            }
            assertFails<LedgeException.InvalidArgument>("needs 6 elements, got 5") {
                Tensor.f32(listOf(2, 3), FloatArray(5))
            }
            assertFails<LedgeException.InvalidArgument>("not both") {
                load("ppocr-cls/model.onnx", LoadOptions(manifestToml = "", manifestPath = "x.toml"))
            }
            assertEquals(2, model.classify(png, 100).size, "k is capped at the class count")
        }
    }

    @Test
    fun missingFileIsIo() {
        assertFails<LedgeException.Io>("no-such-model.onnx") { load("no-such-model.onnx") }
    }

    @Test
    fun classifyWithoutAManifestSaysHowToAddOne() {
        // The fixture's sidecar is not used when loading from bytes.
        LedgeModel.fromBytes(read("fixtures/ppocr-cls-softmax-qdq.onnx")).use { model ->
            assertNull(model.info.manifest)
            assertFails<LedgeException.Manifest>("no manifest", "ledge pack") {
                model.classify(read("images/line0_0.png"), 1)
            }
        }
    }

    @Test
    fun aManifestThatDoesNotFitTheModel() {
        val toml = File(demo, "ppocr-cls/manifest.toml").readText()
            .replace("labels_file = \"labels.txt\"", "labels = [\"0°\", \"180°\", \"90°\"]")
        // It loads (run and info do not depend on the manifest); every task call says why not.
        load("ppocr-cls/model.onnx", LoadOptions(manifestToml = toml)).use { model ->
            assertFails<LedgeException.Manifest>("3 labels", "2 classes") {
                model.classify(File(demo, "images/line0_0.png").readBytes(), 1)
            }
        }
        assertFails<LedgeException.Manifest> {
            load("ppocr-cls/model.onnx", LoadOptions(manifestToml = "name = "))
        }
    }

    @Test
    fun sha256MismatchInASidecar(@TempDir dir: File) {
        File(demo, "fixtures/ppocr-cls-softmax-qdq.onnx").copyTo(File(dir, "m.onnx"))
        File(demo, "ppocr-cls/labels.txt").copyTo(File(dir, "labels.txt"))
        val sidecar = File(demo, "fixtures/ppocr-cls-softmax-qdq.toml").readText()
            .replace("../ppocr-cls/labels.txt", "labels.txt")
        File(dir, "m.toml").writeText("sha256 = \"${"0".repeat(64)}\"\n$sidecar")
        assertFails<LedgeException.Integrity>("0".repeat(64)) { LedgeModel.fromFile(File(dir, "m.onnx")) }

        val sha = java.security.MessageDigest.getInstance("SHA-256")
            .digest(read("fixtures/ppocr-cls-softmax-qdq.onnx")).joinToString("") { "%02x".format(it) }
        File(dir, "m.toml").writeText("sha256 = \"$sha\"\n$sidecar")
        LedgeModel.fromFile(File(dir, "m.onnx")).use { model ->
            assertEquals("sidecar", model.info.manifest?.source)
            assertEquals(sha, model.info.sha256)
        }
    }

    @Test
    fun sha256MismatchInAPackedModel() {
        val bytes = read("ppocr-cls/model.onnx")
        // Flip one bit inside the weights, far from the manifest at the end.
        bytes[bytes.size / 2] = (bytes[bytes.size / 2].toInt() xor 0x10).toByte()
        assertFails<LedgeException.Integrity> { loadBytes(bytes) }
        // Opting out of the check loads the damaged model: the check is what caught it.
        loadBytes(bytes, LoadOptions(verifyIntegrity = false))
    }
}
