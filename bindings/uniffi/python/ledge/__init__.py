"""Ledge: on-device image classification, object detection and embeddings with ONNX models.

A thin Python layer over the uniffi-generated module ``ledge._native`` (the Rust core, one
native library). Load a model once, share it across threads::

    import ledge

    model = ledge.Model.from_path("demo-models/efficientnet-lite0/model.onnx")
    for p in model.classify("demo-models/images/chelsea.png", top_k=3):
        print(f"{p.score:6.1%}  {p.label}")

    detector = ledge.Model.from_path("demo-models/ssd-mobilenetv2-oid/model.onnx")
    for d in detector.detect("demo-models/images/chelsea.png"):
        print(d.label, d.score, d.bounding_box)   # box in image pixels

    embedder = ledge.Model.from_path("demo-models/efficientnet-lite0-embed/model.onnx")
    a = embedder.embed("demo-models/images/chelsea.png")
    print(ledge.cosine_similarity(a, embedder.embed("demo-models/images/coffee.png")))

    store = ledge.ModelStore.open("models")  # versions on disk: hot swap, rollback
    store.install("main", "v2", "downloads/model-v2.onnx")  # or the downloaded bytes
    store.activate("main", "v2")
    served = store.classify("main", "demo-models/images/chelsea.png", top_k=3)
    print(served.version, served.predictions)

Every failure raises a subclass of :class:`LedgeError` (``LedgeError.InputShape``,
``LedgeError.ImageDecode``, ...) whose ``kind`` is the variant's name. NumPy is optional: with
it, ``run``/``classify_tensor``/``classify_rgba``/``detect_rgba``/``embed_rgba`` accept arrays, and
:class:`Tensor` and :class:`Embedding` convert with ``numpy.asarray``.
"""

from __future__ import annotations

import array
import os
import sys
from typing import TYPE_CHECKING, Any, Iterable, Optional, Sequence, Union

from . import _native
from ._native import (
    Anchors,
    Baseline,
    BoundingBox,
    BoxCoding,
    BoxOrder,
    CacheOptions,
    ClassifyOptions,
    ColorOrder,
    DetectOptions,
    DetectSpec,
    Detection,
    Drift,
    DType,
    EmbedSpec,
    Embedding,
    Filter,
    InputSpec,
    Layout,
    LedgeError,
    Limits,
    LoadOptions,
    Manifest,
    ManifestSource,
    ModelInfo,
    ModelVersions,
    Nms,
    Normalize,
    OutputKind,
    OutputSpec,
    Point,
    Prediction,
    Resize,
    ScoreFunction,
    Served,
    ShadowPolicy,
    ShadowReport,
    Stats,
    Task,
    TensorSpec,
)

if TYPE_CHECKING:  # pragma: no cover
    import numpy

__all__ = [
    "Anchors",
    "Baseline",
    "BoundingBox",
    "BoxCoding",
    "BoxOrder",
    "CacheOptions",
    "ClassifyOptions",
    "ColorOrder",
    "DetectOptions",
    "DetectSpec",
    "Detection",
    "Drift",
    "DType",
    "EmbedSpec",
    "Embedding",
    "Filter",
    "InputSpec",
    "Layout",
    "LedgeError",
    "Limits",
    "LoadOptions",
    "Manifest",
    "ManifestSource",
    "Model",
    "ModelInfo",
    "ModelStore",
    "ModelVersions",
    "Nms",
    "Normalize",
    "OutputKind",
    "OutputSpec",
    "Point",
    "Prediction",
    "Resize",
    "ScoreFunction",
    "Served",
    "ShadowPolicy",
    "ShadowReport",
    "Stats",
    "Task",
    "Tensor",
    "TensorSpec",
    "cosine_similarity",
]

__version__ = _native.ledge_version()

PathLike = Union[str, "os.PathLike[str]"]
ImageInput = Union[bytes, bytearray, memoryview, PathLike]

# The error kind is the generated variant class's name (`LedgeError.InputShape` → "InputShape").
LedgeError.kind = property(  # type: ignore[attr-defined]
    lambda self: type(self).__name__,
    doc="The variant's name: 'ModelFormat', 'InputShape', ..., or 'Panic'.",
)
# str(e) is the core's message, as in Rust (the generated default lists the fields).
LedgeError.__str__ = lambda self: getattr(self, "message", None) or Exception.__str__(self)  # type: ignore[method-assign]

