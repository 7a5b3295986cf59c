package dev.ledge

import java.io.File
import java.nio.ByteBuffer
import kotlin.math.roundToInt

/** An RGB image held as `0xRRGGBB` ints, row-major: the upright picture frames are built from in the tests. */
class Rgb(val width: Int, val height: Int, val pixels: IntArray) {
    operator fun get(x: Int, y: Int): Int = pixels[y * width + x]

    /**
     * The image a camera would store for this upright picture at [rotationDegrees]: turning the result
     * clockwise by [rotationDegrees] gives this image back (what `FrameLayout.rotationDegrees` undoes).
     */
    fun stored(rotationDegrees: Int): Rgb {
        val (sw, sh) = if (rotationDegrees % 180 == 90) height to width else width to height
        val out = IntArray(sw * sh)
        for (uy in 0 until height) for (ux in 0 until width) {
            val (sx, sy) = when (rotationDegrees) {
                0 -> ux to uy
                90 -> uy to sh - 1 - ux
                180 -> sw - 1 - ux to sh - 1 - uy
                270 -> sw - 1 - uy to ux
                else -> error("rotation $rotationDegrees")
            }
            out[sy * sw + sx] = this[ux, uy]
        }
        return Rgb(sw, sh, out)
    }

    /** Left-right mirror. */
    fun mirrored(): Rgb = Rgb(width, height, IntArray(width * height) { this[width - 1 - it % width, it / width] })

    /** Tightly packed RGBA in a direct buffer. */
    fun rgba(): ByteBuffer {
        val out = ByteBuffer.allocateDirect(width * height * 4)
        for (p in pixels) out.put((p shr 16).toByte()).put((p shr 8).toByte()).put(p.toByte()).put(-1)
        return out.flip()
    }

    /**
     * This image, as stored, in [format] with every row padded by [pad] bytes (the last row of each plane not
     * padded, as Android's buffers end right after it), YUV in BT.601 full range. I420 chroma is planar for
     * [chromaPixelStride] 1; for 2 it is Android's YUV_420_888 layout: one interleaved V, U buffer of which the
     * U plane is a view from byte 1 and the V plane a view from byte 0.
     */
    fun frame(format: PixelFormat, rotationDegrees: Int = 0, pad: Int = 0, chromaPixelStride: Int = 1): Pair<List<ByteBuffer>, FrameLayout> {
        val (w, h) = width to height
        val (cw, ch) = (w + 1) / 2 to (h + 1) / 2
        fun plane(rowBytes: Int, rows: Int, stride: Int, row: (y: Int, out: ByteBuffer) -> Unit): ByteBuffer {
            val buf = ByteBuffer.allocateDirect(stride * (rows - 1) + rowBytes)
            for (y in 0 until rows) {
                buf.position(y * stride)
                row(y, buf)
            }
            return buf.rewind()
        }
        val planes: List<ByteBuffer>
        val layouts: List<PlaneLayout>
        when (format) {
            PixelFormat.RGBA, PixelFormat.BGRA, PixelFormat.RGB -> {
                val bpp = if (format == PixelFormat.RGB) 3 else 4
                val stride = w * bpp + pad
                planes = listOf(
                    plane(w * bpp, h, stride) { y, out ->
                        for (x in 0 until w) {
                            val p = this[x, y]
                            val (r, g, b) = Triple((p shr 16).toByte(), (p shr 8).toByte(), p.toByte())
                            if (format == PixelFormat.BGRA) out.put(b).put(g).put(r) else out.put(r).put(g).put(b)
                            if (bpp == 4) out.put(-1)
                        }
                    },
                )
                layouts = listOf(PlaneLayout(stride, bpp))
            }
            else -> {
                val yStride = w + pad
                val luma = plane(w, h, yStride) { y, out -> for (x in 0 until w) out.put(yuv(this[x, y])[0].toByte()) }
                val chroma = Array(ch) { cy -> Array(cw) { cx -> chromaAt(cx, cy) } }
                when {
                    format == PixelFormat.I420 && chromaPixelStride == 1 -> {
                        val cStride = cw + pad
                        val u = plane(cw, ch, cStride) { y, out -> for (x in 0 until cw) out.put(chroma[y][x].first.toByte()) }
                        val v = plane(cw, ch, cStride) { y, out -> for (x in 0 until cw) out.put(chroma[y][x].second.toByte()) }
                        planes = listOf(luma, u, v)
                        layouts = listOf(PlaneLayout(yStride, 1), PlaneLayout(cStride, 1), PlaneLayout(cStride, 1))
                    }
                    else -> {
                        val cStride = 2 * cw + pad
                        val vuFirst = format != PixelFormat.NV12
                        val both = plane(2 * cw, ch, cStride) { y, out ->
                            for (x in 0 until cw) {
                                val (u, v) = chroma[y][x]
                                if (vuFirst) out.put(v.toByte()).put(u.toByte()) else out.put(u.toByte()).put(v.toByte())
                            }
                        }
                        if (format == PixelFormat.I420) {
                            // Android's views: V from byte 0, U from byte 1, each one byte shorter than the pair.
                            val v = both.duplicate().limit(both.capacity() - 1).slice()
                            val u = both.duplicate().position(1).slice()
                            planes = listOf(luma, u, v)
                            layouts = listOf(PlaneLayout(yStride, 1), PlaneLayout(cStride, 2), PlaneLayout(cStride, 2))
                        } else {
                            planes = listOf(luma, both)
                            layouts = listOf(PlaneLayout(yStride, 1), PlaneLayout(cStride, 2))
                        }
                    }
                }
            }
        }
        return planes to FrameLayout(format, w, h, layouts, rotationDegrees)
    }

    /** The mean U and V of the 2×2 block at chroma sample ([cx], [cy]) (fewer pixels at odd edges). */
    private fun chromaAt(cx: Int, cy: Int): Pair<Int, Int> {
        var (u, v, n) = Triple(0.0, 0.0, 0)
        for (y in 2 * cy until minOf(2 * cy + 2, height)) for (x in 2 * cx until minOf(2 * cx + 2, width)) {
            val c = yuvExact(this[x, y])
            u += c[1]
            v += c[2]
            n++
        }
        return clamp(u / n) to clamp(v / n)
    }

    companion object {
        /** An image file's pixels (8-bit gray or RGB(A), alpha dropped). */
        fun read(rel: String): Rgb {
            val image = javax.imageio.ImageIO.read(File(demo, rel))
            val raster = image.raster
            val px = IntArray(raster.numBands)
            val pixels = IntArray(image.width * image.height) {
                raster.getPixel(it % image.width, it / image.width, px)
                if (px.size < 3) px[0] * 0x10101 else (px[0] shl 16) or (px[1] shl 8) or px[2]
            }
            return Rgb(image.width, image.height, pixels)
        }

        /** Y, U, V of an RGB pixel, BT.601 full range (JFIF), unrounded. */
        private fun yuvExact(p: Int): DoubleArray {
            val (r, g, b) = Triple((p shr 16) and 255, (p shr 8) and 255, p and 255)
            return doubleArrayOf(
                0.299 * r + 0.587 * g + 0.114 * b,
                128 - 0.168736 * r - 0.331264 * g + 0.5 * b,
                128 + 0.5 * r - 0.418688 * g - 0.081312 * b,
            )
        }

        private fun yuv(p: Int): IntArray = yuvExact(p).map { clamp(it) }.toIntArray()

        private fun clamp(v: Double): Int = v.roundToInt().coerceIn(0, 255)
    }
}
