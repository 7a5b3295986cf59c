package dev.ledge

import kotlinx.serialization.SerialName
import kotlinx.serialization.Serializable
import java.nio.ByteBuffer
import java.util.concurrent.atomic.AtomicBoolean

/** How a camera frame's pixels are stored (the core's `PixelFormat`). */
@Serializable
enum class PixelFormat {
    /** One plane, 4 bytes a pixel: R, G, B, A (`Bitmap` ARGB_8888 copied out, CameraX `OUTPUT_IMAGE_FORMAT_RGBA_8888`). */
    @SerialName("rgba") RGBA,

    /** One plane, 4 bytes a pixel: B, G, R, A. */
    @SerialName("bgra") BGRA,

    /** One plane, 3 bytes a pixel: R, G, B. */
    @SerialName("rgb") RGB,

    /** Two planes: Y, then interleaved U, V at half resolution. */
    @SerialName("nv12") NV12,

    /** Two planes: Y, then interleaved V, U at half resolution (the camera1 API's default preview format). */
    @SerialName("nv21") NV21,

    /**
     * Three planes: Y, U, V at half resolution, each with its own row and pixel stride. This is Android's
     * `ImageFormat.YUV_420_888` (`Image`, CameraX `ImageProxy`) whatever its chroma pixel stride (1: planar,
     * 2: the U and V planes interleaved in one buffer).
     */
    @SerialName("i420") I420,
}

/** The YUV → RGB matrix of a YUV frame (ignored for RGB formats). */
@Serializable
enum class ColorMatrix {
    /** ITU-R BT.601: JPEG/JFIF and Android camera frames (the default). */
    @SerialName("bt601") BT601,

    /** ITU-R BT.709: HD video (many video decoders). */
    @SerialName("bt709") BT709,
}

/** Whether Y spans 0–255 or 16–235 (chroma 16–240) in a YUV frame (ignored for RGB formats). */
@Serializable
enum class ColorRange {
    /** 0–255: JFIF, Android camera YUV (the default). */
    @SerialName("full") FULL,

    /** 16–235 ("video" or "limited" range): most decoded video. */
    @SerialName("video") VIDEO,
}

/** The strides of one plane, in bytes: what Android's `Image.Plane` reports. */
@Serializable
data class PlaneLayout(
    /** Bytes from the start of one row to the start of the next (`Plane.getRowStride()`). */
    val rowStride: Int,
    /**
     * Bytes from one sample to the next within a row (`Plane.getPixelStride()`): 4 for RGBA and BGRA, 3 for
     * RGB, 1 for Y, 2 for an NV12/NV21 chroma plane, 1 or 2 (any ≥ 1) for an I420 chroma plane.
     */
    val pixelStride: Int,
)

/**
 * Everything about a camera frame except its bytes (the core's `FrameLayout`): format, stored size, plane
 * strides, the rotation that turns it upright, mirror, colour, and the region to look at. Crosses to the
 * core as JSON written by kotlinx.serialization (the same JSON the shared frame vectors use).
 *
 * Sizes are the frame **as stored** (the sensor's orientation); results come back in pixels of the
 * **upright** frame (rotated, then mirrored): [uprightWidth] × [uprightHeight].
 *
 * ```
 * // A 640×480 YUV_420_888 frame from a sensor mounted at 90°: results are in 480×640 upright pixels.
 * FrameLayout(PixelFormat.I420, 640, 480, planes.map { PlaneLayout(it.rowStride, it.pixelStride) }, rotationDegrees = 90)
 * ```
 */
@Serializable
data class FrameLayout(
    /** How the pixels are stored. */
    val format: PixelFormat,
    /** Stored width in pixels (before rotation). */
    val width: Int,
    /** Stored height in pixels (before rotation). */
    val height: Int,
    /**
     * One entry per plane in the format's order (Y, U, V / Y, UV / one packed plane), or empty when every
     * plane is tightly packed (row stride = width × bytes per sample; chroma planes ⌈width/2⌉ samples wide).
     */
    val planes: List<PlaneLayout> = emptyList(),
    /**
     * The clockwise rotation, in degrees, that turns the stored frame upright: 0, 90, 180 or 270. Exactly
     * what CameraX's `ImageInfo.getRotationDegrees()` says (for `android.media.Image`, compute it from the
     * sensor orientation and the display rotation).
     */
    val rotationDegrees: Int = 0,
    /** Mirror the upright frame left to right (after rotating), as a front camera's preview shows it; results are then mirrored too. */
    val mirror: Boolean = false,
    /** YUV formats: the colour matrix (default BT.601, as Android camera frames). */
    val colorMatrix: ColorMatrix = ColorMatrix.BT601,
    /** YUV formats: full or video range (default full, as Android camera frames). */
    val colorRange: ColorRange = ColorRange.FULL,
    /**
     * The part of the upright frame to look at, in its pixels (after rotation and mirror); null for all of it.
     * It must lie inside the upright frame and be at least 1×1. Results still come back in the whole upright
     * frame's pixels.
     */
    val region: BoundingBox? = null,
) {
    /** Width of the upright frame, pixels: [height] for 90° and 270°, else [width]. */
    val uprightWidth: Int get() = if (rotationDegrees % 180 == 90) height else width

    /** Height of the upright frame, pixels. */
    val uprightHeight: Int get() = if (rotationDegrees % 180 == 90) width else height
}

/**
 * A camera frame with its capture timestamp and what releases it: the unit a [LedgeLiveStream] takes, and
 * what the Android adapters (`Image.toCameraFrame`, `ImageProxy.toCameraFrame`, `Bitmap.toCameraFrame` in
 * `dev.ledge.android`) return. [close] runs [onRelease] once (e.g. `ImageProxy.close()`), and is
 * idempotent and thread-safe.
 *
 * The planes are read in place while the frame is open: don't write them, and don't use them after [close]
 * (an `Image`'s buffers are freed by its `close()`).
 */
class CameraFrame @JvmOverloads constructor(
    /** The planes, in the format's order, each read from its position to its limit (see [LedgeModel.classifyFrame]). */
    val planes: List<ByteBuffer>,
    /** Format, size, strides, rotation, colour and region. */
    val layout: FrameLayout,
    /** The capture time in nanoseconds as the camera reports it (`ImageInfo.getTimestamp()`, `Image.getTimestamp()`), carried to the result. */
    val timestampNanos: Long = 0,
    private val onRelease: Runnable? = null,
) : AutoCloseable {
    private val released = AtomicBoolean(false)

    /** True once [close] has run. */
    val isClosed: Boolean get() = released.get()

    /** Releases the frame (runs the release action once); later calls do nothing. */
    override fun close() {
        if (released.compareAndSet(false, true)) onRelease?.run()
    }

    override fun toString(): String =
        "CameraFrame(${layout.format} ${layout.width}×${layout.height}, ${layout.rotationDegrees}°, t=$timestampNanos ns${if (isClosed) ", closed" else ""})"
}
