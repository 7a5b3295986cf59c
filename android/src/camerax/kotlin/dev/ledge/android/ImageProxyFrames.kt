// CameraX adapter: compiled by the Gradle (Android) build only, against androidx.camera:camera-core
// (compileOnly: apps that use CameraX bring it). The desktop-JVM build cannot reach Google's Maven
// repository; what this adapter does besides reading ImageProxy's fields is cameraFrame(), which the
// desktop tests run through Image.toCameraFrame.
package dev.ledge.android

import androidx.camera.core.ImageProxy
import dev.ledge.BoundingBox
import dev.ledge.CameraFrame

/**
 * This CameraX frame as a [CameraFrame] read in place, with the rotation CameraX computed
 * (`imageInfo.rotationDegrees`) and its timestamp (`imageInfo.timestamp`, nanoseconds). `YUV_420_888`
 * (ImageAnalysis' default output) becomes [dev.ledge.PixelFormat.I420] with each plane's row and pixel stride;
 * `RGBA_8888` (`OUTPUT_IMAGE_FORMAT_RGBA_8888`) becomes [dev.ledge.PixelFormat.RGBA] with the plane's row
 * stride. Closing the frame closes the proxy: submit it to a [dev.ledge.LedgeLiveStream] (which closes it as
 * soon as the model is done), or `use { }` it around a direct call:
 *
 * ```
 * imageAnalysis.setAnalyzer(executor) { proxy ->
 *     proxy.toCameraFrame().use { frame -> show(model.classifyFrame(frame, topK = 1)) }
 * }
 * ```
 *
 * Set [mirror] for a front camera whose preview is mirrored, so boxes match the screen. The proxy's crop
 * rectangle is not applied; give a [region] in upright pixels instead. Throws
 * [dev.ledge.LedgeException.InvalidArgument] for another format (the proxy stays open).
 */
@JvmOverloads
fun ImageProxy.toCameraFrame(mirror: Boolean = false, region: BoundingBox? = null): CameraFrame =
    cameraFrame(
        format, width, height, planes.map { AndroidPlane(it.buffer, it.rowStride, it.pixelStride) },
        imageInfo.rotationDegrees, mirror, region, imageInfo.timestamp,
    ) { close() }
