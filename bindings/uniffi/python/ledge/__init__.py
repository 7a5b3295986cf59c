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

    # A camera frame: NV21 bytes as a (height·3/2, width) array, turned 90° clockwise upright.
    top = model.classify_frame(nv21, "nv21", rotation_degrees=90)

    store = ledge.ModelStore.open("models")  # versions on disk: hot swap, rollback
    store.install("main", "v2", "downloads/model-v2.onnx")  # or the downloaded bytes
    store.activate("main", "v2")
    served = store.classify("main", "demo-models/images/chelsea.png", top_k=3)
    print(served.version, served.predictions)

Every failure raises a subclass of :class:`LedgeError` (``LedgeError.InputShape``,
``LedgeError.ImageDecode``, ...) whose ``kind`` is the variant's name. NumPy is optional: with
it, ``run``/``classify_tensor``/``classify_rgba``/``detect_rgba``/``embed_rgba`` and the
``*_frame`` calls accept arrays, and :class:`Tensor` and :class:`Embedding` convert with
``numpy.asarray``; without it, frames are bytes (or any buffer) with their size.
"""

from __future__ import annotations

import array
import collections
import inspect
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Optional, Sequence, Union

from . import _native
from ._native import (
    Anchors,
    Baseline,
    BoundingBox,
    BoxCoding,
    BoxOrder,
    CacheOptions,
    ClassifyOptions,
    ColorMatrix,
    ColorOrder,
    ColorRange,
    DetectOptions,
    DetectSpec,
    Detection,
    Drift,
    DType,
    EmbedSpec,
    Embedding,
    Filter,
    FrameLayout,
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
    PixelFormat,
    PlaneLayout,
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
    "ColorMatrix",
    "ColorOrder",
    "ColorRange",
    "DetectOptions",
    "DetectSpec",
    "Detection",
    "Drift",
    "DType",
    "EmbedSpec",
    "Embedding",
    "Filter",
    "FrameLayout",
    "InputSpec",
    "Layout",
    "LedgeError",
    "Limits",
    "LiveResult",
    "LiveStats",
    "LiveStream",
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
    "PixelFormat",
    "PlaneLayout",
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
    FrameLayout,
    PlaneLayout,
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
    ``threads``, ``trusted_keys``, ``cache``, ...)."""
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


# --- camera frames -----------------------------------------------------------------------------

_PIXEL_FORMATS = {
    "rgba": PixelFormat.RGBA,
    "bgra": PixelFormat.BGRA,
    "rgb": PixelFormat.RGB,
    "nv12": PixelFormat.NV12,
    "nv21": PixelFormat.NV21,
    "i420": PixelFormat.I420,
    "yuv420": PixelFormat.I420,
    "yuv_420_888": PixelFormat.I420,
}
_COLOR_MATRICES = {"bt601": ColorMatrix.BT601, "bt709": ColorMatrix.BT709}
_COLOR_RANGES = {"full": ColorRange.FULL, "video": ColorRange.VIDEO}
# Bytes per pixel of the packed formats (the last axis of their (height, width, channels) arrays).
_CHANNELS = {PixelFormat.RGBA: 4, PixelFormat.BGRA: 4, PixelFormat.RGB: 3}
# The plane order of the YUV formats, for messages.
_PLANE_NAMES = {PixelFormat.NV12: "Y, UV", PixelFormat.NV21: "Y, VU", PixelFormat.I420: "Y, U, V"}

FrameInput = Union[bytes, bytearray, memoryview, "numpy.ndarray", Sequence[Any]]


def _invalid(message: str) -> LedgeError:
    """A ``LedgeError.InvalidArgument`` raised by this layer, worded as the core's."""
    return LedgeError.InvalidArgument(message=f"invalid argument: {message}")  # type: ignore[call-arg]


