"""The option types are the core's own (its optional uniffi derives): every core field is a
keyword here with the core's default, and each one reaches the core."""

import pytest

import ledge
from conftest import DEMO, read

PPOCR = DEMO / "ppocr-cls/model.onnx"


def test_load_options_are_the_cores_with_its_defaults():
    o = ledge.LoadOptions()
    assert (o.batch, o.verify_integrity, o.ledge_kernels, o.isa, o.labels) == (1, True, True, None, None)
    assert o.threads == 1
    assert o.limits == ledge.Limits()
    assert o.limits.max_plan_bytes == 1 << 30


def test_every_load_option_reaches_the_core():
    with pytest.raises(ledge.LedgeError.InvalidArgument, match='isa = "sse9"'):
        ledge.Model.from_path(PPOCR, isa="sse9")
    model = ledge.Model.from_path(PPOCR, isa="portable", labels=["up", "down"])
    assert model.classify(read("images/line0_180.png"), top_k=1)[0].label == "down"
    with pytest.raises(TypeError, match="not both"):
        ledge.Model.from_path(PPOCR, ledge.LoadOptions(), batch=2)
    with pytest.raises(ledge.LedgeError.InvalidArgument, match="not both"):
        ledge.Model.from_path(PPOCR, manifest_path=str(DEMO / "ppocr-cls/manifest.toml"),
                              manifest=ledge.Manifest.from_path(DEMO / "ppocr-cls/manifest.toml"))


def test_threads_give_identical_scores():
    png = read("images/coffee.png")
    model = DEMO / "efficientnet-lite0/model.onnx"
    one = ledge.Model.from_path(model).classify(png, top_k=5)
    for threads in (2, 0):
        many = ledge.Model.from_path(model, threads=threads).classify(png, top_k=5)
        assert [(p.index, p.score) for p in many] == [(p.index, p.score) for p in one], threads


def test_classify_options_filter_as_the_core_does():
    model = ledge.Model.from_path(PPOCR)
    png = read("images/line0_180.png")
    assert [p.label for p in model.classify(png, top_k=None)] == ["180°", "0°"]
    assert [p.label for p in model.classify(png, denylist=["180°"])] == ["0°"]
    assert [p.index for p in model.classify(png, allowlist=["0"])] == [0]
    assert len(model.classify(png, top_k=None, score_threshold=0.5)) == 1
    with pytest.raises(ledge.LedgeError.InvalidArgument, match="score_threshold"):
        model.classify(png, score_threshold=1.5)
    direct = model._native.classify_encoded(png, ledge.ClassifyOptions(max_results=1))
    assert direct[0].label == "180°"


def test_a_batch_is_refused_by_classify_with_a_typed_error():
    tensor = ledge.Model.from_path(PPOCR).preprocess(read("images/line0_0.png"))
    model = ledge.Model.from_path(PPOCR, input_shapes=[[2, 3, 48, 192]])
    with pytest.raises(ledge.LedgeError.InputShape):
        model.classify_tensor(tensor)
    import numpy as np

    batch = np.concatenate([np.asarray(tensor)] * 2)
    with pytest.raises(ledge.LedgeError.TaskMismatch) as info:
        model.classify_tensor(batch)
    assert info.value.task == "classify"
    assert "2 rows" in info.value.reason


def test_phone_photos_are_classified_as_viewed():
    """The EXIF fixtures (demo-models/fixtures/exif): top-1 as viewers show the photo by default,
    as stored with apply_exif_orientation=False (score tolerance: see core/tests/exif.rs)."""
    import json

    cases = json.loads(read("fixtures/exif/expected.json"))["cases"]
    assert len(cases) == 4
    for apply in (True, False):
        for case in cases:
            model = ledge.Model.from_path(DEMO / case["model"], apply_exif_orientation=apply)
            top = model.classify(read(case["image"]), top_k=1)[0]
            index, score = case["as_viewed_top1" if apply else "ignoring_exif_top1"]
            assert top.index == index, (case["image"], apply)
            assert abs(top.score - score) < 0.1, (case["image"], apply, top.score, score)
