// Android-only adapters: compiled into the AAR by Gradle, and on the desktop JVM by Maven against
// Robolectric's android-all jar (scope provided), where the tests run them on fake Images.
package dev.ledge.android

import android.graphics.Bitmap
import android.graphics.ImageFormat
import android.media.Image
import dev.ledge.BoundingBox
import dev.ledge.CameraFrame
import dev.ledge.FrameLayout
import dev.ledge.LedgeException
import dev.ledge.PixelFormat
import dev.ledge.PlaneLayout
import java.nio.ByteBuffer
import android.graphics.PixelFormat as AndroidPixelFormat

/** One plane of an Android image as its API reports it (`Image.Plane`, CameraX `ImageProxy.PlaneProxy`). */
internal class AndroidPlane(val buffer: ByteBuffer, val rowStride: Int, val pixelStride: Int)

/**
 * The [CameraFrame] of an Android image of [format] (`ImageFormat.YUV_420_888` → [PixelFormat.I420],
 * `PixelFormat.RGBA_8888` → [PixelFormat.RGBA]) with each plane's own strides, released by [release].
 */
internal fun cameraFrame(
    format: Int,
    width: Int,
    height: Int,
    planes: List<AndroidPlane>,
    rotationDegrees: Int,
    mirror: Boolean,
    region: BoundingBox?,
    timestampNanos: Long,
    release: Runnable,
): CameraFrame {
    val pixelFormat = when (format) {
        ImageFormat.YUV_420_888 -> PixelFormat.I420
        AndroidPixelFormat.RGBA_8888 -> PixelFormat.RGBA
        else -> throw LedgeException.InvalidArgument(
            "invalid argument: an image of format $format cannot be read as a frame: use ImageFormat.YUV_420_888 " +
                "(${ImageFormat.YUV_420_888}, CameraX ImageAnalysis' default) or PixelFormat.RGBA_8888 " +
                "(${AndroidPixelFormat.RGBA_8888}, ImageAnalysis.OUTPUT_IMAGE_FORMAT_RGBA_8888)",
        )
    }
    val layout = FrameLayout(
        format = pixelFormat,
        width = width,
        height = height,
        planes = planes.map { PlaneLayout(it.rowStride, it.pixelStride) },
        rotationDegrees = rotationDegrees,
        mirror = mirror,
        region = region,
    )
    return CameraFrame(planes.map { it.buffer }, layout, timestampNanos, release)
}

/**
 * This image as a [CameraFrame] read in place: `YUV_420_888` as [PixelFormat.I420] (each plane's row and pixel
 * stride as the image reports them, so both planar and interleaved chroma work), `RGBA_8888` as
 * [PixelFormat.RGBA] with the plane's row stride. The frame carries [Image.getTimestamp] and closes the image
 * when it is closed (a [dev.ledge.LedgeLiveStream] does that as soon as the model is done with it).
 *
 * An `Image` does not know its rotation: pass [rotationDegrees], the clockwise turn that makes it upright
 * (from the sensor orientation and the display rotation, as CameraX's `getRotationDegrees()` computes it).
 * The image's crop rectangle is not applied; give a [region] in upright pixels instead. Throws
 * [LedgeException.InvalidArgument] for any other format (the image stays open).
 */
@JvmOverloads
fun Image.toCameraFrame(rotationDegrees: Int = 0, mirror: Boolean = false, region: BoundingBox? = null): CameraFrame =
    cameraFrame(
        format, width, height, planes.map { AndroidPlane(it.buffer, it.rowStride, it.pixelStride) },
        rotationDegrees, mirror, region, timestamp,
    ) { close() }

/**
 * This bitmap's pixels as an RGBA [CameraFrame]: **copied** once into a direct buffer
 * (`copyPixelsToBuffer`, [Bitmap.getRowBytes] per row), so the bitmap may be recycled or changed afterwards
 * and closing the frame does nothing to it. The bitmap must be `ARGB_8888` (whose bytes are R, G, B, A in
 * memory; alpha is premultiplied, so a translucent pixel is darker: opaque photos and camera frames are
 * unaffected); convert another with `copy(Bitmap.Config.ARGB_8888, false)`, or [LedgeException.InvalidArgument].
 */
@JvmOverloads
fun Bitmap.toCameraFrame(
    rotationDegrees: Int = 0,
    mirror: Boolean = false,
    region: BoundingBox? = null,
    timestampNanos: Long = 0,
): CameraFrame {
    if (config != Bitmap.Config.ARGB_8888) {
        throw LedgeException.InvalidArgument(
            "invalid argument: a Bitmap must be ARGB_8888 to be read as RGBA, got $config: convert it with " +
                "copy(Bitmap.Config.ARGB_8888, false)",
        )
    }
    val pixels = ByteBuffer.allocateDirect(rowBytes * height)
    copyPixelsToBuffer(pixels)
    pixels.rewind()
    val layout = FrameLayout(
        format = PixelFormat.RGBA,
        width = width,
        height = height,
        planes = listOf(PlaneLayout(rowBytes, 4)),
        rotationDegrees = rotationDegrees,
        mirror = mirror,
        region = region,
    )
    return CameraFrame(listOf(pixels), layout, timestampNanos)
}