def _named(value: Any, table: dict, what: str) -> Any:
    """The enum member a name (any case) or a member stands for."""
    if isinstance(value, str) and value.lower() in table:
        return table[value.lower()]
    if not isinstance(value, str) and value in table.values():
        return value
    raise _invalid(f"unknown {what} {value!r}: expected one of {', '.join(table)}")


def _u8_bytes(buffer: Any, what: str) -> bytes:
    """The bytes of a uint8 array (C order, copied) or of any bytes-like object."""
    dtype = getattr(buffer, "dtype", None)
    if dtype is not None and (dtype.kind, dtype.itemsize) != ("u", 1):
        raise _invalid(
            f"{what} must be uint8 bytes, got an array of {dtype}: convert with "
            f"arr.astype(numpy.uint8) (values 0–255)"
        )
    if dtype is not None:
        return buffer.tobytes()
    try:
        return bytes(memoryview(buffer))
    except TypeError:
        raise TypeError(
            f"{what} must be a NumPy uint8 array or bytes-like, got {type(buffer).__name__}"
        ) from None


def _split_packed(data: bytes, fmt: PixelFormat, width: int, height: int, given: str) -> list:
    """One tightly packed buffer cut into its planes; its length must be exact."""
    sizes = _native.frame_packed_plane_sizes(fmt, width, height)
    if len(data) != sum(sizes):
        parts = " + ".join(f"{n} {s}" for n, s in zip(_PLANE_NAMES.get(fmt, "").split(", "), sizes))
        raise _invalid(
            f"a tightly packed {width}×{height} {fmt.name.lower()} frame has {sum(sizes)} bytes"
            f"{f' ({parts})' if len(sizes) > 1 else ''}, got {given} of {len(data)}: check the "
            f"size and format, or pass the planes as a list with strides="
        )
    planes, start = [], 0
    for size in sizes:
        planes.append(data[start : start + size])
        start += size
    return planes


def _array_frame(arr: Any, fmt: PixelFormat) -> tuple:
    """``(planes, width, height)`` of a tightly packed frame given as one NumPy array."""
    shape = tuple(arr.shape)
    name = fmt.name.lower()
    if fmt in _CHANNELS:
        c = _CHANNELS[fmt]
        if len(shape) != 3 or shape[2] != c:
            raise _invalid(
                f"an {name} frame array has shape (height, width, {c}), got {shape}: pass the "
                f"format the pixels are in (rgba, bgra: 4 channels; rgb: 3)"
            )
        height, width = shape[0], shape[1]
    else:
        if len(shape) != 2 or shape[0] % 3 or shape[1] % 2:
            raise _invalid(
                f"an {name} frame array has shape (height·3/2, width) with an even width and "
                f"height (Y rows, then the chroma rows: OpenCV's layout), got {shape}: for odd "
                f"sizes or padded rows pass the planes as a list ({_PLANE_NAMES[fmt]}) with "
                f"width=, height= and strides="
            )
        height, width = shape[0] * 2 // 3, shape[1]
    data = _u8_bytes(arr, f"an {name} frame")
    return _split_packed(data, fmt, width, height, f"an array of shape {shape}"), width, height


def _u32(value: Any, what: str) -> int:
    """``value`` as an int in [0, 2³²) (a NumPy integer too); else ``LedgeError.InvalidArgument``."""
    n = int(value)
    if not 0 <= n < 2**32:
        raise _invalid(f"{what} must be a whole number from 0 to 2³²−1, got {n}")
    return n


def _plane_layouts(strides: Any) -> list:
    """``strides`` as ``PlaneLayout`` records: ``(row_stride, pixel_stride)`` pairs or
    ``PlaneLayout`` already."""
    out = []
    for s in strides:
        if isinstance(s, PlaneLayout):
            out.append(s)
        else:
            row_stride, pixel_stride = s
            out.append(
                PlaneLayout(
                    row_stride=_u32(row_stride, "a row stride"),
                    pixel_stride=_u32(pixel_stride, "a pixel stride"),
                )
            )
    return out


