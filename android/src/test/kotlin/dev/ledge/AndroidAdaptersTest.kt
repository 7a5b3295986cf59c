package dev.ledge

import android.graphics.ImageFormat
import android.media.Image
import dev.ledge.android.toCameraFrame
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import java.nio.ByteBuffer
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import android.graphics.PixelFormat as AndroidPixelFormat

/**
 * The `android.media.Image` adapter (src/android/kotlin), compiled against Robolectric's android-all jar and
 * run here on fake Images laid out as Android's camera lays them out. (`Bitmap.toCameraFrame` compiles here
 * but cannot run: a Bitmap needs Android's native graphics library. `ImageProxy.toCameraFrame` is compiled by
 * the Gradle build only; it reads the same fields and calls the same code as `Image.toCameraFrame`.)
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AndroidAdaptersTest {
    private val model by lazy { load("efficientnet-lite0/model.onnx") }
    private val cat by lazy { Rgb.read("images/chelsea.png") }
    private val expected by lazy { model.classifyRgba(cat.rgba(), cat.width, cat.height, 1)[0] }

    @AfterAll
    fun closeModel() = model.close()

    /** An `Image` as a camera's `ImageReader` hands it out: planes, strides, timestamp; counts its `close()`s. */
    private class FakeImage(
        private val format: Int,
        private val width: Int,
        private val height: Int,
        private val timestamp: Long,
        private val planes: List<Pair<ByteBuffer, PlaneLayout>>,
    ) : Image() {
        var closes = 0

        override fun getFormat(): Int = format
        override fun getWidth(): Int = width
        override fun getHeight(): Int = height
        override fun getTimestamp(): Long = timestamp
        override fun getTransform(): Int = 0
        override fun getScalingMode(): Int = 0
        override fun getPlanes(): Array<Plane> = planes.map { (buffer, layout) ->
            object : Plane() {
                override fun getRowStride(): Int = layout.rowStride
                override fun getPixelStride(): Int = layout.pixelStride
                override fun getBuffer(): ByteBuffer = buffer
            }
        }.toTypedArray()
        override fun close() {
            closes++
        }
    }

    private fun image(format: Int, frame: Pair<List<ByteBuffer>, FrameLayout>, timestamp: Long): FakeImage {
        val (planes, layout) = frame
        return FakeImage(format, layout.width, layout.height, timestamp, planes.zip(layout.planes))
    }

    @Test
    fun aYuv420888ImageIsReadAsI420WithItsStrides() {
        // Android's YUV_420_888 from a sensor mounted at 90°: rows padded, U and V interleaved in one buffer.
        val image = image(ImageFormat.YUV_420_888, cat.stored(90).frame(PixelFormat.I420, 90, pad = 32, chromaPixelStride = 2), 123_456_789L)
        val frame = image.toCameraFrame(rotationDegrees = 90)
        assertEquals(
            FrameLayout(PixelFormat.I420, 300, 451, listOf(PlaneLayout(332, 1), PlaneLayout(332, 2), PlaneLayout(332, 2)), 90),
            frame.layout,
        )
        assertEquals(123_456_789L, frame.timestampNanos)
        val got = model.classifyFrame(frame, 1)[0]
        assertEquals(expected.index, got.index)
        assertTrue(kotlin.math.abs(expected.score - got.score) <= 0.05f, "$got vs $expected")
        assertEquals(0, image.closes)
        frame.close()
        frame.close()
        assertEquals(1, image.closes, "closing the frame closes the image once")
    }

    @Test
    fun anRgba8888ImageIsReadWithItsRowStride() {
        val image = image(AndroidPixelFormat.RGBA_8888, cat.stored(270).frame(PixelFormat.RGBA, 270, pad = 64), 7L)
        val frame = image.toCameraFrame(rotationDegrees = 270, mirror = false)
        assertEquals(PixelFormat.RGBA to listOf(PlaneLayout(300 * 4 + 64, 4)), frame.layout.format to frame.layout.planes)
        val got = model.classifyFrame(frame, 1)[0]
        assertTrue(got.index == expected.index && kotlin.math.abs(expected.score - got.score) <= 0.01f, "$got vs $expected")
        frame.close()
        assertEquals(1, image.closes)
    }

    @Test
    fun aLiveStreamClosesTheImageWhenTheModelIsDone() {
        val executor = Executors.newSingleThreadExecutor()
        try {
            val results = mutableListOf<LiveResult<List<Prediction>>>()
            val stream = LedgeLiveStream.classify(model, executor, topK = 1) { synchronized(results) { results += it } }
            val image = image(ImageFormat.YUV_420_888, cat.stored(180).frame(PixelFormat.I420, 180, pad = 8, chromaPixelStride = 2), 99L)
            assertTrue(stream.submit(image.toCameraFrame(rotationDegrees = 180)))
            stream.close()
            assertTrue(stream.awaitTermination(2, TimeUnit.MINUTES))
            assertEquals(1, image.closes)
            val result = synchronized(results) { results.single() }
            assertTrue(result is LiveResult.Success && result.value[0].index == expected.index && result.timestampNanos == 99L, "$result")
        } finally {
            executor.shutdown()
        }
    }

    @Test
    fun anotherFormatIsRefusedAndTheImageStaysOpen() {
        val image = FakeImage(ImageFormat.JPEG, 451, 300, 0, listOf(ByteBuffer.allocateDirect(10) to PlaneLayout(0, 0)))
        assertFails<LedgeException.InvalidArgument>("an image of format 256 cannot be read as a frame", "YUV_420_888 (35", "RGBA_8888 (1") {
            image.toCameraFrame(rotationDegrees = 0)
        }
        assertEquals(0, image.closes)
    }
}