# Records print their fields in lists too (the generated classes only define __str__).
for _record in (
    Prediction,
    Detection,
    BoundingBox,
    Point,
    Stats,
    TensorSpec,
    Limits,
    LoadOptions,
    ClassifyOptions,
    DetectOptions,
    ModelInfo,
    Manifest,
    Baseline,
    CacheOptions,
    Drift,
    Served,
    ShadowPolicy,
    ShadowReport,
    ModelVersions,
):
    _record.__repr__ = _record.__str__  # type: ignore[method-assign]

# Per element type: (array typecode of the same size, NumPy dtype string, element size).
_DTYPES = {
    DType.F32: ("f", "<f4", 4),
    DType.I8: ("b", "i1", 1),
    DType.U8: ("B", "u1", 1),
    DType.I32: ("i", "<i4", 4),
    DType.I64: ("q", "<i8", 8),
}
_NUMPY_KINDS = {"f4": DType.F32, "i1": DType.I8, "u1": DType.U8, "i4": DType.I32, "i8": DType.I64}

# A k larger than any class count: the core caps k at the number of classes.
_ALL_CLASSES = 2**32 - 1


class Tensor(_native.Tensor):
    """A dense tensor: ``shape``, ``dtype`` (:class:`DType`) and ``data``, the elements in
    row-major order as little-endian bytes. ``numpy.asarray(tensor)`` gives an array."""

    @classmethod
    def from_numpy(cls, arr: "numpy.ndarray") -> "Tensor":
        """A tensor from a NumPy array of float32, int8, uint8, int32 or int64 (C order is
        made if needed; other dtypes raise ``TypeError``: convert with ``astype``)."""
        import numpy as np

        arr = np.asarray(arr)
        kind = f"{arr.dtype.kind}{arr.dtype.itemsize}"
        dtype = _NUMPY_KINDS.get(kind)
        if dtype is None:
            raise TypeError(
                f"arrays of {arr.dtype} are not supported; use float32, int8, uint8, int32 or "
                f"int64 (e.g. arr.astype(numpy.float32))"
            )
        arr = np.ascontiguousarray(arr, dtype=np.dtype(_DTYPES[dtype][1]))
        return cls(shape=list(arr.shape), dtype=dtype, data=arr.tobytes())

    @classmethod
    def from_values(
        cls, values: Iterable[Any], shape: Sequence[int], dtype: DType = DType.F32
    ) -> "Tensor":
        """A tensor from a flat sequence of numbers, without NumPy."""
        buf = array.array(_DTYPES[dtype][0], values)
        if sys.byteorder == "big" and buf.itemsize > 1:
            buf.byteswap()
        return cls(shape=list(shape), dtype=dtype, data=buf.tobytes())

    @property
    def values(self) -> list:
        """The elements as a flat Python list."""
        buf = array.array(_DTYPES[self.dtype][0])
        buf.frombytes(self.data)
        if sys.byteorder == "big" and buf.itemsize > 1:
            buf.byteswap()
        return buf.tolist()

    def numpy(self) -> "numpy.ndarray":
        """The tensor as a (writable) NumPy array of its shape."""
        import numpy as np

        return np.frombuffer(self.data, dtype=_DTYPES[self.dtype][1]).reshape(self.shape).copy()

    def __array__(self, dtype=None, copy=None):
        arr = self.numpy()
        return arr if dtype is None else arr.astype(dtype)

    def __repr__(self) -> str:
        return f"Tensor(shape={list(self.shape)}, dtype={self.dtype}, {len(self.data)} bytes)"

    __str__ = __repr__

    @classmethod
    def _wrap(cls, t: _native.Tensor) -> "Tensor":
        return cls(shape=t.shape, dtype=t.dtype, data=t.data)

    @classmethod
    def _of(cls, x: Any) -> _native.Tensor:
        if isinstance(x, _native.Tensor):
            return x
        if type(x).__module__ == "numpy" or hasattr(x, "__array_interface__"):
            return cls.from_numpy(x)
        raise TypeError(f"expected a ledge.Tensor or a NumPy array, got {type(x).__name__}")

    @classmethod
    def from_npy(cls, npy: bytes) -> "Tensor":
        """Parses NumPy ``.npy`` bytes (f32, i8, u8, i32 or i64) with NumPy. (The native
        library carries no ``.npy`` code: it is a tools format, NumPy reads it better.)"""
        import io

        import numpy as np

        return cls.from_numpy(np.load(io.BytesIO(bytes(npy)), allow_pickle=False))

    def to_npy(self) -> bytes:
        """Serializes to NumPy ``.npy`` bytes with NumPy."""
        import io

        import numpy as np

        out = io.BytesIO()
        np.save(out, self.numpy(), allow_pickle=False)
        return out.getvalue()


