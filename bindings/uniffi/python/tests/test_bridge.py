"""The bridge itself (feature `testing`): a Rust panic and every core error kind arrive as the
right `ledge.LedgeError` subclass, and the process goes on."""

import os

import pytest

import ledge
from ledge import _native

if not hasattr(_native, "testing_panic"):
    if os.environ.get("LEDGE_TESTING_REQUIRED") == "1":
        raise RuntimeError("this wheel was built without the `testing` feature")
    pytest.skip("built without the `testing` feature", allow_module_level=True)

# Every variant of the generated LedgeError: one per core error variant, plus Panic.
ALL_KINDS = {
    name
    for name, value in vars(ledge.LedgeError).items()
    if isinstance(value, type) and issubclass(value, ledge.LedgeError)
}


def test_a_panic_is_an_exception_not_a_crash(models):
    with pytest.raises(ledge.LedgeError) as info:
        _native.testing_panic("bridge test panic")
    assert info.value.kind == "Panic"
    assert isinstance(info.value, ledge.LedgeError.Panic)
    assert "bridge test panic" in str(info.value)
    # The library still works after the panic.
    assert models("ppocr-cls/model.onnx").stats().runs >= 0
    with pytest.raises(ledge.LedgeError.Panic):
        _native.testing_panic("again")


def test_every_error_kind_has_its_exception():
    assert len(ALL_KINDS) == 17 and {"Panic", "Signature"} <= ALL_KINDS, ALL_KINDS
    kinds = _native.testing_error_kinds()
    # One sample per core error variant, in declaration order; Panic is the bridge's own.
    assert len(kinds) == 16 == len(set(kinds)), kinds
    assert kinds.index("Integrity") + 1 == kinds.index("Signature") == kinds.index("Io") - 1
    assert set(kinds) | {"Panic"} == ALL_KINDS
    for kind in kinds:
        with pytest.raises(ledge.LedgeError) as info:
            _native.testing_error(kind)
        e = info.value
        assert e.kind == kind
        assert isinstance(e, getattr(ledge.LedgeError, kind))
        assert isinstance(e, Exception)
        assert str(e), kind


def test_every_exception_class_is_a_ledge_error():
    for kind in ALL_KINDS:
        cls = getattr(ledge.LedgeError, kind)
        assert issubclass(cls, ledge.LedgeError), kind


def test_structured_fields_cross_the_bridge():
    with pytest.raises(ledge.LedgeError.InputShape) as info:
        _native.testing_error("InputShape")
    assert (info.value.name, list(info.value.got)) == ("x", [1, 3, 48, 190])
    assert str(info.value) == "input 'x': expected shape [1, 3, 48, 192], got [1, 3, 48, 190]"
    with pytest.raises(ledge.LedgeError.LimitExceeded) as info:
        _native.testing_error("LimitExceeded")
    assert (info.value.limit, info.value.value, info.value.max) == ("max_image_pixels", 10, 5)
    with pytest.raises(ledge.LedgeError.Signature) as info:
        _native.testing_error("Signature")
    assert (info.value.problem, info.value.detail) == ("untrusted_key", "sample signature")
    assert str(info.value) == "signature check failed (untrusted_key): sample signature"
    with pytest.raises(ledge.LedgeError.Io) as info:
        _native.testing_error("Io")
    assert info.value.path == "/sample/missing.onnx"
    assert "sample io" in str(info.value)
