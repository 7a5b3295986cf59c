package dev.ledge

import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import java.nio.ByteBuffer
import kotlin.math.abs

/** Detection through the Kotlin API: options, boxes and keypoints, frames, wrong task, bad options. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DetectTest {
    private val ssd by lazy { load(SSD) }
    private val face by lazy { load(FACE) }

    @AfterAll
    fun closeModels() {
        ssd.close()
        face.close()
    }

    @Test
    fun detectsTheCat() {
        val found = ssd.detect(read("images/chelsea.png"))
        assertEquals(1, found.size, "$found")
        val cat = found.single()
        assertEquals("Cat", cat.label)
        assertTrue(cat.score > 0.7f, "$cat")
        assertEquals(emptyList<Point>(), cat.keypoints)
        // The cat fills the photo (451×300).
        assertTrue(iou(cat.boundingBox, BoundingBox(0f, 0f, 451f, 300f)) > 0.8f, "${cat.boundingBox}")
    }

    @Test
    fun boxesLieInsideTheImageBestFirst() {
        // A low threshold gives many boxes, some at the edges where clipping matters.
        val options = DetectOptions(scoreThreshold = 0.05f, maxResults = 50)
        var boxes = 0
        for (image in listOf("images/chelsea.png", "images/coffee.png", "images/camera.png")) {
            val (w, h) = imageSize(image)
            for (model in listOf(ssd, face)) {
                val found = model.detect(read(image), options)
                assertTrue(found.size <= 50)
                assertEquals(found.sortedByDescending { it.score }, found, "best first")
                for (d in found) {
                    val b = d.boundingBox
                    assertTrue(d.score >= 0.05f && d.score <= 1f, "$d")
                    assertTrue(b.width > 0 && b.height > 0, "$image: empty box $d")
                    assertTrue(b.x >= 0 && b.y >= 0 && b.x + b.width <= w && b.y + b.height <= h, "$image ($w×$h): $d")
                }
                boxes += found.size
            }
        }
        assertTrue(boxes >= 10, "only $boxes boxes at score ≥ 0.05")
    }

    @Test
    fun findsOneFaceWithSixKeypoints() {
        val faces = face.detect(read("images/camera.png"))
        assertEquals(1, faces.size, "$faces")
        val f = faces.single()
        assertEquals(0, f.index)
        assertEquals(6, f.keypoints.size)
        // Eyes, nose, mouth and ears lie in the face's box, widened by a quarter on each side.
        val b = f.boundingBox
        for (p in f.keypoints) {
            assertTrue(p.x in b.x - b.width / 4..b.x + b.width * 1.25f && p.y in b.y - b.height / 4..b.y + b.height * 1.25f, "$p in $b")
        }
        assertEquals(emptyList<Detection>(), face.detect(read("images/coffee.png")), "a coffee cup has no face")
    }

    @Test
    fun optionsTakeEffect() {
        val image = read("images/camera.png")
        val low = DetectOptions(scoreThreshold = 0.08f, maxResults = 1000)
        val many = ssd.detect(image, low)
        assertTrue(many.size in 26 until 1000, "${many.size}: more than the manifest's 25, fewer than asked")
        assertEquals(many.take(2), ssd.detect(image, low.copy(maxResults = 2)))
        assertEquals(25, ssd.detect(image, low.copy(maxResults = null)).size, "the manifest's max_results")
        val confident = ssd.detect(image, low.copy(scoreThreshold = 0.12f))
        assertTrue(confident.size >= 3, "$confident")
        assertEquals(many.filter { it.score >= 0.12f }, confident)
        val label = many.first().label!!
        val only = ssd.detect(image, low.copy(allowlist = listOf(label)))
        assertEquals(many.filter { it.label == label }, only)
        assertEquals(many.filter { it.label != label }, ssd.detect(image, low.copy(denylist = listOf(label))))
        assertEquals(only, ssd.detect(image, low.copy(allowlist = listOf(many.first().index.toString()))), "by index")
        // NMS: with iouThreshold 1 nothing is suppressed, with 0 no two boxes of a class overlap at all.
        val all = ssd.detect(image, low.copy(iouThreshold = 1f))
        val apart = ssd.detect(image, low.copy(iouThreshold = 0f))
        assertTrue(all.size > apart.size, "${all.size} boxes without NMS, ${apart.size} with IoU 0")
        for (a in apart) for (b in apart) if (a !== b && a.index == b.index) assertEquals(0f, iou(a.boundingBox, b.boundingBox))
    }

    @Test
    fun rgbaFramesDetectLikeTheEncodedImage() {
        val (pixels, w, h) = rgbaFrame("images/camera.png")
        for (model in listOf(ssd, face)) {
            val encoded = model.detect(read("images/camera.png"))
            val frame = model.detectRgba(pixels, w, h)
            assertEquals(1, encoded.size)
            assertEquals(encoded.map { it.index }, frame.map { it.index })
            encoded.zip(frame).forEach { (a, b) ->
                assertTrue(abs(a.score - b.score) < 1e-4f && iou(a.boundingBox, b.boundingBox) > 0.999f, "$a vs $b")
            }
            assertEquals(w * h * 4, pixels.remaining(), "the caller's buffer position is untouched")
            val heap = ByteBuffer.allocate(w * h * 4).put(pixels.duplicate()).flip()
            assertEquals(frame, model.detectRgba(heap, w, h))
        }
        assertFails<LedgeException.InvalidArgument>("RGBA") { ssd.detectRgba(pixels, w + 1, h) }
        assertFails<LedgeException.InvalidArgument>("width and height") { ssd.detectRgba(pixels, -1, h) }
    }

    @Test
    fun theWrongTaskIsATaskMismatch() {
        load("efficientnet-lite0/model.onnx").use { classifier ->
            val image = read("images/chelsea.png")
            val e = assertFails<LedgeException.TaskMismatch>("task = \"classify\"") { classifier.detect(image) }
            assertEquals("detect", e.task)
            assertTrue("call classify" in e.reason, e.reason)
            assertEquals("TaskMismatch", e.kind)
            val (pixels, w, h) = rgbaFrame("images/chelsea.png")
            assertEquals("detect", assertFails<LedgeException.TaskMismatch> { classifier.detectRgba(pixels, w, h) }.task)
        }
        val e = assertFails<LedgeException.TaskMismatch>("task = \"detect\"") { ssd.classify(read("images/chelsea.png")) }
        assertEquals("classify", e.task)
        assertEquals("embed", assertFails<LedgeException.TaskMismatch> { ssd.embed(read("images/chelsea.png")) }.task)
    }

    @Test
    fun optionsOutOfRangeAreInvalidArgument() {
        val image = read("images/chelsea.png")
        val bad = mapOf(
            DetectOptions(maxResults = 0) to "max_results must be at least 1, got 0",
            DetectOptions(maxResults = -1) to "max_results must be at least 1, got -1",
            DetectOptions(scoreThreshold = 2f) to "score_threshold must be in [0, 1], got 2",
            DetectOptions(scoreThreshold = -0.5f) to "score_threshold must be in [0, 1]",
            DetectOptions(scoreThreshold = Float.NaN) to "score_threshold must be in [0, 1], got NaN",
            DetectOptions(iouThreshold = 1.5f) to "iou_threshold must be in [0, 1], got 1.5",
            DetectOptions(iouThreshold = Float.POSITIVE_INFINITY) to "iou_threshold must be in [0, 1], got Infinity",
        )
        for ((options, message) in bad) {
            assertFails<LedgeException.InvalidArgument>(message) { ssd.detect(image, options) }
        }
        // The model still answers afterwards.
        assertEquals(1, ssd.detect(image).size)
    }

    @Test
    fun statsCountDetectionsAsRuns() {
        load(FACE).use { model ->
            model.detect(read("images/camera.png"))
            model.detect(read("images/coffee.png"))
            assertFails<LedgeException.InvalidArgument> { model.detect(read("images/camera.png"), DetectOptions(maxResults = 0)) }
            val stats = model.stats
            assertEquals(2L to 0L, stats.runs to stats.classifications, "failed calls and non-classifications")
            assertTrue(stats.p50Ms > 0)
        }
    }

    private companion object {
        const val SSD = "ssd-mobilenetv2-oid/model.onnx"
        const val FACE = "blazeface-short-range/model.onnx"
    }
}