def _region(region: Any) -> Optional[BoundingBox]:
    if region is None or isinstance(region, BoundingBox):
        return region
    x, y, w, h = region
    return BoundingBox(x=float(x), y=float(y), width=float(w), height=float(h))


def _frame(
    frame: Any,
    format: Any,
    width: Optional[int],
    height: Optional[int],
    strides: Any,
    rotation_degrees: int,
    mirror: bool,
    region: Any,
    color_matrix: Any,
    color_range: Any,
) -> tuple:
    """``(planes, FrameLayout)`` of a frame in any of the forms the ``*_frame`` calls take. The
    planes are copied (``bytes``): the caller's buffer is free as soon as this returns."""
    fmt = _named(format, _PIXEL_FORMATS, "pixel format")
    name = fmt.name.lower()
    if isinstance(frame, (list, tuple)):
        planes = [_u8_bytes(p, f"plane {i} of an {name} frame") for i, p in enumerate(frame)]
        if width is None or height is None:
            first = frame[0] if frame else None
            if strides is not None or len(getattr(first, "shape", ())) < 2:
                raise TypeError(
                    "a list of planes needs width= and height= (the stored frame's size in "
                    "pixels) unless its first plane is a tightly packed 2-D array"
                )
            height, width = first.shape[0], first.shape[1]
    elif hasattr(frame, "shape") and hasattr(frame, "dtype"):
        if strides is not None:
            raise TypeError(
                "strides= describe planes given as a list; one array is read tightly packed"
            )
        planes, w, h = _array_frame(frame, fmt)
        if (width, height) not in ((None, None), (w, h)):
            raise _invalid(
                f"width={width}, height={height} do not match the {w}×{h} frame of the array's "
                f"shape {tuple(frame.shape)}: leave them out for an array"
            )
        width, height = w, h
    else:
        data = _u8_bytes(frame, f"an {name} frame")
        if width is None or height is None:
            raise TypeError(f"an {name} frame of bytes needs width= and height=")
        width, height = _u32(width, "width"), _u32(height, "height")
        if strides is None:
            planes = _split_packed(data, fmt, width, height, "bytes")
        elif fmt in _CHANNELS:
            planes = [data]
        else:
            raise TypeError(
                f"strides= for an {name} frame need its planes as a list ({_PLANE_NAMES[fmt]})"
            )
    # The core checks for 0/90/180/270; a negative turn would not even cross the bridge.
    if not 0 <= int(rotation_degrees) < 2**32:
        raise _invalid(
            f"rotation_degrees must be 0, 90, 180 or 270 (the clockwise turn that makes the "
            f"frame upright, as Android's getRotationDegrees() says), got {rotation_degrees}"
        )
    layout = FrameLayout(
        format=fmt,
        width=_u32(width, "width"),
        height=_u32(height, "height"),
        planes=[] if strides is None else _plane_layouts(strides),
        rotation_degrees=int(rotation_degrees),
        mirror=bool(mirror),
        color_matrix=_named(color_matrix, _COLOR_MATRICES, "colour matrix"),
        color_range=_named(color_range, _COLOR_RANGES, "colour range"),
        region=_region(region),
    )
    return planes, layout


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
        ``limits=``, ``ledge_kernels=``, ``isa=``, ``threads=``, ``trusted_keys=``, ``cache=``).
        The manifest comes from ``manifest``, else a sidecar beside the file (``model.onnx`` →
        ``model.toml``), else the one ``ledge pack`` embedded. ``threads=2`` runs the
        convolutions and matrix products on two threads (0: one per core), with identical
        outputs.

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

    @property
    def manifest_problem(self) -> Optional[str]:
        """Why the manifest does not fit the model (e.g. 3 labels for 4 classes), or ``None``.
        Such a model loads and :meth:`run` works; every task call raises
        ``LedgeError.Manifest`` with this message."""
        return self._native.manifest_problem()

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
        """Classifies an encoded image (JPEG/PNG/WebP/BMP/GIF bytes, or a file path): the ``top_k`` best
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
        """Classifies several encoded images (JPEG/PNG/WebP/BMP/GIF bytes, or file paths) in one run of the
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
        """Detects objects in an encoded image (JPEG/PNG/WebP/BMP/GIF bytes, or a file path) with a detection
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
        """The :class:`Embedding` of an encoded image (JPEG/PNG/WebP/BMP/GIF bytes, or a file path) with an
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

    def classify_frame(
        self,
        frame: FrameInput,
        format: Union[str, PixelFormat],
        *,
        width: Optional[int] = None,
        height: Optional[int] = None,
        strides: Optional[Sequence[Any]] = None,
        rotation_degrees: int = 0,
        mirror: bool = False,
        region: Any = None,
        color_matrix: Union[str, ColorMatrix] = "bt601",
        color_range: Union[str, ColorRange] = "full",
        top_k: Optional[int] = 5,
        score_threshold: float = 0.0,
        allowlist: Sequence[str] = (),
        denylist: Sequence[str] = (),
    ) -> list[Prediction]:
        """Classifies a camera frame (options as :meth:`classify`).

        ``format`` is ``"rgba"``, ``"bgra"``, ``"rgb"``, ``"nv12"``, ``"nv21"`` or ``"i420"``
        (``"yuv_420_888"``: Android's three planes with any chroma pixel stride), or a
        :class:`PixelFormat`. ``frame`` is one of:

        - a uint8 NumPy array, tightly packed: ``(height, width, 4)`` for rgba/bgra,
          ``(height, width, 3)`` for rgb, ``(height·3/2, width)`` for nv12/nv21/i420 (Y rows,
          then the chroma rows, as OpenCV lays them out; even sizes);
        - bytes (or any buffer) of a tightly packed frame, with ``width`` and ``height``;
        - a list of planes (uint8 arrays or bytes) in the format's order — Y, then interleaved
          UV (nv12) or VU (nv21); Y, U, V (i420) — with ``width``, ``height`` (the stored size in
          pixels) and ``strides``, one ``(row_stride, pixel_stride)`` pair in bytes per plane
          (or :class:`PlaneLayout`), as a camera reports them; without ``strides`` the planes
          are tightly packed. A plane's last row need not be padded.

        ``rotation_degrees`` (0, 90, 180, 270) is the clockwise turn that makes the stored frame
        upright, as Android's ``ImageInfo.getRotationDegrees()`` says; ``mirror`` flips the
        upright frame left to right (a front camera's preview). ``region`` is ``(x, y, width,
        height)`` (or a :class:`BoundingBox`) in upright-frame pixels: only that part is
        classified. YUV frames use ``color_matrix`` ``"bt601"`` (default) or ``"bt709"`` and
        ``color_range`` ``"full"`` (default, 0–255) or ``"video"`` (16–235).

        The bytes are copied before the model runs: the caller's buffer may be reused as soon as
        the call returns. A frame that does not fit its description raises
        ``LedgeError.InvalidArgument`` saying which plane needs how many bytes; an empty one
        ``LedgeError.ImageDecode``."""
        planes, layout = _frame(
            frame,
            format,
            width,
            height,
            strides,
            rotation_degrees,
            mirror,
            region,
            color_matrix,
            color_range,
        )
        o = _classify_options(top_k, score_threshold, allowlist, denylist)
        return self._native.classify_frame(planes, layout, o)

    def detect_frame(
        self,
        frame: FrameInput,
        format: Union[str, PixelFormat],
        *,
        width: Optional[int] = None,
        height: Optional[int] = None,
        strides: Optional[Sequence[Any]] = None,
        rotation_degrees: int = 0,
        mirror: bool = False,
        region: Any = None,
        color_matrix: Union[str, ColorMatrix] = "bt601",
        color_range: Union[str, ColorRange] = "full",
        max_results: Optional[int] = None,
        score_threshold: Optional[float] = None,
        iou_threshold: Optional[float] = None,
        allowlist: Sequence[str] = (),
        denylist: Sequence[str] = (),
    ) -> list[Detection]:
        """Detects objects in a camera frame (the frame as in :meth:`classify_frame`, options
        as in :meth:`detect`). Boxes and keypoints are in pixels of the upright frame — as
        displayed, after rotation and mirror — even with a ``region``."""
        planes, layout = _frame(
            frame,
            format,
            width,
            height,
            strides,
            rotation_degrees,
            mirror,
            region,
            color_matrix,
            color_range,
        )
        o = _detect_options(max_results, score_threshold, iou_threshold, allowlist, denylist)
        return self._native.detect_frame(planes, layout, o)

    def embed_frame(
        self,
        frame: FrameInput,
        format: Union[str, PixelFormat],
        *,
        width: Optional[int] = None,
        height: Optional[int] = None,
        strides: Optional[Sequence[Any]] = None,
        rotation_degrees: int = 0,
        mirror: bool = False,
        region: Any = None,
        color_matrix: Union[str, ColorMatrix] = "bt601",
        color_range: Union[str, ColorRange] = "full",
    ) -> Embedding:
        """The :class:`Embedding` of a camera frame (the frame as in :meth:`classify_frame`)."""
        planes, layout = _frame(
            frame,
            format,
            width,
            height,
            strides,
            rotation_degrees,
            mirror,
            region,
            color_matrix,
            color_range,
        )
        return self._native.embed_frame(planes, layout)

    def live_stream(
        self,
        task: str = "classify",
        *,
        callback: Optional[Callable[["LiveResult"], None]] = None,
        buffer: int = 8,
        **options: Any,
    ) -> "LiveStream":
        """A :class:`LiveStream` over this model: camera frames in, one at a time, results out
        (``task`` ``"classify"``, ``"detect"`` or ``"embed"``; ``options`` as that task's
        ``*_frame`` call takes them, e.g. ``top_k=3``)."""
        return LiveStream(self, task, callback=callback, buffer=buffer, **options)

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

    def preprocess_frame(
        self,
        frame: FrameInput,
        format: Union[str, PixelFormat],
        *,
        width: Optional[int] = None,
        height: Optional[int] = None,
        strides: Optional[Sequence[Any]] = None,
        rotation_degrees: int = 0,
        mirror: bool = False,
        region: Any = None,
        color_matrix: Union[str, ColorMatrix] = "bt601",
        color_range: Union[str, ColorRange] = "full",
    ) -> Tensor:
        """The exact input tensor Ledge feeds the model for a camera frame (the frame as in
        :meth:`classify_frame`: converted, turned, mirrored, cut to the region, resized and
        normalized), without running the model."""
        planes, layout = _frame(
            frame,
            format,
            width,
            height,
            strides,
            rotation_degrees,
            mirror,
            region,
            color_matrix,
            color_range,
        )
        return Tensor._wrap(self._native.preprocess_frame(planes, layout))

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

    def stats(self, name: str, version: str) -> Stats:
        """The :class:`Stats` of a loaded ``version`` of ``name`` since it was loaded — the
        active one, the previous one (kept for :meth:`rollback`) or the shadow candidate — each
        with its own counts: compare them before promoting, watch them after a swap.
        ``LedgeError.InvalidArgument`` for any other version (not installed, or not loaded)."""
        return self._native.stats(name, version)

    def set_candidate(
        self, name: str, version: str, policy: Optional[ShadowPolicy] = None, **fields: Any
    ) -> None:
        """Lets installed ``version`` shadow the active version of ``name`` on a sample of
        :meth:`classify` calls. The policy is a :class:`ShadowPolicy` or its fields as keywords:
        ``sample_rate=0.1`` (share of calls), ``min_samples=50``, ``min_agreement=0.95`` (top-1
        agreement), ``max_latency_ratio=1.2`` (candidate p95 / active p95) and
        ``auto_decide=True`` (promote or reject once ``min_samples`` are in; ``False`` leaves it
        to you: :meth:`shadow_report`, then :meth:`activate`) and ``background=False``
        (``True`` runs the candidate on a thread of its own, so a sampled call returns as soon
        as the active version answers; a promotion decided there shows as ``"promoting"`` in
        :meth:`shadow_report` and takes effect at the next call)."""
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
        """Classifies an encoded image (JPEG/PNG/WebP/BMP/GIF bytes, or a file path) with the active version
        of ``name`` (options as :meth:`Model.classify`): a :class:`Served` with the
        ``predictions`` and the ``version`` that computed them."""
        o = _classify_options(top_k, score_threshold, allowlist, denylist)
        return self._native.classify_encoded(name, _image_bytes(image), o)

    def __repr__(self) -> str:
        return "<ledge.ModelStore>"


