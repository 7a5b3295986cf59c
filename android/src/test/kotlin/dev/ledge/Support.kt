package dev.ledge

import org.json.JSONArray
import org.json.JSONObject
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.assertThrows
import java.io.File
import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.util.zip.CRC32
import kotlin.math.abs

/** `demo-models/` (system property `ledge.demo.dir`, set by pom.xml). */
val demo: File = File(System.getProperty("ledge.demo.dir") ?: "../demo-models").absoluteFile

fun read(rel: String): ByteArray = File(demo, rel).readBytes()

fun load(rel: String, options: LoadOptions = LoadOptions()): LedgeModel = LedgeModel.fromFile(File(demo, rel).path, options)

/** A float32, C-order `.npy` file (format 1.0 or 2.0). */
fun readNpy(bytes: ByteArray): Tensor {
    val buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN)
    val magic = ByteArray(6).also { buf.get(it) }
    require(magic.contentEquals(byteArrayOf(0x93.toByte()) + "NUMPY".toByteArray())) { "not a .npy file" }
    val major = buf.get().toInt()
    buf.get()
    val headerLen = if (major == 1) buf.getShort().toInt() and 0xffff else buf.getInt()
    val header = String(bytes, buf.position(), headerLen, Charsets.ISO_8859_1)
    buf.position(buf.position() + headerLen)
    require("'descr': '<f4'" in header) { "only float32 .npy is supported: $header" }
    require("'fortran_order': False" in header) { "only C order is supported: $header" }
    val dims = Regex("'shape': \\(([^)]*)\\)").find(header)!!.groupValues[1]
        .split(',').map { it.trim() }.filter { it.isNotEmpty() }.map { it.toLong() }
    val data = FloatArray(dims.fold(1L) { a, d -> a * d }.toInt())
    buf.asFloatBuffer().get(data)
    return Tensor.f32(dims, data)
}

data class Expected(val index: Int, val label: String?, val score: Float)

data class Case(
    val name: String,
    val level: String,
    val model: String,
    val image: String,
    val tensor: String,
    val expected: List<Expected>,
    val tolerance: Float,
)

fun cases(): List<Case> {
    val root = JSONObject(File(demo, "vectors/cases.json").readText())
    assertEquals(1, root.getInt("format"))
    val all = root.getJSONArray("cases")
    return (0 until all.length()).map { i ->
        val c = all.getJSONObject(i)
        val exp = c.getJSONArray("expected")
        Case(
            name = c.getString("name"),
            level = c.getString("level"),
            model = c.getString("model"),
            image = c.getString("image"),
            tensor = c.getString("tensor"),
            expected = (0 until exp.length()).map { j ->
                val e = exp.getJSONObject(j)
                Expected(e.getInt("index"), e.optString("label", null), e.getDouble("score").toFloat())
            },
            tolerance = c.getDouble("tolerance").toFloat(),
        )
    }
}

/** Asserts [block] throws exactly [T] and that its message contains every needle. */
inline fun <reified T : Throwable> assertFails(vararg needles: String, block: () -> Unit): T {
    val e = assertThrows<T> { block() }
    assertEquals(T::class.java, e.javaClass, "exception class; message: ${e.message}")
    for (n in needles) assertTrue(e.message!!.contains(n), "'${e.message}' should mention '$n'")
    return e
}

/** A PNG whose header claims `w × h` pixels and whose (empty) data chunk follows. */
fun pngHeader(w: Int, h: Int): ByteArray {
    val out = java.io.ByteArrayOutputStream()
    fun chunk(body: ByteArray) {
        val b = ByteBuffer.allocate(4 + body.size + 4)
        b.putInt(body.size - 4)
        b.put(body)
        b.putInt(CRC32().apply { update(body) }.value.toInt())
        out.write(b.array())
    }
    out.write(byteArrayOf(0x89.toByte()) + "PNG\r\n\u001a\n".toByteArray())
    chunk("IHDR".toByteArray() + ByteBuffer.allocate(8).putInt(w).putInt(h).array() + byteArrayOf(8, 2, 0, 0, 0))
    chunk("IDAT".toByteArray())
    return out.toByteArray()
}

