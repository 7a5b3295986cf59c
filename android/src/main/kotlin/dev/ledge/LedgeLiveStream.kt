package dev.ledge

import kotlinx.coroutines.channels.BufferOverflow
import kotlinx.coroutines.flow.MutableSharedFlow
import kotlinx.coroutines.flow.SharedFlow
import kotlinx.coroutines.flow.asSharedFlow
import java.util.concurrent.Executor
import java.util.concurrent.RejectedExecutionException
import java.util.concurrent.TimeUnit
import java.util.concurrent.locks.ReentrantLock
import kotlin.concurrent.withLock

/** What a [LedgeLiveStream] delivers for each frame it ran: a result or an error, with the frame's own timestamp. */
sealed class LiveResult<out T> {
    /** The [CameraFrame.timestampNanos] of the frame this is the answer for. */
    abstract val timestampNanos: Long

    /** The model's answer for the frame. */
    data class Success<out T>(
        override val timestampNanos: Long,
        /** Predictions, detections (upright-frame pixels) or an embedding, as the stream's task returns. */
        val value: T,
        /** Time spent in the model call (conversion, preprocessing, inference), milliseconds. */
        val latencyMillis: Double,
    ) : LiveResult<T>()

    /** The frame could not be processed; the stream goes on with the next one. */
    data class Failure(
        override val timestampNanos: Long,
        /**
         * A [LedgeException] (e.g. [LedgeException.InvalidArgument] for planes that do not fit the layout), or
         * [IllegalStateException] when the model was closed under the stream.
         */
        val error: Exception,
    ) : LiveResult<Nothing>()
}

/** Counts of a [LedgeLiveStream] since it was created; `submitted = processed + dropped + failed` when nothing is in flight. */
data class LiveStreamStats(
    /** Frames passed to [LedgeLiveStream.submit]. */
    val submitted: Long,
    /** Frames whose result was delivered as [LiveResult.Success]. */
    val processed: Long,
    /** Frames released without running: submitted while another was in flight, or after [LedgeLiveStream.close]. */
    val dropped: Long,
    /** Frames delivered as [LiveResult.Failure] (and any whose model call threw an `Error`, which is rethrown on the executor). */
    val failed: Long,
    /** Processed frames per second over the last 2 seconds (at most the last 30 frames); 0 before two frames. */
    val framesPerSecond: Double,
)

/** Receives each [LiveResult] of a [LedgeLiveStream], on the stream's executor. */
fun interface LiveStreamListener<in T> {
    /** Called once per frame run, in order, on the executor's thread (post to the main thread for UI). */
    fun onResult(result: LiveResult<T>)
}

/**
 * The live-stream mode for camera loops: at most one frame in flight, frames that arrive meanwhile dropped,
 * each result delivered with its frame's timestamp — the task (classify, detect or embed) chosen at
 * construction ([classify], [detect], [embed]).
 *
 * - [submit] never blocks and never throws a model error: it returns `true` when the frame was taken (it runs
 *   on [executor] next), `false` when it was dropped (another frame is in flight, or the stream is closed).
 * - **Frames are held, not copied**: a taken frame's planes are read in place, and the frame is released
 *   ([CameraFrame.close], which closes the `ImageProxy`/`Image` for the Android adapters) as soon as the model
 *   call returns, before its result is delivered; a dropped frame is released inside [submit]. With CameraX's
 *   `ImageAnalysis` (`STRATEGY_KEEP_ONLY_LATEST`) the next frame arrives once the held one is closed, so
 *   CameraX itself skips the frames in between.
 * - Results arrive, in order, through the optional [LiveStreamListener] and the [results] flow, both on the
 *   executor's thread; an error is a [LiveResult.Failure], never an exception on the camera's thread.
 * - [close] stops taking frames and returns at once; a frame in flight finishes and is delivered
 *   ([awaitTermination] waits for it). Close the model only after that (or its call fails with
 *   [IllegalStateException], delivered as a failure).
 *
 * ```
 * val stream = LedgeLiveStream.classify(model, Executors.newSingleThreadExecutor(), topK = 1) { result ->
 *     if (result is LiveResult.Success) show(result.value[0].label, result.timestampNanos)
 * }
 * imageAnalysis.setAnalyzer(cameraExecutor) { proxy -> stream.submit(proxy.toCameraFrame()) }
 * ```
 */
