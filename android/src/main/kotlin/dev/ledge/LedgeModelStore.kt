package dev.ledge

import java.io.File
import java.util.concurrent.locks.ReentrantReadWriteLock
import kotlin.concurrent.read
import kotlin.concurrent.write

/**
 * Named models and their versions (the core's `ModelStore`): install a downloaded version, activate it
 * (hot swap: calls in flight finish on the version they started with), roll back in one call, and let a
 * candidate shadow the active version on a sample of live calls before it is promoted. Every model is
 * loaded with the store's [LoadOptions]: give [LoadOptions.trustedKeys] to accept signed models only.
 *
 * Thread-safe: any number of threads classify while another installs, activates or rolls back. Holds
 * native memory (the active and the previous version of each name, loaded) until [close] (use `use { }`);
 * every call after [close] throws [IllegalStateException], and [close] is idempotent and waits for calls
 * in flight on other threads.
 *
 * ```
 * LedgeModelStore.open(File(context.filesDir, "models"), LoadOptions(trustedKeys = listOf(key))).use { store ->
 *     store.install("main", "2.0.0", downloaded)    // refused unless it loads and is signed by the key
 *     store.activate("main", "2.0.0")               // the old active version stays loaded as the previous
 *     val served = store.classify("main", photo)    // served.version says which version answered
 *     store.rollback("main")                        // one call back
 * }
 * ```
 *
 * Failures are [LedgeException] subclasses: [LedgeException.InvalidArgument] for a bad name or version,
 * one already installed, one not installed, a rollback without a previous version or a classification
 * before any activation; the load errors of a model ([LedgeException.Signature], …); [LedgeException.Io]
 * when the folder cannot be written.
 */
class LedgeModelStore private constructor(private var handle: Long, private val description: String) : AutoCloseable {
    private val lock = ReentrantReadWriteLock()

    /** Runs [block] with the live handle under the read lock, so [close] cannot free it meanwhile. */
    private inline fun <T> withHandle(block: (Long) -> T): T = lock.read {
        val h = handle
        check(h != 0L) { "LedgeModelStore is closed" }
        block(h)
    }

    /** True once [close] has run. */
    val isClosed: Boolean get() = lock.read { handle == 0L }

    /**
     * Installs [bytes] (a model the app downloaded) as [version] of [name], without activating it. The bytes
     * are loaded first, so a model that does not load, or whose signature is not trusted, is refused before
     * anything is written; then they are written atomically (a crash leaves the old state or the new one).
     * Names and versions are 1–128 letters, digits, `.`, `_` or `-`; versions are immutable.
     */
    fun install(name: String, version: String, bytes: ByteArray): Unit = withHandle { Native.storeInstall(it, name, version, bytes) }

    /**
     * Makes installed [version] of [name] the active one: it serves every new call, and the old active one
     * becomes the previous (still loaded, for [rollback]). A candidate of the same version is dropped.
     */
    fun activate(name: String, version: String): Unit = withHandle { Native.storeActivate(it, name, version) }

    /** Swaps the active and the previous version of [name] back, in one call. */
    fun rollback(name: String): Unit = withHandle { Native.storeRollback(it, name) }

    /** The active version of [name]; null before its first [activate] (or for a name never installed). */
    fun activeVersion(name: String): String? = versions(name).active

    /** The installed versions of [name], its active and its previous one (all empty for an unknown name). */
    fun versions(name: String): ModelVersions = withHandle { Codec.versions(Native.storeVersions(it, name)) }

    /**
     * Lets installed [version] of [name] shadow the active version on a sample of [classify] calls, as
     * [policy] says: after the active version's result is computed, the candidate runs on the same image and
     * is compared — on the caller's thread, or on a background thread with [ShadowPolicy.background] (the call
     * then returns as soon as the active version's result is ready, and a promotion decided there serves the
     * next call). With [ShadowPolicy.autoDecide] the candidate is promoted (activated) or rejected once
     * [ShadowPolicy.minSamples] are in. Replaces any earlier candidate of [name].
     */
    fun setCandidate(name: String, version: String, policy: ShadowPolicy = ShadowPolicy()) {
        val json = Codec.options(policy)
        withHandle { Native.storeSetCandidate(it, name, version, json) }
    }

    /** How the candidate of [name] compares with the active version so far; null without a candidate. */
    fun shadowReport(name: String): ShadowReport? = withHandle { Codec.shadowReport(Native.storeShadowReport(it, name)) }

    /**
     * The usage statistics of a loaded [version] of [name] since it was loaded — the active one, the previous
     * one (kept for [rollback]) or the shadow candidate — each its own: what to compare before promoting a
     * candidate, or to watch after a swap (latency, errors, confidence, drift). [LedgeException.InvalidArgument]
     * for a version that is none of those (not installed, or installed but not loaded).
     */
    fun stats(name: String, version: String): Stats = withHandle { Codec.stats(Native.storeStats(it, name, version)) }

    /**
     * Classifies an encoded image (JPEG, PNG, WebP, BMP or GIF) with the active version of [name], as [LedgeModel.classify]
     * does, and says which version computed the [topK] best classes.
     */
    fun classify(name: String, encoded: ByteArray, topK: Int = 5): Served =
        withHandle { Codec.served(Native.storeClassify(it, name, encoded, topK)) }

    /** Frees the store and its loaded models. Idempotent; waits for calls in flight; later calls throw [IllegalStateException]. */
    override fun close() {
        lock.write {
            val h = handle
            handle = 0L
            if (h != 0L) Native.storeFree(h)
        }
    }

    override fun toString(): String = if (isClosed) "LedgeModelStore(closed)" else "LedgeModelStore($description)"

    companion object {
        /**
         * Opens (or creates) a store in the folder [dir] (`index.json` and `NAME/VERSION.onnx`); the active
         * and previous version of every name are loaded now, with [options].
         */
        @JvmStatic
        @JvmOverloads
        fun open(dir: File, options: LoadOptions = LoadOptions()): LedgeModelStore {
            NativeLibrary.ensureLoaded()
            return LedgeModelStore(Native.storeOpen(dir.path, Codec.options(options)), dir.path)
        }

        /**
         * A store that keeps installed models in memory only, for as long as it is open: the same API without
         * a folder (the app persists the bytes itself and installs them again at start).
         */
        @JvmStatic
        @JvmOverloads
        fun inMemory(options: LoadOptions = LoadOptions()): LedgeModelStore {
            NativeLibrary.ensureLoaded()
            return LedgeModelStore(Native.storeInMemory(Codec.options(options)), "in memory")
        }
    }
}