def _classify_options(
    top_k: Optional[int], score_threshold: float, allowlist: Sequence[str], denylist: Sequence[str]
) -> ClassifyOptions:
    return ClassifyOptions(
        max_results=_ALL_CLASSES if top_k is None else top_k,
        score_threshold=score_threshold,
        allowlist=[str(x) for x in allowlist],
        denylist=[str(x) for x in denylist],
    )


def _detect_options(
    max_results: Optional[int],
    score_threshold: Optional[float],
    iou_threshold: Optional[float],
    allowlist: Sequence[str],
    denylist: Sequence[str],
) -> DetectOptions:
    return DetectOptions(
        max_results=max_results,
        score_threshold=score_threshold,
        iou_threshold=iou_threshold,
        allowlist=[str(x) for x in allowlist],
        denylist=[str(x) for x in denylist],
    )


def _image_bytes(image: ImageInput) -> bytes:
    """The bytes of an encoded image or model: bytes-like as given, a path read from its file
    (a failed read raises ``LedgeError.Io`` with the ``path``, as the native path calls do)."""
    if isinstance(image, (bytes, bytearray, memoryview)):
        return bytes(image)
    path = os.fspath(image)
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        message = f"{path}: {e.strerror or e}"
        raise LedgeError.Io(path=str(path), message=message) from e  # type: ignore[call-arg]


def _rgba_frame(rgba: Any, width: Optional[int], height: Optional[int], what: str) -> tuple:
    """``(bytes, width, height)`` of an RGBA frame: bytes with their size, or a ``(height, width,
    4)`` uint8 NumPy array (its shape gives the size)."""
    if hasattr(rgba, "shape") and width is None and height is None:
        height, width = rgba.shape[0], rgba.shape[1]
    if hasattr(rgba, "tobytes"):
        rgba = rgba.tobytes()
    if width is None or height is None:
        raise TypeError(f"{what} needs width and height for a byte buffer")
    return bytes(rgba), width, height


def _floats(x: Any) -> list:
    """The values of an :class:`Embedding`, a NumPy array or a sequence of numbers, as a list."""
    if isinstance(x, Embedding):
        return x.values
    if hasattr(x, "tolist"):
        import numpy as np

        return np.asarray(x, dtype=np.float32).ravel().tolist()
    return [float(v) for v in x]


def cosine_similarity(a: Any, b: Any) -> float:
    """Cosine similarity ``a·b / (|a|·|b|)`` in [−1, 1] of two :class:`Embedding` (or NumPy
    arrays, or sequences of floats): 1 for the same direction, about 0 for unrelated images.
    Raises ``LedgeError.InvalidArgument`` when the lengths differ (embeddings of different
    models) or a vector is all zeros or not finite."""
    return _native.cosine_similarity(_floats(a), _floats(b))


def _embedding_cosine_similarity(self: Embedding, other: Any) -> float:
    """Cosine similarity with ``other`` (an :class:`Embedding`, NumPy array or sequence), in
    [−1, 1]; see :func:`cosine_similarity`."""
    return cosine_similarity(self, other)


def _embedding_array(self: Embedding, dtype=None, copy=None):
    import numpy as np

    arr = np.asarray(self.values, dtype=np.float32)
    return arr if dtype is None else arr.astype(dtype)