class LedgeLiveStream<T> private constructor(
    private val model: LedgeModel,
    private val executor: Executor,
    private val listener: LiveStreamListener<T>?,
    private val task: (LedgeModel, CameraFrame) -> T,
) : AutoCloseable {
    private val lock = ReentrantLock()
    private val idle = lock.newCondition()

    // Guarded by lock.
    private var inFlight = false
    private var closed = false
    private var submitted = 0L
    private var processed = 0L
    private var dropped = 0L
    private var failed = 0L
    private val completions = LongArray(FPS_FRAMES)

    private val flow = MutableSharedFlow<LiveResult<T>>(extraBufferCapacity = 64, onBufferOverflow = BufferOverflow.DROP_OLDEST)

    /**
     * Every result, as the listener gets it: a hot flow (collect it before submitting; a collector that falls
     * more than 64 results behind loses the oldest, so emitting never blocks the stream).
     */
    val results: SharedFlow<LiveResult<T>> = flow.asSharedFlow()

    /** True once [close] has run. */
    val isClosed: Boolean get() = lock.withLock { closed }

    /** A snapshot of the counts and the recent frame rate. */
    val stats: LiveStreamStats
        get() = lock.withLock {
            val now = System.nanoTime()
            val recent = completions.take(minOf(processed, FPS_FRAMES.toLong()).toInt())
                .filter { now - it <= FPS_WINDOW_NANOS }
            val span = if (recent.size < 2) 0L else recent.max() - recent.min()
            val fps = if (span <= 0) 0.0 else (recent.size - 1) * 1e9 / span
            LiveStreamStats(submitted, processed, dropped, failed, fps)
        }

    /**
     * Offers [frame] to the stream: `true` if it was taken (it runs on the executor, then is released and its
     * result delivered), `false` if it was dropped and released now (a frame is in flight, or the stream is
     * closed). Call it from the camera's callback; it does not wait for the model.
     *
     * Throws only what the executor throws when it refuses work ([RejectedExecutionException], e.g. after its
     * `shutdown()`), after releasing the frame and counting it as dropped.
     */
    fun submit(frame: CameraFrame): Boolean {
        val taken = lock.withLock {
            submitted++
            if (closed || inFlight) {
                dropped++
                false
            } else {
                inFlight = true
                true
            }
        }
        if (!taken) {
            frame.close()
            return false
        }
        try {
            executor.execute { process(frame) }
        } catch (e: RejectedExecutionException) {
            lock.withLock {
                dropped++
                finish()
            }
            frame.close()
            throw e
        }
        return true
    }

    private fun process(frame: CameraFrame) {
        try {
            val start = System.nanoTime()
            val result: LiveResult<T> = try {
                val value = try {
                    task(model, frame)
                } finally {
                    frame.close()
                }
                LiveResult.Success(frame.timestampNanos, value, (System.nanoTime() - start) / 1e6)
            } catch (e: Exception) {
                LiveResult.Failure(frame.timestampNanos, e)
            } catch (e: Throwable) {
                // An Error (OutOfMemoryError, a missing native method) is not a result: counted, then thrown to
                // the executor's thread, where the app's uncaught-exception handler sees it.
                lock.withLock { failed++ }
                throw e
            }
            lock.withLock {
                if (result is LiveResult.Success) {
                    completions[(processed % FPS_FRAMES).toInt()] = System.nanoTime()
                    processed++
                } else {
                    failed++
                }
            }
            flow.tryEmit(result)
            listener?.onResult(result)
        } finally {
            lock.withLock { finish() }
        }
    }

    /** Marks the frame in flight done (under [lock]). */
    private fun finish() {
        inFlight = false
        idle.signalAll()
    }

    /** Stops taking frames (later [submit]s drop and release theirs); a frame in flight finishes. Idempotent; does not wait. */
    override fun close() {
        lock.withLock { closed = true }
    }

    /** Waits until the stream is closed and no frame is in flight, at most [timeout]; true if it is. */
    fun awaitTermination(timeout: Long, unit: TimeUnit): Boolean {
        var left = unit.toNanos(timeout)
        lock.withLock {
            while (!closed || inFlight) {
                if (left <= 0) return false
                left = idle.awaitNanos(left)
            }
            return true
        }
    }

    override fun toString(): String = "LedgeLiveStream($stats${if (isClosed) ", closed" else ""})"

    companion object {
        private const val FPS_FRAMES = 30
        private const val FPS_WINDOW_NANOS = 2_000_000_000L

        /** A stream that classifies each frame ([LedgeModel.classifyFrame]) and delivers its [topK] best classes. */
        @JvmStatic
        @JvmOverloads
        fun classify(
            model: LedgeModel,
            executor: Executor,
            topK: Int = 5,
            listener: LiveStreamListener<List<Prediction>>? = null,
        ): LedgeLiveStream<List<Prediction>> = LedgeLiveStream(model, executor, listener) { m, f -> m.classifyFrame(f, topK) }

        /** A stream that detects objects in each frame ([LedgeModel.detectFrame]); boxes in upright-frame pixels. */
        @JvmStatic
        @JvmOverloads
        fun detect(
            model: LedgeModel,
            executor: Executor,
            options: DetectOptions = DetectOptions(),
            listener: LiveStreamListener<List<Detection>>? = null,
        ): LedgeLiveStream<List<Detection>> = LedgeLiveStream(model, executor, listener) { m, f -> m.detectFrame(f, options) }

        /** A stream that embeds each frame ([LedgeModel.embedFrame]). */
        @JvmStatic
        @JvmOverloads
        fun embed(
            model: LedgeModel,
            executor: Executor,
            listener: LiveStreamListener<Embedding>? = null,
        ): LedgeLiveStream<Embedding> = LedgeLiveStream(model, executor, listener) { m, f -> m.embedFrame(f) }
    }
}
