package dev.ledge

import java.io.File
import java.nio.ByteBuffer

/**
 * The JNI entry points of `libledge_jni` (crate `ledge-jni`). Structured values cross as byte arrays in
 * the format of [Codec] (options, frame layouts and the core's reports as JSON), embeddings as float arrays,
 * a camera frame's planes as direct buffers read in place; model handles
 * are native pointers owned by [LedgeModel], store handles native pointers owned by [LedgeModelStore].
 */
internal object Native {
    @JvmStatic external fun loadBytes(model: ByteArray, options: ByteArray): Long
    @JvmStatic external fun loadFile(path: String, options: ByteArray): Long
    @JvmStatic external fun free(handle: Long)
    @JvmStatic external fun classify(handle: Long, encoded: ByteArray, topK: Int): ByteArray
    @JvmStatic external fun classifyBatch(handle: Long, images: ByteArray, topK: Int): ByteArray
    @JvmStatic external fun classifyRgba(handle: Long, pixels: ByteBuffer, width: Int, height: Int, topK: Int): ByteArray
    @JvmStatic external fun classifyTensor(handle: Long, tensor: ByteArray, topK: Int): ByteArray
    @JvmStatic external fun detect(handle: Long, encoded: ByteArray, options: ByteArray): ByteArray
    @JvmStatic external fun detectRgba(handle: Long, pixels: ByteBuffer, width: Int, height: Int, options: ByteArray): ByteArray
    @JvmStatic external fun embed(handle: Long, encoded: ByteArray): FloatArray
    @JvmStatic external fun embedRgba(handle: Long, pixels: ByteBuffer, width: Int, height: Int): FloatArray
    @JvmStatic external fun classifyFrame(handle: Long, planes: Array<ByteBuffer>, layout: ByteArray, topK: Int): ByteArray
    @JvmStatic external fun detectFrame(handle: Long, planes: Array<ByteBuffer>, layout: ByteArray, options: ByteArray): ByteArray
    @JvmStatic external fun embedFrame(handle: Long, planes: Array<ByteBuffer>, layout: ByteArray): FloatArray
    @JvmStatic external fun cosineSimilarity(a: FloatArray, b: FloatArray): Float
    @JvmStatic external fun run(handle: Long, inputs: ByteArray): ByteArray
    @JvmStatic external fun info(handle: Long): ByteArray
    @JvmStatic external fun stats(handle: Long): ByteArray

    @JvmStatic external fun storeOpen(dir: String, options: ByteArray): Long
    @JvmStatic external fun storeInMemory(options: ByteArray): Long
    @JvmStatic external fun storeFree(handle: Long)
    @JvmStatic external fun storeInstall(handle: Long, name: String, version: String, model: ByteArray)
    @JvmStatic external fun storeActivate(handle: Long, name: String, version: String)
    @JvmStatic external fun storeRollback(handle: Long, name: String)
    @JvmStatic external fun storeVersions(handle: Long, name: String): ByteArray
    @JvmStatic external fun storeSetCandidate(handle: Long, name: String, version: String, policy: ByteArray)
    @JvmStatic external fun storeShadowReport(handle: Long, name: String): ByteArray
    @JvmStatic external fun storeStats(handle: Long, name: String, version: String): ByteArray
    @JvmStatic external fun storeClassify(handle: Long, name: String, encoded: ByteArray, topK: Int): ByteArray

    // Present only in a library built with `--features testing` (bridge tests).
    @JvmStatic external fun testPanic(message: String): Int
    @JvmStatic external fun testError(kind: String): Int
    @JvmStatic external fun testEcho(tensors: ByteArray): ByteArray
}

/**
 * Loads the native library once per process. On Android: `System.loadLibrary("ledge_jni")` (the AAR's
 * `jniLibs`). On a desktop JVM: the file named by the system property `ledge.library.path` if set, else
 * `ledge_jni` from `java.library.path`. A missing library is an [UnsatisfiedLinkError] that says where it
 * looked and how to fix it, on every call (not only the first).
 */
object NativeLibrary {
    /** The system property naming the absolute path of `libledge_jni.so` on a desktop JVM. */
    const val PATH_PROPERTY: String = "ledge.library.path"

    private val outcome: Throwable? by lazy {
        try {
            val path = System.getProperty(PATH_PROPERTY)?.takeIf { it.isNotBlank() }
            if (path != null) {
                val file = File(path)
                if (!file.isFile) {
                    UnsatisfiedLinkError("Ledge native library not found: -D$PATH_PROPERTY=$path is not a file")
                } else {
                    System.load(file.absolutePath)
                    null
                }
            } else {
                System.loadLibrary("ledge_jni")
                null
            }
        } catch (e: UnsatisfiedLinkError) {
            e
        } catch (e: SecurityException) {
            e
        }
    }

    /** Loads the library if needed; throws [UnsatisfiedLinkError] when it cannot be loaded. */
    @JvmStatic
    fun ensureLoaded() {
        val failure = outcome ?: return
        val error = UnsatisfiedLinkError(
            "Ledge native library (libledge_jni) could not be loaded: ${failure.message}. " +
                "On Android, the AAR must contain jniLibs/<abi>/libledge_jni.so (scripts/build-android.sh); " +
                "on a desktop JVM, pass -D$PATH_PROPERTY=/absolute/path/libledge_jni.so or put its folder on " +
                "java.library.path (now: ${System.getProperty("java.library.path")})",
        )
        error.initCause(failure)
        throw error
    }
}