def _embedding_repr(self: Embedding) -> str:
    head = ", ".join(f"{v:.4f}" for v in self.values[:4])
    more = f", ... {len(self.values)} values" if len(self.values) > 4 else ""
    return f"Embedding(values=[{head}{more}])"


Embedding.cosine_similarity = _embedding_cosine_similarity  # type: ignore[attr-defined]
Embedding.__array__ = _embedding_array  # type: ignore[attr-defined]
Embedding.__len__ = lambda self: len(self.values)  # type: ignore[attr-defined]
Embedding.__repr__ = _embedding_repr  # type: ignore[method-assign]
Embedding.__str__ = _embedding_repr  # type: ignore[method-assign]


def _options(options: Optional[LoadOptions], fields: dict) -> LoadOptions:
    """``options`` as given, or a :class:`LoadOptions` of the keyword arguments (every field of
    the core's ``LoadOptions`` is one: ``batch``, ``manifest``, ``limits``, ``isa``,
    ``trusted_keys``, ``cache``, ...)."""
    if options is not None:
        if fields:
            raise TypeError(f"pass options= or keyword options, not both ({', '.join(fields)})")
        return options
    if fields.get("input_shapes") is not None:
        fields["input_shapes"] = [list(s) for s in fields["input_shapes"]]
    if fields.get("trusted_keys") is not None:
        if isinstance(fields["trusted_keys"], str):
            raise TypeError("trusted_keys is a list of hex public keys, e.g. trusted_keys=[key]")
        fields["trusted_keys"] = [str(k) for k in fields["trusted_keys"]]
    return LoadOptions(**fields)


