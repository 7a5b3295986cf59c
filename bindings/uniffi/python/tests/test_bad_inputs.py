"""The bad-input catalogue (mirrors core/tests/bad_inputs.rs): every hostile or mistaken input
raises its `ledge.LedgeError` subclass with a message that says what was expected and what was
found. Nothing crashes."""

import hashlib
import shutil
import struct
import zlib

import numpy as np
import pytest

import ledge
from conftest import DEMO, read

PPOCR = "ppocr-cls/model.onnx"


def raises(kind, *needles):
    """pytest.raises for one error kind, checking the message fragments afterwards."""

    class Check:
        def __enter__(self):
            self.ctx = pytest.raises(ledge.LedgeError)
            self.info = self.ctx.__enter__()
            return self.info

        def __exit__(self, *exc):
            suppressed = self.ctx.__exit__(*exc)
            e = self.info.value
            assert e.kind == kind, f"{e.kind}: {e}"
            assert isinstance(e, getattr(ledge.LedgeError, kind))
            for n in needles:
                assert n in str(e), f"'{e}' should mention '{n}'"
            return suppressed

    return Check()


def png_header(w: int, h: int) -> bytes:
    """A PNG whose header claims w × h pixels, followed by an empty data chunk."""

    def chunk(body: bytes) -> bytes:
        return struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = b"IHDR" + struct.pack(">II", w, h) + bytes([8, 2, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(ihdr) + chunk(b"IDAT")


def test_empty_file():
    with raises("ModelFormat", "empty"):
        ledge.Model.from_bytes(b"")


def test_truncated_model():
    data = read("efficientnet-lite0/model.onnx")
    for cut in [16, len(data) // 2, len(data) - 100]:
        with raises("ModelFormat", "truncated"):
            ledge.Model.from_bytes(data[:cut])


def test_random_bytes():
    state = 7
    noise = bytearray()
    for _ in range(4096):
        state = (state * 1_664_525 + 1_013_904_223) % 2**32
        noise.append(state >> 24)
    with raises("ModelFormat"):
        ledge.Model.from_bytes(bytes(noise))
    with raises("ModelFormat"):
        ledge.Model.from_bytes(b"definitely not a model")


def test_unsupported_operator_is_named():
    with raises("UnsupportedOperator", "other unsupported node") as info:
        ledge.Model.from_bytes(read("fixtures/ppocr-cls-qoperator.onnx"))
    assert "QLinear" in info.value.op
    assert info.value.others >= 1


def test_wrong_input_shape_count_and_dtype(models):
    model = ledge.Model.from_path(DEMO / PPOCR)
    with raises("InputShape", "expected shape [1, 3, 48, 192], got [1, 3, 48, 190]") as info:
        model.run(np.zeros((1, 3, 48, 190), dtype=np.float32))
    assert list(info.value.expected) == [1, 3, 48, 192]
    assert list(info.value.got) == [1, 3, 48, 190]

    with raises("InputType", "expected dtype f32, got u8") as info:
        model.run(np.zeros((1, 3, 48, 192), dtype=np.uint8))
    assert info.value.expected == ledge.DType.F32
    assert info.value.got == ledge.DType.U8

    with raises("InputCount", "expected 1 input tensor(s), got 0"):
        model.run([])
    assert model.stats().runs == 0, "failed calls are not counted"


def test_undecodable_and_truncated_images(models):
    model = models(PPOCR)
    with raises("ImageDecode"):
        model.classify(b"GIF89a nope", top_k=1)
    with raises("ImageDecode", "empty"):
        model.classify(b"", top_k=1)
    png = read("images/line0_0.png")
    with raises("ImageDecode"):
        model.classify(png[: len(png) // 2], top_k=1)
    with raises("ImageDecode", "JPEG or PNG"):
        model.classify(b"\x00\x01\x02\x03", top_k=1)


def test_zero_sized_images(models):
    model = models(PPOCR)
    with raises("ImageDecode", "0×10", "no pixels"):
        model.classify_rgba(b"", 0, 10, top_k=1)
    with raises("ImageDecode"):
        model.classify(png_header(0, 5), top_k=1)


def test_oversize_dimensions_are_refused_before_allocating(models):
    model = models(PPOCR)
    # 100 000 × 100 000 RGB would need 30 GB: refused from the 33-byte header alone.
    with raises("LimitExceeded") as info:
        model.classify(png_header(100_000, 100_000), top_k=1)
    assert info.value.limit == "max_image_pixels"
    assert info.value.value == 10_000_000_000
    with raises("LimitExceeded", "max_image_pixels is 4900000000"):
        model.classify_rgba(bytes(4), 70_000, 70_000, top_k=1)

    with raises("LimitExceeded", "max_model_bytes"):
        ledge.Model.from_path(DEMO / PPOCR, limits=ledge.Limits(max_model_bytes=1000))
    small = ledge.Model.from_path(DEMO / PPOCR, limits=ledge.Limits(max_tensor_elements=100))
    with raises("LimitExceeded", "max_tensor_elements is 27648"):
        small.run(np.zeros((1, 3, 48, 192), dtype=np.float32))


def test_bad_arguments(models):
    model = models(PPOCR)
    png = read("images/line0_0.png")
    with raises("InvalidArgument", "max_results must be at least 1, got 0"):
        model.classify(png, top_k=0)
    with raises("InvalidArgument", "needs 16 bytes, got 15"):
        model.classify_rgba(bytes(15), 2, 2, top_k=1)
    assert len(model.classify(png, top_k=100)) == 2, "k is capped at the class count"
    assert len(model.classify(png, top_k=None)) == 2, "None asks for every class"


def test_tensor_data_that_does_not_fit(models):
    model = models(PPOCR)
    with raises("InvalidArgument", "needs 27648 elements, got 2"):
        model.run(ledge.Tensor.from_values([0.0, 1.0], shape=[1, 3, 48, 192]))
    with raises("InvalidArgument", "not a whole number"):
        model.run(ledge.Tensor(shape=[1], dtype=ledge.DType.F32, data=b"\x00" * 5))
    with pytest.raises(TypeError, match="float64"):
        model.run(np.zeros((1, 3, 48, 192)))


def test_missing_file_is_io():
    with raises("Io", "no-such-model.onnx") as info:
        ledge.Model.from_path(DEMO / "no-such-model.onnx")
    assert info.value.path.endswith("no-such-model.onnx")
    with raises("Io", "no-such-image.png"):
        ledge.Model.from_path(DEMO / PPOCR).classify(DEMO / "no-such-image.png")


def test_classify_without_a_manifest_says_how_to_add_one():
    # The fixture's sidecar is not used when loading from bytes.
    model = ledge.Model.from_bytes(read("fixtures/ppocr-cls-softmax-qdq.onnx"))
    assert model.info.manifest is None
    with raises("Manifest", "no manifest", "ledge pack"):
        model.classify(read("images/line0_0.png"), top_k=1)


def test_a_manifest_that_does_not_fit_the_model():
    manifest = ledge.Manifest.from_path(DEMO / "ppocr-cls" / "manifest.toml")
    manifest.output.labels.append("90°")
    # It loads (run and info do not depend on the manifest); every task call says why not.
    model = ledge.Model.from_path(DEMO / PPOCR, manifest=manifest)
    with raises("Manifest", "3 labels", "2 classes"):
        model.classify(read("images/line0_0.png"), top_k=1)


def test_sha256_mismatch_in_a_sidecar(tmp_path):
    shutil.copy(DEMO / "fixtures/ppocr-cls-softmax-qdq.onnx", tmp_path / "m.onnx")
    shutil.copy(DEMO / "ppocr-cls/labels.txt", tmp_path / "labels.txt")
    sidecar = (DEMO / "fixtures/ppocr-cls-softmax-qdq.toml").read_text()
    sidecar = sidecar.replace("../ppocr-cls/labels.txt", "labels.txt")
    (tmp_path / "m.toml").write_text(f'sha256 = "{"0" * 64}"\n{sidecar}')
    with raises("Integrity", "0" * 64) as info:
        ledge.Model.from_path(tmp_path / "m.onnx")
    assert info.value.expected == "0" * 64

    right = hashlib.sha256(read("fixtures/ppocr-cls-softmax-qdq.onnx")).hexdigest()
    (tmp_path / "m.toml").write_text(f'sha256 = "{right}"\n{sidecar}')
    model = ledge.Model.from_path(tmp_path / "m.onnx")
    assert model.info.manifest_source == ledge.ManifestSource.SIDECAR


def test_sha256_mismatch_in_a_packed_model():
    data = bytearray(read(PPOCR))
    # Flip one bit inside the weights, far from the manifest at the end.
    data[len(data) // 2] ^= 0x10
    with raises("Integrity"):
        ledge.Model.from_bytes(bytes(data))
    # Opting out of the check loads the damaged model: the check is what caught it.
    ledge.Model.from_bytes(bytes(data), verify_integrity=False)


def test_a_graph_that_plans_terabytes_is_refused_before_allocating():
    # A 104-byte model whose ConstantOfShape asks for 2^20 × 2^20 floats (4 TiB).
    with raises("LimitExceeded", "max_plan_bytes") as info:
        ledge.Model.from_bytes(read("fixtures/plan-4tib.onnx"))
    assert info.value.limit == "max_plan_bytes"
    with raises("LimitExceeded", "the maximum is 500000"):
        ledge.Model.from_path(DEMO / PPOCR, limits=ledge.Limits(max_plan_bytes=500_000))
