package dev.ledge

/**
 * Every failure of a Ledge call: one subclass per variant of the core's `ledge::Error` (same names, see
 * [kind]), plus [Panic] for a bug in native code caught at the boundary. Messages say what was expected
 * and what was found; they are the core's messages unchanged.
 *
 * Misuse of the Kotlin object itself is not a [LedgeException]: calling a closed [LedgeModel] throws
 * [IllegalStateException].
 */
sealed class LedgeException(message: String) : Exception(message) {
    /** The core's variant name (`ledge::Error::kind()`): `"ModelFormat"`, `"InputShape"`, … or `"Panic"`. */
    val kind: String get() = javaClass.simpleName

    /** Empty, truncated or non-ONNX bytes; a dynamic dimension that needs `inputShapes`. */
    class ModelFormat(message: String) : LedgeException(message)

    /** The engine lacks an operator the model uses (e.g. onnxruntime's QOperator `QLinearAdd`). */
    class UnsupportedOperator(message: String) : LedgeException(message)

    /** The number of input tensors does not match the model. */
    class InputCount(message: String) : LedgeException(message)

    /** An input tensor has the wrong shape. */
    class InputShape(message: String) : LedgeException(message)

    /** An input tensor has the wrong element type. */
    class InputType(message: String) : LedgeException(message)

    /** Undecodable, truncated or zero-sized images. */
    class ImageDecode(message: String) : LedgeException(message)

    /** A decoded image could not be turned into the model's input (resizing failed). */
    class Preprocess(message: String) : LedgeException(message)

    /** The model does not fit the task asked of it: `classify` on a two-input model, or on a batch. */
    class TaskMismatch(message: String) : LedgeException(message)

    /** An argument out of range: `topK < 1`, an RGBA buffer of the wrong length, a tensor whose data does not fit its shape. */
    class InvalidArgument(message: String) : LedgeException(message)

    /** The manifest is missing where needed, malformed, or does not fit the model. */
    class Manifest(message: String) : LedgeException(message)

    /** The model bytes do not match the manifest's sha256. */
    class Integrity(message: String) : LedgeException(message)

    /** A file cannot be read. */
    class Io(message: String) : LedgeException(message)

    /** An input is over one of the [Limits]; refused before any large allocation. */
    class LimitExceeded(message: String) : LedgeException(message)

    /** The engine could not prepare (optimize, plan) a model that parsed; reported at load. */
    class Optimization(message: String) : LedgeException(message)

    /** The engine failed on a model that passed every check. */
    class Inference(message: String) : LedgeException(message)

    /** Native code panicked; the call was abandoned and the process is intact. Please report it. */
    class Panic(message: String) : LedgeException(message)
}