class Model:
    """A loaded, optimized model. Thread-safe: load once, call from any number of threads
    (the GIL is released while the model runs)."""

    __slots__ = ("_native", "_info")

    def __init__(self, native: _native.Model):
        self._native = native
        self._info: Optional[ModelInfo] = None

    @classmethod
    def from_path(
        cls, path: PathLike, options: Optional[LoadOptions] = None, **fields: Any
    ) -> "Model":
        """Loads an ONNX file. Options are a :class:`LoadOptions` or its fields as keywords
        (``manifest=``, ``batch=``, ``input_shapes=``, ``labels=``, ``verify_integrity=``,
        ``limits=``, ``ledge_kernels=``, ``isa=``, ``trusted_keys=``, ``cache=``). The manifest
        comes from ``manifest``, else a sidecar beside the file (``model.onnx`` →
        ``model.toml``), else the one ``ledge pack`` embedded.

        ``trusted_keys=[hex, ...]`` (Ed25519 public keys, as ``ledge keygen`` writes
        ``ledge.pub``) loads only a package signed by one of them (``ledge pack --sign``);
        anything else raises ``LedgeError.Signature`` whose ``problem`` is ``"unsigned"``,
        ``"untrusted_key"`` or ``"invalid"``. ``cache=ledge.CacheOptions(max_entries=256,
        max_bytes=4 << 20)`` keeps task results by (task, options, input bytes): a repeated input
        returns what the first call computed, counted in ``stats().cache_hits``."""
        return cls(_native.Model.from_path(os.fspath(path), _options(options, fields)))

    @classmethod
    def from_bytes(
        cls,
        data: Union[bytes, bytearray, memoryview],
        options: Optional[LoadOptions] = None,
        **fields: Any,
    ) -> "Model":
        """Loads ONNX bytes (manifest from the options or embedded); options as in
        :meth:`from_path`."""
        return cls(_native.Model.from_bytes(bytes(data), _options(options, fields)))

    @property
    def info(self) -> ModelInfo:
        """Inputs, outputs, manifest, sha256, size, operator histogram, cost estimates."""
        if self._info is None:
            self._info = self._native.info()
        return self._info

    def stats(self) -> Stats:
        """Usage since load: ``runs``, ``classifications``, latency ``p50_ms``/``p95_ms``/
        ``p99_ms``, ``mean_top1_score``, ``errors`` (failed calls by kind, e.g.
        ``{"ImageDecode": 1}``), ``cache_hits``/``cache_misses``, ``confidence_histogram`` (10
        bins of 0.1 of the top-1 score), ``class_histogram`` (top-1 class index → count),
        ``mean_entropy`` (in [0, 1]; near 1 the model is guessing) and ``drift`` (a
        :class:`Drift` against the manifest's ``[baseline]``, ``None`` without one)."""
        return self._native.stats()

    def classify(
        self,
        image: ImageInput,
        top_k: Optional[int] = 5,
        *,
        score_threshold: float = 0.0,
        allowlist: Sequence[str] = (),
        denylist: Sequence[str] = (),
    ) -> list[Prediction]:
        """Classifies an encoded image (JPEG/PNG bytes, or a file path): the ``top_k`` best
        classes, best first (``None`` for all), scoring at least ``score_threshold``, only those
        of ``allowlist`` (labels or indices) when given, none of ``denylist``."""
        o = _classify_options(top_k, score_threshold, allowlist, denylist)
        if isinstance(image, (bytes, bytearray, memoryview)):
            return self._native.classify_encoded(bytes(image), o)
        return self._native.classify_path(os.fspath(image), o)

    def classify_batch(
        self,
        images: Iterable[ImageInput],
        top_k: Optional[int] = 5,
        *,
        score_threshold: float = 0.0,
        allowlist: Sequence[str] = (),
        denylist: Sequence[str] = (),
    ) -> list[list[Prediction]]:
        """Classifies several encoded images (JPEG/PNG bytes, or file paths) in one run of the
        model: one list of predictions per image, in order, equal to what :meth:`classify`
        returns for each (options as :meth:`classify`; the cache is not consulted). Raises the
        error of the first image that fails."""
        o = _classify_options(top_k, score_threshold, allowlist, denylist)
        return self._native.classify_batch([_image_bytes(i) for i in images], o)

    def classify_rgba(
        self,
        rgba: Any,
        width: Optional[int] = None,
        height: Optional[int] = None,
        top_k: Optional[int] = 5,
        *,
        score_threshold: float = 0.0,
        allowlist: Sequence[str] = (),
        denylist: Sequence[str] = (),
    ) -> list[Prediction]:
        """Classifies a tightly packed RGBA frame (camera, canvas): bytes with ``width`` and
        ``height``, or a ``(height, width, 4)`` uint8 NumPy array (options as :meth:`classify`)."""
        rgba, width, height = _rgba_frame(rgba, width, height, "classify_rgba")
        o = _classify_options(top_k, score_threshold, allowlist, denylist)
        return self._native.classify_rgba(rgba, width, height, o)

    def classify_tensor(
        self,
        tensor: Any,
        top_k: Optional[int] = 5,
        *,
        score_threshold: float = 0.0,
        allowlist: Sequence[str] = (),
        denylist: Sequence[str] = (),
    ) -> list[Prediction]:
        """Classifies an already preprocessed input (a :class:`Tensor` or NumPy array; options
        as :meth:`classify`)."""
        o = _classify_options(top_k, score_threshold, allowlist, denylist)
        return self._native.classify_tensor(Tensor._of(tensor), o)

    def detect(
        self,
        image: ImageInput,
        *,
        max_results: Optional[int] = None,
        score_threshold: Optional[float] = None,
        iou_threshold: Optional[float] = None,
        allowlist: Sequence[str] = (),
        denylist: Sequence[str] = (),
    ) -> list[Detection]:
        """Detects objects in an encoded image (JPEG/PNG bytes, or a file path) with a detection
        model (manifest ``task = "detect"``): at most ``max_results`` :class:`Detection`, best
        first, scoring at least ``score_threshold`` (in [0, 1]), after non-maximum suppression
        of boxes overlapping a better one by more than ``iou_threshold`` IoU (in [0, 1]); only
        classes of ``allowlist`` (labels or indices) when given, none of ``denylist``. ``None``
        takes the manifest's ``[detect]`` value. Each detection has ``index``, ``label``,
        ``score``, ``bounding_box`` (``x``, ``y``, ``width``, ``height`` in pixels of the image,
        after EXIF orientation) and ``keypoints`` (:class:`Point` in image pixels)."""
        o = _detect_options(max_results, score_threshold, iou_threshold, allowlist, denylist)
        if isinstance(image, (bytes, bytearray, memoryview)):
            return self._native.detect_encoded(bytes(image), o)
        return self._native.detect_path(os.fspath(image), o)

    def detect_rgba(
        self,
        rgba: Any,
        width: Optional[int] = None,
        height: Optional[int] = None,
        *,
        max_results: Optional[int] = None,
        score_threshold: Optional[float] = None,
        iou_threshold: Optional[float] = None,
        allowlist: Sequence[str] = (),
        denylist: Sequence[str] = (),
    ) -> list[Detection]:
        """Detects objects in a tightly packed RGBA frame (camera, canvas): bytes with ``width``
        and ``height``, or a ``(height, width, 4)`` uint8 NumPy array; boxes in the frame's
        pixels (options as :meth:`detect`)."""
        rgba, width, height = _rgba_frame(rgba, width, height, "detect_rgba")
        o = _detect_options(max_results, score_threshold, iou_threshold, allowlist, denylist)
        return self._native.detect_rgba(rgba, width, height, o)

    def embed(self, image: ImageInput) -> Embedding:
        """The :class:`Embedding` of an encoded image (JPEG/PNG bytes, or a file path) with an
        embedding model (manifest ``task = "embed"``): ``values``, the feature vector (floats;
        of unit length unless the manifest says ``l2_normalize = false``). Compare two with
        :func:`cosine_similarity` or ``a.cosine_similarity(b)``; ``numpy.asarray(e)`` gives a
        float32 array."""
        if isinstance(image, (bytes, bytearray, memoryview)):
            return self._native.embed_encoded(bytes(image))
        return self._native.embed_path(os.fspath(image))

    def embed_rgba(
        self, rgba: Any, width: Optional[int] = None, height: Optional[int] = None
    ) -> Embedding:
        """The :class:`Embedding` of a tightly packed RGBA frame: bytes with ``width`` and
        ``height``, or a ``(height, width, 4)`` uint8 NumPy array."""
        rgba, width, height = _rgba_frame(rgba, width, height, "embed_rgba")
        return self._native.embed_rgba(rgba, width, height)

    def run(self, inputs: Any) -> list[Tensor]:
        """Runs the model on raw inputs: one :class:`Tensor`/NumPy array, or a list of them in
        input order. Returns the outputs as :class:`Tensor` (``numpy.asarray`` converts)."""
        if isinstance(inputs, (list, tuple)):
            tensors = [Tensor._of(x) for x in inputs]
        else:
            tensors = [Tensor._of(inputs)]
        return [Tensor._wrap(t) for t in self._native.run(tensors)]

    def preprocess(self, image: Union[bytes, bytearray, memoryview]) -> Tensor:
        """The exact input tensor Ledge feeds the model for encoded image bytes."""
        return Tensor._wrap(self._native.preprocess_encoded(bytes(image)))

    def __repr__(self) -> str:
        m = self.info.manifest
        name = f"{m.name} {m.version}" if m else "no manifest"
        return f"<ledge.Model {name}: {[list(i.shape) for i in self.info.inputs]}>"