# --- live streams ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveResult:
    """What a :class:`LiveStream` delivers for one processed frame."""

    timestamp: Any
    """The frame's own timestamp, as given to :meth:`LiveStream.submit` (e.g. the camera's
    nanoseconds)."""
    value: Any
    """The task's result: a list of :class:`Prediction` (classify), of :class:`Detection`
    (detect) or an :class:`Embedding` (embed); ``None`` when the frame failed."""
    error: Optional[Exception]
    """The failure (a :class:`LedgeError` subclass for anything the frame or the model got
    wrong), or ``None``."""
    latency_ms: float
    """Milliseconds from the frame's acceptance to its result."""

    @property
    def ok(self) -> bool:
        """Whether the frame gave a result (``error`` is ``None``)."""
        return self.error is None


@dataclass(frozen=True)
class LiveStats:
    """Counts of a :class:`LiveStream` so far. Once no frame is in flight,
    ``submitted == processed + dropped + failed``."""

    submitted: int
    """Frames given to :meth:`LiveStream.submit` while the stream was open."""
    processed: int
    """Frames that gave a result."""
    dropped: int
    """Frames refused because another one was in flight (never copied, never run)."""
    failed: int
    """Frames whose call failed (their ``LiveResult.error`` says why)."""
    fps: float
    """Processed frames per second over the last two seconds (0 before two results)."""
    discarded: int
    """Results not read in time: without a callback, the stream keeps the newest ``buffer``
    unread results and discards older ones."""


