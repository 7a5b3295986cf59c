package dev.ledge

import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.long

/**
 * Every failure of a Ledge call: one subclass per variant of the core's `ledge::Error` (same names, see
 * [kind]), plus [Panic] for a bug in native code caught at the boundary. Messages say what was expected
 * and what was found; they are the core's messages unchanged.
 *
 * Misuse of the Kotlin object itself is not a [LedgeException]: calling a closed [LedgeModel] or
 * [LedgeModelStore] throws [IllegalStateException].
 */
sealed class LedgeException(message: String) : Exception(message) {
    /** The core's variant name (`ledge::Error::kind()`): `"ModelFormat"`, `"InputShape"`, … or `"Panic"`. */
    val kind: String get() = javaClass.simpleName

    companion object {
        /**
         * The exception for a core error: called by the JNI layer with the variant's `kind`, the core's
         * message and its fields as JSON (`ledge::Error::details`), so every language gets the same
         * structured fields.
         */
        @JvmStatic
        fun fromNative(kind: String, message: String, detailsJson: String): LedgeException {
            val d: JsonObject = Json.parseToJsonElement(detailsJson).jsonObject
            fun str(key: String) = (d[key] as? JsonPrimitive)?.content ?: ""
            fun num(key: String) = (d[key] as? JsonPrimitive)?.long ?: 0L
            fun dims(key: String) = (d[key] as? JsonArray)?.map { (it as JsonPrimitive).long } ?: emptyList()
            return when (kind) {
                "ModelFormat" -> ModelFormat(message)
                "UnsupportedOperator" -> UnsupportedOperator(message, str("op"), str("node"), num("others"))
                "InputCount" -> InputCount(message, num("expected"), num("got"))
                "InputShape" -> InputShape(message, str("input"), dims("expected"), dims("got"))
                "InputType" -> InputType(message, str("input"), str("expected"), str("got"))
                "ImageDecode" -> ImageDecode(message)
                "Preprocess" -> Preprocess(message)
                "InvalidArgument" -> InvalidArgument(message)
                "Manifest" -> Manifest(message)
                "TaskMismatch" -> TaskMismatch(message, str("task"), str("reason"))
                "Integrity" -> Integrity(message, str("expected"), str("actual"))
                "Signature" -> Signature(message, str("problem"), str("detail"))
                "Io" -> Io(message, str("path"))
                "LimitExceeded" -> LimitExceeded(message, str("limit"), num("value"), num("max"))
                "Optimization" -> Optimization(message)
                "Inference" -> Inference(message)
                else -> Panic("unknown error kind $kind from native code: $message")
            }
        }
    }

    /** Empty, truncated or non-ONNX bytes; weights in an external data file when loading from bytes. */
    class ModelFormat(message: String) : LedgeException(message)

    /** The engine lacks an operator the model uses (e.g. onnxruntime's QOperator `QLinearAdd`). */
    class UnsupportedOperator(
        message: String,
        /** ONNX operator type, e.g. `QLinearAdd`. */
        val op: String = "",
        /** Name of the first node that uses it. */
        val node: String = "",
        /** How many further nodes are unsupported. */
        val others: Long = 0,
    ) : LedgeException(message)

    /** The number of input tensors does not match the model. */
    class InputCount(
        message: String,
        /** Inputs the model declares. */
        val expected: Long = 0,
        /** Inputs passed. */
        val got: Long = 0,
    ) : LedgeException(message)

    /** An input tensor has the wrong shape. */
    class InputShape(
        message: String,
        /** The model input's name. */
        val input: String = "",
        /** The shape the model was pinned to. */
        val expected: List<Long> = emptyList(),
        /** The shape passed. */
        val got: List<Long> = emptyList(),
    ) : LedgeException(message)

    /** An input tensor has the wrong element type. */
    class InputType(
        message: String,
        /** The model input's name. */
        val input: String = "",
        /** The element type the model wants (`f32`, `u8`, …). */
        val expected: String = "",
        /** The element type passed. */
        val got: String = "",
    ) : LedgeException(message)

    /** Undecodable, truncated or zero-sized images. */
    class ImageDecode(message: String) : LedgeException(message)

    /** A decoded image could not be turned into the model's input (resizing failed). */
    class Preprocess(message: String) : LedgeException(message)

    /**
     * The model does not fit the task asked of it: `detect` or `embed` on a classifier (its manifest's
     * `task` says which), `classify` on a two-input model, or on a batch.
     */
    class TaskMismatch(
        message: String,
        /** The task asked for: `classify`, `detect` or `embed`. */
        val task: String = "",
        /** What does not fit, and what to do. */
        val reason: String = "",
    ) : LedgeException(message)

    /**
     * An argument out of range: `topK < 1`, [DetectOptions] out of range, an RGBA buffer of the wrong length,
     * a tensor whose data does not fit its shape, embeddings of different sizes compared; a dynamic input
     * dimension loaded without `inputShapes`.
     */
    class InvalidArgument(message: String) : LedgeException(message)

    /** The manifest is missing where needed, malformed, or does not fit the model. */
    class Manifest(message: String) : LedgeException(message)

    /** The model bytes do not match the manifest's sha256. */
    class Integrity(
        message: String,
        /** sha256 the manifest records. */
        val expected: String = "",
        /** sha256 of the bytes loaded. */
        val actual: String = "",
    ) : LedgeException(message)

    /** Trusted keys were given and the model's signature is missing, foreign or invalid. */
    class Signature(
        message: String,
        /** `unsigned`, `untrusted_key` or `invalid`. */
        val problem: String = "",
        /** The specifics (which key, what changed) and what to do. */
        val detail: String = "",
    ) : LedgeException(message)

    /** A file cannot be read. */
    class Io(
        message: String,
        /** The file involved. */
        val path: String = "",
    ) : LedgeException(message)

    /** An input is over one of the [Limits]; refused before any large allocation. */
    class LimitExceeded(
        message: String,
        /** Which of [Limits], by the core's field name (`max_image_pixels`, …). */
        val limit: String = "",
        /** The offending value. */
        val value: Long = 0,
        /** The configured maximum. */
        val max: Long = 0,
    ) : LedgeException(message)

    /** The engine could not prepare (optimize, plan) a model that parsed; reported at load. */
    class Optimization(message: String) : LedgeException(message)

    /** The engine failed on a model that passed every check. */
    class Inference(message: String) : LedgeException(message)

    /** Native code panicked; the call was abandoned and the process is intact. Please report it. */
    class Panic(message: String) : LedgeException(message)
}