class ModelStore:
    """Named, versioned models on disk (:meth:`open`) or in memory (:meth:`in_memory`): install a
    downloaded model under a version, :meth:`activate` it while other threads keep classifying
    (a call in flight finishes on the version it started with), :meth:`rollback` in one call,
    and let a candidate shadow the active version (:meth:`set_candidate`) before it is promoted.
    Thread-safe; the GIL is released while a model runs.

    On disk, every write is atomic (a kill at any point leaves the old state or the new one) and
    the store reopens with the active and previous versions it was left with."""

    __slots__ = ("_native",)

    def __init__(self, native: _native.ModelStore):
        self._native = native

    @classmethod
    def open(
        cls, path: PathLike, options: Optional[LoadOptions] = None, **fields: Any
    ) -> "ModelStore":
        """Opens (or creates) a store in the folder ``path``. Every version is loaded with the
        options (a :class:`LoadOptions` or its fields as keywords, as in
        :meth:`Model.from_path`; ``trusted_keys=[...]`` makes the store accept signed models
        only)."""
        return cls(_native.ModelStore.open(os.fspath(path), _options(options, fields)))

    @classmethod
    def in_memory(cls, options: Optional[LoadOptions] = None, **fields: Any) -> "ModelStore":
        """A store that keeps the installed models in memory only (nothing is written); options
        as in :meth:`open`."""
        return cls(_native.ModelStore.in_memory(_options(options, fields)))

    def install(self, name: str, version: str, model: ImageInput) -> None:
        """Installs a model (ONNX bytes, or a file path) as ``version`` of ``name`` without
        activating it. Names and versions are 1–128 letters, digits, ``.``, ``_``, ``-``. A
        model that does not load with the store's options (or whose signature is not trusted)
        raises that load error and nothing is written; an installed version is immutable
        (``LedgeError.InvalidArgument``)."""
        self._native.install(name, version, _image_bytes(model))

    def activate(self, name: str, version: str) -> None:
        """Makes installed ``version`` the active one of ``name``; the active one becomes the
        previous (kept loaded for :meth:`rollback`)."""
        self._native.activate(name, version)

    def rollback(self, name: str) -> None:
        """Swaps the active and the previous version of ``name`` back
        (``LedgeError.InvalidArgument`` without a previous one)."""
        self._native.rollback(name)

    def active_version(self, name: str) -> str:
        """The active version of ``name`` (``LedgeError.InvalidArgument`` when none is)."""
        return self._native.active_version(name)

    def versions(self, name: str) -> ModelVersions:
        """``versions`` (installed, in order), ``active`` and ``previous`` (``None`` when not
        set) of ``name``."""
        return self._native.versions(name)

    def set_candidate(
        self, name: str, version: str, policy: Optional[ShadowPolicy] = None, **fields: Any
    ) -> None:
        """Lets installed ``version`` shadow the active version of ``name`` on a sample of
        :meth:`classify` calls. The policy is a :class:`ShadowPolicy` or its fields as keywords:
        ``sample_rate=0.1`` (share of calls), ``min_samples=50``, ``min_agreement=0.95`` (top-1
        agreement), ``max_latency_ratio=1.2`` (candidate p95 / active p95) and
        ``auto_decide=True`` (promote or reject once ``min_samples`` are in; ``False`` leaves it
        to you: :meth:`shadow_report`, then :meth:`activate`)."""
        if policy is not None and fields:
            raise TypeError(f"pass policy= or keyword fields, not both ({', '.join(fields)})")
        if policy is None:
            policy = ShadowPolicy(**fields)
        self._native.set_candidate(name, version, policy)

    def shadow_report(self, name: str) -> Optional[ShadowReport]:
        """How the candidate of ``name`` compares with the active version so far: ``samples``,
        ``agreement``, ``mean_abs_score_delta``, ``latency_ratio`` and ``decision``
        (``"pending"``, ``"promoted"`` or ``"rejected"``); ``None`` without a candidate."""
        return self._native.shadow_report(name)

    def classify(
        self,
        name: str,
        image: ImageInput,
        top_k: Optional[int] = 5,
        *,
        score_threshold: float = 0.0,
        allowlist: Sequence[str] = (),
        denylist: Sequence[str] = (),
    ) -> Served:
        """Classifies an encoded image (JPEG/PNG bytes, or a file path) with the active version
        of ``name`` (options as :meth:`Model.classify`): a :class:`Served` with the
        ``predictions`` and the ``version`` that computed them."""
        o = _classify_options(top_k, score_threshold, allowlist, denylist)
        return self._native.classify_encoded(name, _image_bytes(image), o)

    def __repr__(self) -> str:
        return "<ledge.ModelStore>"


def _manifest_from_path(path: PathLike) -> Manifest:
    """Reads a manifest file (labels_file inlined)."""
    return _native.manifest_from_path(os.fspath(path))


def _manifest_to_toml(self: Manifest) -> str:
    """The manifest as TOML (labels inline)."""
    return _native.manifest_to_toml(self)


Manifest.from_path = staticmethod(_manifest_from_path)  # type: ignore[attr-defined]
Manifest.from_toml = staticmethod(_native.manifest_from_toml)  # type: ignore[attr-defined]
Manifest.to_toml = _manifest_to_toml  # type: ignore[attr-defined]
