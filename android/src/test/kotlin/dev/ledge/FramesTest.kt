package dev.ledge

import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestFactory
import org.junit.jupiter.api.TestInstance
import java.nio.ByteBuffer
import kotlin.math.abs

/**
 * Camera frames through the Kotlin API (classifyFrame, detectFrame, embedFrame), built here from the test
 * photos: every format, odd sizes, padded strides, Android's interleaved YUV_420_888, each rotation, mirror
 * and region, positions and limits, heap buffers; and every way a frame can be wrong.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FramesTest {
    private val classifier by lazy { load("efficientnet-lite0/model.onnx") }
    private val detector by lazy { load("ssd-mobilenetv2-oid/model.onnx") }
    private val embedder by lazy { load("efficientnet-lite0-embed/model.onnx") }

    /** chelsea.png, 451×300: an odd width, so chroma planes have a half-covered last column. */
    private val cat by lazy { Rgb.read("images/chelsea.png") }
    private val upright by lazy { classifier.classifyRgba(cat.rgba(), cat.width, cat.height, 3) }

    @AfterAll
    fun closeModels() = listOf(classifier, detector, embedder).forEach { it.close() }

    /**
     * 7 layouts × 4 rotations give the upright image's top-1. RGB layouts are lossless: at 0° and 180° the score
     * is the upright one's, at 90° and 270° the resize filters the stored rows and columns in the other order
     * (measured Δp 0.003), hence 0.01. YUV layouts lose chroma detail (4:2:0) and round to 8 bits, so they get
     * the tolerance the shared frame vectors justify (0.05 here; frames.json uses 0.103 for its smaller images).
     */
    @TestFactory
    fun everyFormatAndRotationClassifiesLikeTheUprightImage(): List<DynamicTest> {
        val layouts = listOf(
            Triple(PixelFormat.RGBA, 0, 1), Triple(PixelFormat.BGRA, 12, 1), Triple(PixelFormat.RGB, 5, 1),
            Triple(PixelFormat.NV12, 0, 1), Triple(PixelFormat.NV21, 7, 1), Triple(PixelFormat.I420, 3, 1),
            Triple(PixelFormat.I420, 16, 2),
        )
        return layouts.flatMap { (format, pad, chroma) ->
            listOf(0, 90, 180, 270).map { rotation ->
                DynamicTest.dynamicTest("$format/pad $pad/chroma stride $chroma/$rotation°") {
                    val (planes, layout) = cat.stored(rotation).frame(format, rotation, pad, chroma)
                    assertEquals(cat.width to cat.height, layout.uprightWidth to layout.uprightHeight)
                    val got = classifier.classifyFrame(planes, layout, 3)
                    val tolerance = if (format in setOf(PixelFormat.RGBA, PixelFormat.BGRA, PixelFormat.RGB)) 0.01f else 0.05f
                    println("frame $format pad $pad chroma $chroma $rotation°: top-1 ${got[0]} vs ${upright[0]}")
                    assertEquals(upright[0].index, got[0].index, "$got vs $upright")
                    assertTrue(abs(got[0].score - upright[0].score) <= tolerance, "$got vs $upright")
                    planes.forEach { assertEquals(0, it.position(), "plane positions are untouched") }
                }
            }
        }
    }

    /** Boxes come back in upright-frame pixels whatever the rotation; mirrored with the frame; inside a region. */
    @Test
    fun detectionBoxesAreInUprightPixels() {
        val expected = detector.detectRgba(cat.rgba(), cat.width, cat.height).single()
        for (rotation in listOf(0, 90, 180, 270)) {
            val (planes, layout) = cat.stored(rotation).frame(PixelFormat.I420, rotation, pad = 8, chromaPixelStride = 2)
            val got = detector.detectFrame(planes, layout).single()
            assertEquals(expected.index, got.index)
            assertTrue(iou(expected.boundingBox, got.boundingBox) >= 0.9f, "$rotation°: ${got.boundingBox} vs ${expected.boundingBox}")
            assertTrue(abs(expected.score - got.score) <= 0.06f, "$rotation°: $got vs $expected")
        }
        // A front camera: the stored frame is the mirror image; mirror = true shows (and boxes) the picture.
        val mirroredCat = cat.mirrored()
        val (planes, layout) = mirroredCat.stored(90).frame(PixelFormat.NV21, 90)
        val plain = detector.detectFrame(planes, layout).single().boundingBox
        val mirrored = detector.detectFrame(planes, layout.copy(mirror = true)).single().boundingBox
        val flipped = BoundingBox(cat.width - plain.x - plain.width, plain.y, plain.width, plain.height)
        assertTrue(iou(mirrored, flipped) >= 0.9f, "mirror: $mirrored vs $flipped")
        assertTrue(iou(mirrored, expected.boundingBox) >= 0.9f, "mirror: $mirrored vs ${expected.boundingBox}")
        // A region: boxes stay in the whole upright frame's pixels, inside the region.
        val region = BoundingBox(150f, 40f, 280f, 250f)
        val (rotated, rotatedLayout) = cat.stored(270).frame(PixelFormat.NV12, 270)
        val inRegion = detector.detectFrame(rotated, rotatedLayout.copy(region = region), DetectOptions(scoreThreshold = 0.2f))
        assertTrue(inRegion.isNotEmpty(), "the cat's head is in the region")
        for (d in inRegion) {
            val b = d.boundingBox
            assertTrue(b.x >= region.x - 0.5f && b.y >= region.y - 0.5f, "$b starts inside $region")
            assertTrue(b.x + b.width <= region.x + region.width + 0.5f && b.y + b.height <= region.y + region.height + 0.5f, "$b ends inside $region")
        }
    }

    @Test
    fun aRegionIsClassifiedAsTheCropOfTheUprightImage() {
        val whole = BoundingBox(0f, 0f, cat.width.toFloat(), cat.height.toFloat())
        val (planes, layout) = cat.stored(90).frame(PixelFormat.RGBA, 90)
        assertEquals(classifier.classifyFrame(planes, layout, 3), classifier.classifyFrame(planes, layout.copy(region = whole), 3))
        // The crop as its own image.
        val (x, y, w, h) = listOf(120, 30, 240, 220)
        val crop = Rgb(w, h, IntArray(w * h) { cat[x + it % w, y + it / w] })
        val expected = classifier.classifyRgba(crop.rgba(), w, h, 1)[0]
        val got = classifier.classifyFrame(planes, layout.copy(region = BoundingBox(x.toFloat(), y.toFloat(), w.toFloat(), h.toFloat())), 1)[0]
        assertEquals(expected.index, got.index)
        // Resampled from the stored (turned) pixels, not from a cropped copy: Δp 0.008 measured.
        assertTrue(abs(expected.score - got.score) <= 0.02f, "$got vs $expected")
    }

    @Test
    fun embeddingsOfFramesMatchTheUprightImage() {
        val expected = embedder.embedRgba(cat.rgba(), cat.width, cat.height)
        for (rotation in listOf(90, 270)) {
            val (planes, layout) = cat.stored(rotation).frame(PixelFormat.NV21, rotation, pad = 4)
            val got = embedder.embedFrame(planes, layout)
            assertEquals(expected.size, got.size)
            assertTrue(got.cosineSimilarity(expected) >= 0.98f, "$rotation°: cosine ${got.cosineSimilarity(expected)}")
        }
    }

    /** Each plane is read from its position to its limit; heap buffers and wrapped arrays are copied. */
    @Test
    fun positionsLimitsAndHeapBuffersAreRespected() {
        val (planes, layout) = cat.stored(180).frame(PixelFormat.NV21, 180, pad = 2)
        val expected = classifier.classifyFrame(planes, layout, 3)
        // The same bytes with junk around them in a bigger direct buffer.
        val shifted = planes.map { p ->
            val big = ByteBuffer.allocateDirect(p.remaining() + 100)
            repeat(37) { big.put(0x55) }
            big.put(p.duplicate())
            repeat(63) { big.put(-1) }
            big.position(37).limit(37 + p.remaining())
        }
        assertEquals(expected, classifier.classifyFrame(shifted, layout, 3))
        shifted.forEach { assertEquals(37, it.position(), "the caller's position is untouched") }
        val heap = planes.map { ByteBuffer.allocate(it.remaining()).put(it.duplicate()).flip() }
        assertEquals(expected, classifier.classifyFrame(heap, layout, 3))
        val wrapped = planes.map { p -> ByteBuffer.wrap(ByteArray(p.remaining()).also { p.duplicate().get(it) }) }
        assertEquals(expected, classifier.classifyFrame(wrapped, layout, 3))
        // A limit one byte short of the plane is a short plane.
        val cut = listOf(planes[0], planes[1].duplicate().limit(planes[1].limit() - 1))
        assertFails<LedgeException.InvalidArgument>("plane 1 of a 451×300 NV21 frame", "got ${planes[1].limit() - 1}") {
            classifier.classifyFrame(cut, layout)
        }
    }

    @Test
    fun aCameraFrameIsReadWhileOpen() {
        var released = 0
        val (planes, layout) = cat.stored(90).frame(PixelFormat.I420, 90, chromaPixelStride = 2)
        val frame = CameraFrame(planes, layout, timestampNanos = 42) { released++ }
        assertEquals(upright[0].index, classifier.classifyFrame(frame, 1)[0].index)
        assertEquals(1, detector.detectFrame(frame).size, "one cat")
        assertEquals(1280, embedder.embedFrame(frame).size)
        assertEquals(0, released, "a direct call leaves the frame open")
        frame.close()
        frame.close()
        assertEquals(1, released, "close releases once")
        assertFails<IllegalStateException>("the CameraFrame is closed") { classifier.classifyFrame(frame) }
        assertFails<IllegalStateException>("closed") { detector.detectFrame(frame) }
        assertFails<IllegalStateException>("closed") { embedder.embedFrame(frame) }
    }

    /** The frame quick start of android/README.md, verbatim between the markers, and its output. */
    @Test
    fun frameQuickStart() {
        val (planes, stored) = cat.stored(90).frame(PixelFormat.NV21, 90)
        val (y, vu) = planes
        val (width, height) = stored.width to stored.height
        val modelPath = java.io.File(demo, "efficientnet-lite0/model.onnx").path
        val detectorPath = java.io.File(demo, "ssd-mobilenetv2-oid/model.onnx").path
        val lines = mutableListOf<String>()
        fun println(s: Any) { lines += s.toString(); kotlin.io.println(s) }
        // frame snippet begins
        val layout = FrameLayout(PixelFormat.NV21, width, height, rotationDegrees = 90)  // stored 300×451, upright 451×300
        LedgeModel.fromFile(modelPath).use { model ->
            val top = model.classifyFrame(listOf(y, vu), layout, topK = 1)[0]
            println("${top.label}: ${"%.2f".format(top.score)}")
        }
        LedgeModel.fromFile(detectorPath).use { detector ->
            val box = detector.detectFrame(listOf(y, vu), layout).first().boundingBox
            println("cat at x=${box.x.toInt()} y=${box.y.toInt()}, ${box.width.toInt()}×${box.height.toInt()} upright pixels")
        }
        // frame snippet ends
        assertEquals(2, lines.size, "$lines")
        assertTrue(lines[0].startsWith("${upright[0].label}: 0."), lines[0])
        assertTrue(Regex("""cat at x=\d y=\d, 4\d\d×29\d upright pixels""").matches(lines[1]), lines[1])
        val readme = java.io.File("README.md").readText()
        val snippet = Regex("""(?s)// frame snippet begins\n(.*?)\n\s*// frame snippet ends""")
            .find(java.io.File("src/test/kotlin/dev/ledge/FramesTest.kt").readText())!!.groupValues[1].trimIndent()
        assertTrue(snippet in readme, "android/README.md lacks:\n$snippet")
        assertTrue(lines.joinToString("\n") in readme, "android/README.md lacks the output:\n${lines.joinToString("\n")}")
    }

    /** Every way a frame can be wrong is a typed exception whose message says what was expected. */
    @Test
    fun badFramesAreTypedErrorsWithClearMessages() {
        val (planes, layout) = cat.frame(PixelFormat.NV21, pad = 4)
        val m = classifier
        assertFails<LedgeException.InvalidArgument>("an NV21 frame has 2 plane(s), got 1", "Y, then interleaved VU") {
            m.classifyFrame(planes.take(1), layout)
        }
        assertFails<LedgeException.InvalidArgument>("has 3 plane(s), got 2") { m.classifyFrame(planes, layout.copy(format = PixelFormat.I420)) }
        assertFails<LedgeException.InvalidArgument>("the layout describes 1") { m.classifyFrame(planes, layout.copy(planes = layout.planes.take(1))) }
        val short = listOf(planes[0].duplicate().limit(1000), planes[1])
        assertFails<LedgeException.InvalidArgument>("plane 0 of a 451×300 NV21 frame with row stride 455 needs at least ${455 * 299 + 451} bytes, got 1000") {
            m.classifyFrame(short, layout)
        }
        assertFails<LedgeException.InvalidArgument>("plane 0 of a 451×300 NV21 frame needs a row stride of at least 451 bytes, got 450") {
            m.classifyFrame(planes, layout.copy(planes = listOf(PlaneLayout(450, 1), layout.planes[1])))
        }
        assertFails<LedgeException.InvalidArgument>("plane 1 of an NV21 frame must have pixel stride 2, got 1") {
            m.classifyFrame(planes, layout.copy(planes = listOf(layout.planes[0], PlaneLayout(456, 1))))
        }
        assertFails<LedgeException.InvalidArgument>("rotation_degrees must be 0, 90, 180 or 270", "got 45") {
            m.classifyFrame(planes, layout.copy(rotationDegrees = 45))
        }
        assertFails<LedgeException.InvalidArgument>("rotationDegrees must be 0, 90, 180 or 270", "got -90") {
            m.classifyFrame(planes, layout.copy(rotationDegrees = -90))
        }
        assertFails<LedgeException.InvalidArgument>("lie inside the upright 300×451 frame (after rotation by 90°)") {
            m.classifyFrame(planes, layout.copy(rotationDegrees = 90, region = BoundingBox(0f, 0f, 451f, 300f)))
        }
        assertFails<LedgeException.InvalidArgument>("must be at least 1×1") {
            m.classifyFrame(planes, layout.copy(region = BoundingBox(10f, 10f, 0.5f, 20f)))
        }
        assertFails<LedgeException.InvalidArgument>("the region", "NaN") {
            m.classifyFrame(planes, layout.copy(region = BoundingBox(Float.NaN, 0f, 10f, 10f)))
        }
        assertFails<LedgeException.InvalidArgument>("width and height must be ≥ 0, got -451×300") { m.classifyFrame(planes, layout.copy(width = -451)) }
        assertFails<LedgeException.InvalidArgument>("plane 1 has a negative stride") {
            m.classifyFrame(planes, layout.copy(planes = listOf(layout.planes[0], PlaneLayout(-1, 2))))
        }
        assertFails<LedgeException.ImageDecode> { m.classifyFrame(planes, layout.copy(width = 0)) }
        assertFails<LedgeException.InvalidArgument>("at least 1") { m.classifyFrame(planes, layout, topK = 0) }
        load("efficientnet-lite0/model.onnx", LoadOptions(limits = Limits(maxImagePixels = 10_000))).use {
            val e = assertFails<LedgeException.LimitExceeded> { it.classifyFrame(planes, layout) }
            assertEquals("max_image_pixels" to 135_300L, e.limit to e.value)
        }
        assertEquals("detect", assertFails<LedgeException.TaskMismatch> { m.detectFrame(planes, layout) }.task)
        assertEquals("embed", assertFails<LedgeException.TaskMismatch> { m.embedFrame(planes, layout) }.task)
        assertEquals("classify", assertFails<LedgeException.TaskMismatch> { detector.classifyFrame(planes, layout) }.task)
        assertFails<LedgeException.InvalidArgument>("max_results must be at least 1") {
            detector.detectFrame(planes, layout, DetectOptions(maxResults = 0))
        }
        // The model still answers, and a closed one says so.
        assertEquals(upright[0].index, m.classifyFrame(planes, layout, 1)[0].index)
        val closed = load("efficientnet-lite0/model.onnx").also { it.close() }
        assertFails<IllegalStateException>("LedgeModel is closed") { closed.classifyFrame(planes, layout) }
    }

    /** The Kotlin layout's JSON is the core's (and the shared vectors'): camelCase, lowercase enum names. */
    @Test
    fun theLayoutCrossesAsTheCoresJson() {
        val layout = FrameLayout(
            PixelFormat.I420, 640, 480, listOf(PlaneLayout(640, 1), PlaneLayout(320, 2), PlaneLayout(320, 2)),
            rotationDegrees = 270, mirror = true, colorMatrix = ColorMatrix.BT709, colorRange = ColorRange.VIDEO,
            region = BoundingBox(1f, 2f, 3f, 4f),
        )
        assertEquals(
            """{"format":"i420","width":640,"height":480,"planes":[{"rowStride":640,"pixelStride":1},""" +
                """{"rowStride":320,"pixelStride":2},{"rowStride":320,"pixelStride":2}],"rotationDegrees":270,""" +
                """"mirror":true,"colorMatrix":"bt709","colorRange":"video","region":{"x":1.0,"y":2.0,"width":3.0,"height":4.0}}""",
            Codec.options(layout).decodeToString(),
        )
        assertEquals(480 to 640, layout.uprightWidth to layout.uprightHeight)
    }

    /** Video range and BT.709 reach the core: the same frame read with another matrix or range classifies differently. */
    @Test
    fun colourMatrixAndRangeTakeEffect() {
        val (planes, layout) = cat.frame(PixelFormat.NV12)
        val full = classifier.classifyFrame(planes, layout, 1)[0]
        val video = classifier.classifyFrame(planes, layout.copy(colorRange = ColorRange.VIDEO), 1)[0]
        val bt709 = classifier.classifyFrame(planes, layout.copy(colorMatrix = ColorMatrix.BT709), 1)[0]
        assertTrue(abs(full.score - video.score) > 1e-3f || full.index != video.index, "video range: $video vs $full")
        assertTrue(abs(full.score - bt709.score) > 1e-4f || full.index != bt709.index, "BT.709: $bt709 vs $full")
    }
}