def _classify_call(top_k=5, score_threshold=0.0, allowlist=(), denylist=()):
    o = _classify_options(top_k, score_threshold, allowlist, denylist)
    return lambda native, planes, layout: native.classify_frame(planes, layout, o)


def _detect_call(
    max_results=None, score_threshold=None, iou_threshold=None, allowlist=(), denylist=()
):
    o = _detect_options(max_results, score_threshold, iou_threshold, allowlist, denylist)
    return lambda native, planes, layout: native.detect_frame(planes, layout, o)


def _embed_call():
    return lambda native, planes, layout: native.embed_frame(planes, layout)


_TASK_CALLS = {"classify": _classify_call, "detect": _detect_call, "embed": _embed_call}
_log = logging.getLogger("ledge")
_FPS_WINDOW_S = 2.0


class LiveStream:
    """Runs a model on a camera's frames with at most one frame in flight, on a thread of its
    own: :meth:`submit` returns at once (``False``, and the frame counted as dropped, when the
    previous frame is still running), and each result arrives with its frame's timestamp — to
    ``callback`` (called on the stream's thread, in order) or, without one, by iterating the
    stream. Errors are delivered too, never raised into the camera's thread.

    An accepted frame's bytes are copied inside :meth:`submit`, so the camera's buffer may be
    released (or reused) as soon as it returns; a dropped frame is not copied at all.

    ::

        stream = model.live_stream("classify", top_k=1)
        camera.on_frame(lambda f: stream.submit(f.nv21, "nv21", timestamp=f.ns, rotation_degrees=90))
        for result in stream:                    # until stream.close()
            if result.ok:
                print(result.timestamp, result.value[0].label)

    A frame in flight is one that was accepted and whose result has not yet been delivered: a
    slow callback makes frames drop, never results. Use it as a context manager, or call
    :meth:`close`."""

    def __init__(
        self,
        model: "Model",
        task: str = "classify",
        *,
        callback: Optional[Callable[[LiveResult], None]] = None,
        buffer: int = 8,
        **options: Any,
    ):
        """``task`` is ``"classify"``, ``"detect"`` or ``"embed"``; ``options`` are that task's
        (``top_k=``, ``score_threshold=``, ... as :meth:`Model.classify_frame` /
        :meth:`Model.detect_frame` take them; none for embed). ``buffer`` bounds the unread
        results kept for iteration when there is no ``callback``."""
        if task not in _TASK_CALLS:
            raise ValueError(f"task must be one of {', '.join(_TASK_CALLS)}, got {task!r}")
        allowed = inspect.signature(_TASK_CALLS[task]).parameters
        unknown = [k for k in options if k not in allowed]
        if unknown:
            raise TypeError(
                f"unknown {task} option(s) {', '.join(unknown)}: {task} takes "
                f"{', '.join(allowed) or 'none'}"
            )
        self._call = _TASK_CALLS[task](**options)
        if buffer < 1:
            raise ValueError(f"buffer must be at least 1, got {buffer}")
        self._native = model._native
        self._callback = callback
        self._lock = threading.Condition()
        self._job: Optional[tuple] = None
        self._busy = False
        self._closed = False
        self._done = False
        self._results: collections.deque = collections.deque()
        self._buffer = buffer
        self._counts = collections.Counter()
        self._finished: collections.deque = collections.deque()
        self._thread = threading.Thread(target=self._run, name=f"ledge-live-{task}", daemon=True)
        self._thread.start()

    def submit(
        self,
        frame: FrameInput,
        format: Union[str, PixelFormat],
        *,
        timestamp: Any = None,
        width: Optional[int] = None,
        height: Optional[int] = None,
        strides: Optional[Sequence[Any]] = None,
        rotation_degrees: int = 0,
        mirror: bool = False,
        region: Any = None,
        color_matrix: Union[str, ColorMatrix] = "bt601",
        color_range: Union[str, ColorRange] = "full",
    ) -> bool:
        """Offers a frame (described as for :meth:`Model.classify_frame`) with its
        ``timestamp`` (any value, returned with the result; default ``time.monotonic_ns()``).
        Returns ``True`` when the frame was accepted (its bytes copied; the result follows),
        ``False`` when another frame is in flight (dropped) or the stream is closed. Never
        raises for a bad frame: its error is delivered as the result."""
        with self._lock:
            if self._closed:
                return False
            self._counts["submitted"] += 1
            if self._busy:
                self._counts["dropped"] += 1
                return False
            self._busy = True
        accepted = time.perf_counter()
        if timestamp is None:
            timestamp = time.monotonic_ns()
        try:
            frame_args = _frame(
                frame,
                format,
                width,
                height,
                strides,
                rotation_degrees,
                mirror,
                region,
                color_matrix,
                color_range,
            )
        except Exception as e:  # noqa: BLE001 - delivered as the frame's result
            frame_args = e
        with self._lock:
            self._job = (timestamp, accepted, frame_args)
            self._lock.notify_all()
        return True

    def _run(self) -> None:
        while True:
            with self._lock:
                while self._job is None and not (self._closed and not self._busy):
                    self._lock.wait()
                job, self._job = self._job, None
            if job is None:
                break
            timestamp, accepted, frame_args = job
            value, error = None, None
            try:
                if isinstance(frame_args, Exception):
                    raise frame_args
                value = self._call(self._native, *frame_args)
            except Exception as e:  # noqa: BLE001 - delivered, never raised into the camera
                error = e
            result = LiveResult(timestamp, value, error, (time.perf_counter() - accepted) * 1e3)
            with self._lock:
                if error is None:
                    self._counts["processed"] += 1
                    now = time.monotonic()
                    self._finished.append(now)
                    while self._finished and now - self._finished[0] > _FPS_WINDOW_S:
                        self._finished.popleft()
                else:
                    self._counts["failed"] += 1
            self._deliver(result)
            with self._lock:
                self._busy = False
                self._lock.notify_all()
        with self._lock:
            self._done = True
            self._lock.notify_all()

    def _deliver(self, result: LiveResult) -> None:
        if self._callback is not None:
            try:
                self._callback(result)
            except Exception:  # noqa: BLE001 - the stream goes on
                _log.exception("ledge live stream: the callback raised")
            return
        with self._lock:
            if len(self._results) == self._buffer:
                self._results.popleft()
                self._counts["discarded"] += 1
            self._results.append(result)
            self._lock.notify_all()

    def get(self, timeout: Optional[float] = None) -> Optional[LiveResult]:
        """The oldest unread result, waiting up to ``timeout`` seconds (``None``: until one
        arrives); ``None`` on timeout, or once the stream is closed and every result was
        read. Only without a callback."""
        if self._callback is not None:
            raise RuntimeError("this stream delivers its results to its callback")
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while not self._results and not self._done:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return None
                self._lock.wait(left)
            return self._results.popleft() if self._results else None

    def __iter__(self) -> Iterator[LiveResult]:
        """The results in order, until the stream is closed and every result was read."""
        while True:
            result = self.get()
            if result is None:
                return
            yield result

    @property
    def stats(self) -> LiveStats:
        """Frames submitted, processed, dropped and failed, frames per second, results
        discarded unread."""
        with self._lock:
            c, now = self._counts, time.monotonic()
            recent = [t for t in self._finished if now - t <= _FPS_WINDOW_S]
            span = recent[-1] - recent[0] if len(recent) >= 2 else 0.0
            fps = (len(recent) - 1) / span if span > 0 else 0.0
            return LiveStats(
                submitted=c["submitted"],
                processed=c["processed"],
                dropped=c["dropped"],
                failed=c["failed"],
                fps=fps,
                discarded=c["discarded"],
            )

    def close(self, timeout: Optional[float] = None) -> None:
        """Accepts no more frames; the frame in flight, if any, finishes and is delivered.
        Waits for it up to ``timeout`` seconds (``None``: as long as it takes), except when
        called from the callback itself. Iteration ends once the results are read."""
        with self._lock:
            self._closed = True
            self._lock.notify_all()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    @property
    def busy(self) -> bool:
        """Whether a frame is in flight (a :meth:`submit` now would drop its frame): check it
        to skip preparing a frame that would be dropped."""
        return self._busy

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def __enter__(self) -> "LiveStream":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        s = self.stats
        state = "closed" if self._closed else "open"
        return (
            f"<ledge.LiveStream {state}: {s.submitted} submitted, {s.processed} processed, "
            f"{s.dropped} dropped, {s.failed} failed, {s.fps:.1f} fps>"
        )


def _manifest_from_path(path: PathLike) -> Manifest:
    """Reads a manifest file (labels_file inlined)."""
    return _native.manifest_from_path(os.fspath(path))


def _manifest_to_toml(self: Manifest) -> str:
    """The manifest as TOML (labels inline)."""
    return _native.manifest_to_toml(self)


Manifest.from_path = staticmethod(_manifest_from_path)  # type: ignore[attr-defined]
Manifest.from_toml = staticmethod(_native.manifest_from_toml)  # type: ignore[attr-defined]
Manifest.to_toml = _manifest_to_toml  # type: ignore[attr-defined]