/** Resident set size of this process, bytes (Linux). */
fun rssBytes(): Long = File("/proc/self/status").readLines()
    .first { it.startsWith("VmRSS:") }
    .split(Regex("\\s+"))[1].toLong() * 1024

/** One expected detection of `vectors/detect.json`: `box` is `[x, y, width, height]` in image pixels. */
data class ExpectedDetection(val index: Int, val label: String?, val score: Float, val box: BoundingBox, val keypoints: Int)

/** A case of `demo-models/vectors/detect.json` (paths relative to `demo-models/`). */
data class DetectCase(
    val name: String,
    val model: String,
    val image: String,
    val options: DetectOptions,
    val expected: List<ExpectedDetection>,
    val minIou: Float,
    val scoreTolerance: Float,
)

private fun JSONObject.floatOrNull(key: String): Float? = if (has(key) && !isNull(key)) getDouble(key).toFloat() else null

private fun org.json.JSONArray.strings(): List<String> = (0 until length()).map { getString(it) }

fun detectCases(): List<DetectCase> {
    val root = JSONObject(File(demo, "vectors/detect.json").readText())
    assertEquals(1, root.getInt("format"))
    val all = root.getJSONArray("cases")
    return (0 until all.length()).map { i ->
        val c = all.getJSONObject(i)
        val o = c.optJSONObject("options") ?: JSONObject()
        val known = setOf("maxResults", "scoreThreshold", "iouThreshold", "allowlist", "denylist")
        assertTrue(known.containsAll(o.keySet()), "${c.getString("name")}: unknown options ${o.keySet() - known}")
        val exp = c.getJSONArray("expected")
        DetectCase(
            name = c.getString("name"),
            model = c.getString("model"),
            image = c.getString("image"),
            options = DetectOptions(
                maxResults = if (o.has("maxResults")) o.getInt("maxResults") else null,
                scoreThreshold = o.floatOrNull("scoreThreshold"),
                iouThreshold = o.floatOrNull("iouThreshold"),
                allowlist = o.optJSONArray("allowlist")?.strings() ?: emptyList(),
                denylist = o.optJSONArray("denylist")?.strings() ?: emptyList(),
            ),
            expected = expectedDetections(exp, c.getString("name")),
            minIou = c.getDouble("min_iou").toFloat(),
            scoreTolerance = c.getDouble("score_tolerance").toFloat(),
        )
    }
}

/** The `expected` detections of a detect.json or frames.json case, `[x, y, width, height]` boxes. */
fun expectedDetections(list: JSONArray, name: String): List<ExpectedDetection> = (0 until list.length()).map { j ->
    val e = list.getJSONObject(j)
    val b = e.getJSONArray("box")
    assertEquals(4, b.length(), "box of $name")
    ExpectedDetection(
        index = e.getInt("index"),
        label = if (e.isNull("label")) null else e.getString("label"),
        score = e.getDouble("score").toFloat(),
        box = BoundingBox(b.getDouble(0).toFloat(), b.getDouble(1).toFloat(), b.getDouble(2).toFloat(), b.getDouble(3).toFloat()),
        keypoints = e.optJSONArray("keypoints")?.length() ?: 0,
    )
}

/** A case of `demo-models/vectors/embed.json`: the image's expected embedding. */
data class EmbedCase(val name: String, val model: String, val image: String, val expected: Embedding, val minCosine: Float)

/** A pair of `demo-models/vectors/embed.json`: the cosine similarity of two images' embeddings. */
data class EmbedPair(val model: String, val a: String, val b: String, val cosine: Float, val tolerance: Float)

