package dev.ledge

import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import kotlin.math.abs
import kotlin.math.sqrt

/** Embeddings through the Kotlin API: unit vectors, similarity, frames, equality, errors. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EmbedTest {
    private val model by lazy { load(EMBED) }

    @AfterAll
    fun closeModel() = model.close()

    private fun norm(e: Embedding) = sqrt(e.values.sumOf { it.toDouble() * it })

    @Test
    fun embeddingsAreUnitVectorsThatRankSimilarImages() {
        val cat = model.embed(read("images/chelsea.png"))
        val mirrored = model.embed(read("images/chelsea_mirror.png"))
        val cup = model.embed(read("images/coffee.png"))
        assertEquals(1280, cat.size, "EfficientNet-Lite0's pooled features")
        for (e in listOf(cat, mirrored, cup)) assertEquals(1.0, norm(e), 1e-4)
        assertEquals(1f, cat.cosineSimilarity(cat), 1e-6f)
        val same = cat.cosineSimilarity(mirrored)
        val other = cat.cosineSimilarity(cup)
        assertTrue(same > other + 0.1f, "cat~mirrored cat $same, cat~cup $other")
        assertEquals(same, mirrored.cosineSimilarity(cat), 1e-6f)
        // Deterministic: the same image gives the same values.
        assertEquals(cat, model.embed(read("images/chelsea.png")))
    }

    @Test
    fun rgbaFramesEmbedLikeTheEncodedImage() {
        val (pixels, w, h) = rgbaFrame("images/chelsea.png")
        val encoded = model.embed(read("images/chelsea.png"))
        val frame = model.embedRgba(pixels, w, h)
        assertEquals(encoded.size, frame.size)
        assertTrue(encoded.cosineSimilarity(frame) > 0.9999f, "${encoded.cosineSimilarity(frame)}")
        assertEquals(w * h * 4, pixels.remaining(), "the caller's buffer position is untouched")
        assertFails<LedgeException.InvalidArgument>("RGBA") { model.embedRgba(pixels, w, h + 1) }
    }

    @Test
    fun cosineSimilarityIsTheCores() {
        fun e(vararg v: Float) = Embedding(v)
        assertEquals(1f, e(1f, 2f, 3f).cosineSimilarity(e(2f, 4f, 6f)), 1e-6f)
        assertEquals(-1f, e(1f, 0f).cosineSimilarity(e(-3f, 0f)), 1e-6f)
        assertEquals(0f, e(1f, 0f).cosineSimilarity(e(0f, 5f)), 1e-6f)
        assertEquals((1.0 / sqrt(2.0)).toFloat(), e(1f, 1f).cosineSimilarity(e(0f, 1f)), 1e-6f)
        assertFails<LedgeException.InvalidArgument>("same length", "2 and 3") { e(1f, 0f).cosineSimilarity(e(1f, 0f, 0f)) }
        assertFails<LedgeException.InvalidArgument>("all-zero") { e(0f, 0f).cosineSimilarity(e(1f, 0f)) }
        assertFails<LedgeException.InvalidArgument>("non-finite") { e(Float.NaN, 1f).cosineSimilarity(e(1f, 0f)) }
        assertFails<LedgeException.InvalidArgument>("same length") { e().cosineSimilarity(e(1f)) }
    }

    @Test
    fun embeddingsAreEqualByContent() {
        val a = Embedding(floatArrayOf(0.6f, 0.8f))
        val b = Embedding(floatArrayOf(0.6f, 0.8f))
        assertEquals(a, b)
        assertEquals(a.hashCode(), b.hashCode())
        assertNotEquals(a, Embedding(floatArrayOf(0.8f, 0.6f)))
        assertNotEquals(a, Embedding(floatArrayOf(0.6f, 0.8f, 0f)))
        assertEquals("Embedding(size=2, values=[0.6000, 0.8000])", a.toString())
        assertTrue(abs(a.cosineSimilarity(b) - 1f) < 1e-6f)
    }

    @Test
    fun theWrongTaskIsATaskMismatch() {
        load("efficientnet-lite0/model.onnx").use { classifier ->
            val e = assertFails<LedgeException.TaskMismatch>("task = \"classify\"") { classifier.embed(read("images/chelsea.png")) }
            assertEquals("embed", e.task)
            val (pixels, w, h) = rgbaFrame("images/chelsea.png")
            assertEquals("embed", assertFails<LedgeException.TaskMismatch> { classifier.embedRgba(pixels, w, h) }.task)
        }
        assertEquals("detect", assertFails<LedgeException.TaskMismatch> { model.detect(read("images/chelsea.png")) }.task)
    }

    private companion object {
        const val EMBED = "efficientnet-lite0-embed/model.onnx"
    }
}
