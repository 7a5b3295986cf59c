"""Models users bring (issue 18), as core/tests/field_models.rs checks them in Rust: several
outputs, external data, Upsample, a dynamic height and width, 16-bit QDQ, uint8 NHWC and grey
inputs, other image formats. Expected values: onnxruntime 1.32 (demo-models/fixtures/field/ by
scripts/field_models.py; multi-output/ and external-data/ from the shared field cases)."""

import json

import numpy as np
import pytest

import ledge
from conftest import DEMO
from test_bad_inputs import raises

FIXTURES = DEMO / "fixtures"


def expected(folder: str) -> dict:
    return json.loads((FIXTURES / folder / "expected.json").read_text())


def assert_classifies(model: "ledge.Model", folder: str) -> None:
    want = expected(folder)
    for color in ("red", "green", "blue"):
        got = model.classify(FIXTURES / folder / f"{color}.png", top_k=4)
        assert [p.index for p in got] == [i for i, _ in want[color]], color
        for p, (_, score) in zip(got, want[color]):
            assert abs(p.score - score) < 0.02, (color, p, score)


def test_several_outputs_run_and_the_scores_output_is_found():
    model = ledge.Model.from_path(FIXTURES / "multi-output" / "features_then_logits.onnx")
    assert model.manifest_problem is None
    outputs = model.run(np.load(FIXTURES / "multi-output" / "red_x.npy"))
    for out, want in zip(outputs, expected("multi-output")["features_then_logits_run"]):
        np.testing.assert_allclose(np.asarray(out).ravel(), want, atol=1e-4)
    assert model.info.manifest.output.scores == "logits"
    assert_classifies(model, "multi-output")


def test_a_manifest_that_does_not_fit_fails_the_tasks_not_the_load():
    manifest = ledge.Manifest.from_path(FIXTURES / "multi-output" / "logits_then_aux.toml")
    manifest.output.labels.pop()
    model = ledge.Model.from_path(
        FIXTURES / "multi-output" / "logits_then_aux.onnx", manifest=manifest
    )
    assert "3 labels" in model.manifest_problem
    assert len(model.run(np.load(FIXTURES / "multi-output" / "red_x.npy"))) == 2
    with raises("Manifest", "3 labels", "4 classes"):
        model.classify(FIXTURES / "multi-output" / "red.png")


def test_external_data_is_read_beside_the_model_and_never_from_bytes():
    path = FIXTURES / "external-data" / "model.onnx"
    assert_classifies(ledge.Model.from_path(path), "external-data")
    with raises("ModelFormat", "'model.onnx.data'", "from its path"):
        ledge.Model.from_bytes(path.read_bytes())
    with raises("ModelFormat", "absolute or leaves"):
        ledge.Model.from_path(FIXTURES / "field" / "escape.onnx")


def test_upsample_and_a_dynamic_height_and_width():
    x5 = np.load(FIXTURES / "field" / "x5.npy")
    for opset in (7, 9):
        model = ledge.Model.from_path(FIXTURES / "field" / f"upsample_opset{opset}.onnx")
        want = np.load(FIXTURES / "field" / f"upsample_opset{opset}.out.npy")
        np.testing.assert_allclose(np.asarray(model.run(x5)[0]), want, atol=1e-5)

    path = FIXTURES / "field" / "dynamic_hw.onnx"
    with raises("InvalidArgument", "dynamic dimension 2", "--input-shape", "input_shapes"):
        ledge.Model.from_path(path)
    model = ledge.Model.from_path(path, input_shapes=[[1, 3, 48, 64]])
    runs = expected("field")
    for x, key in (("x_48x64.npy", "dynamic_hw_48x64"), ("x8.npy", "dynamic_hw_8x8")):
        got = np.asarray(model.run(np.load(FIXTURES / "field" / x))[0])
        np.testing.assert_allclose(got, runs[key], atol=1e-4)


def test_sixteen_bit_qdq_is_refused_naming_the_type():
    with raises("UnsupportedOperator", "QuantizeLinear(uint16)", "8-bit types"):
        ledge.Model.from_path(FIXTURES / "field" / "qdq_uint16.onnx")


@pytest.mark.parametrize("name", ["uint8_nhwc", "grey"])
def test_uint8_nhwc_and_grey_models_classify_as_onnxruntime(name):
    model = ledge.Model.from_path(FIXTURES / "field" / f"{name}.onnx")
    want = expected("field")[f"{name}_pattern"]
    for p in model.classify(FIXTURES / "field" / "pattern.png", top_k=4):
        assert abs(p.score - want[p.index]) < 1e-3, (p, want)


def test_webp_bmp_and_gif_decode_and_tiff_says_what_to_do():
    model = ledge.Model.from_path(DEMO / "efficientnet-lite0" / "model.onnx")
    formats = FIXTURES / "formats"
    png = model.classify(formats / "chelsea.png", top_k=1)[0]
    for name in ("chelsea_lossless.webp", "chelsea.bmp", "chelsea_orient6.webp"):
        got = model.classify(formats / name, top_k=1)[0]
        assert got.index == png.index, name
        assert abs(got.score - png.score) < 0.02, name
    assert model.classify(formats / "chelsea_lossy.webp", top_k=1)[0].index == png.index
    with raises("ImageDecode", "not supported", "convert it to JPEG or PNG"):
        model.classify(formats / "chelsea.tif")
