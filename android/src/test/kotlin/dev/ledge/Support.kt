package dev.ledge

import org.json.JSONObject
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.assertThrows
import java.io.File
import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.util.zip.CRC32

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