fun embedVectors(): Pair<List<EmbedCase>, List<EmbedPair>> {
    val root = JSONObject(File(demo, "vectors/embed.json").readText())
    assertEquals(1, root.getInt("format"))
    val cases = root.getJSONArray("cases")
    val pairs = root.getJSONArray("pairs")
    return (0 until cases.length()).map { i ->
        val c = cases.getJSONObject(i)
        val v = c.getJSONArray("expected")
        EmbedCase(
            name = c.getString("name"),
            model = c.getString("model"),
            image = c.getString("image"),
            expected = Embedding(FloatArray(v.length()) { v.getDouble(it).toFloat() }),
            minCosine = c.getDouble("min_cosine").toFloat(),
        )
    } to (0 until pairs.length()).map { i ->
        val p = pairs.getJSONObject(i)
        EmbedPair(p.getString("model"), p.getString("a"), p.getString("b"), p.getDouble("cosine").toFloat(), p.getDouble("tolerance").toFloat())
    }
}

/** Intersection over union of two boxes, in [0, 1] (0 when the union is empty). */
fun iou(a: BoundingBox, b: BoundingBox): Float {
    val w = minOf(a.x + a.width, b.x + b.width) - maxOf(a.x, b.x)
    val h = minOf(a.y + a.height, b.y + b.height) - maxOf(a.y, b.y)
    val inter = if (w > 0 && h > 0) w * h else 0f
    val union = a.width * a.height + b.width * b.height - inter
    return if (union > 0) inter / union else 0f
}

/**
 * The rule every language applies to `detect.json` (as core/tests/common): the same number of detections,
 * and each expected one (best first) matched to the not yet matched actual detection of the same class
 * with the best IoU, which must be ≥ the case's `min_iou`, with a score within `score_tolerance`, the same
 * label and as many keypoints. Returns every mismatch (empty: the case passes). [sameCount] false drops the
 * count rule (`frames.json`: each expected detection must be found; more may be).
 */
fun detectionMismatches(case: DetectCase, actual: List<Detection>, sameCount: Boolean = true): List<String> {
    val problems = mutableListOf<String>()
    if (sameCount && actual.size != case.expected.size) problems += "${actual.size} detections, expected ${case.expected.size}"
    val taken = BooleanArray(actual.size)
    for (e in case.expected) {
        val best = actual.indices
            .filter { !taken[it] && actual[it].index == e.index }
            .maxByOrNull { iou(actual[it].boundingBox, e.box) }
        val overlap = best?.let { iou(actual[it].boundingBox, e.box) }
        if (best == null || overlap!! < case.minIou) {
            problems += "class ${e.index} box ${e.box}: best IoU $overlap < ${case.minIou}"
            continue
        }
        taken[best] = true
        val a = actual[best]
        if (abs(a.score - e.score) > case.scoreTolerance) problems += "class ${e.index} score ${a.score} vs ${e.score}"
        if (a.label != e.label || a.keypoints.size != e.keypoints) {
            problems += "class ${e.index}: label ${a.label} / ${a.keypoints.size} keypoints vs ${e.label} / ${e.keypoints}"
        }
    }
    return problems
}

/** Width and height of an image file. */
fun imageSize(rel: String): Pair<Int, Int> = javax.imageio.ImageIO.read(File(demo, rel)).let { it.width to it.height }

/**
 * The pixels of an image file as a tightly packed RGBA frame in a direct buffer, with its width and height.
 * Read from the raster as stored (`getRGB` would convert a grayscale PNG's values through color spaces).
 */
fun rgbaFrame(rel: String): Triple<ByteBuffer, Int, Int> {
    val image = javax.imageio.ImageIO.read(File(demo, rel))
    val (w, h) = image.width to image.height
    val raster = image.raster
    val bands = raster.numBands
    assertTrue(bands in 1..4 && image.colorModel.componentSize.all { it == 8 }, "$rel: 8-bit gray or RGB(A) only")
    val pixels = ByteBuffer.allocateDirect(w * h * 4)
    val px = IntArray(bands)
    for (y in 0 until h) for (x in 0 until w) {
        raster.getPixel(x, y, px)
        val (r, g, b) = if (bands < 3) Triple(px[0], px[0], px[0]) else Triple(px[0], px[1], px[2])
        val a = if (bands == 2 || bands == 4) px[bands - 1] else 255
        pixels.put(r.toByte()).put(g.toByte()).put(b.toByte()).put(a.toByte())
    }
    pixels.flip()
    return Triple(pixels, w, h)
}
