"""Detection and embedding: every shared vector (demo-models/vectors/detect.json, embed.json),
with the rule every language applies, and the typed errors of the task calls.

Detection rule: the same number of detections as the reference; each expected detection is
matched to a not yet matched actual one of the same class index, the best IoU first, which must
reach the case's ``min_iou``, with ``|Δscore| ≤ score_tolerance``, the same label and as many
keypoints. Embedding rule: cosine with the expected vector ≥ ``min_cosine``; each pair's cosine
within its ``tolerance`` of the reference's."""

import numpy as np
import pytest

import ledge
from conftest import DEMO, WORST, detect_vectors, embed_vectors, mismatches, read, rgba_frame

DETECT = detect_vectors()
EMBED = embed_vectors()
SSD = "ssd-mobilenetv2-oid/model.onnx"
EMBEDDER = "efficientnet-lite0-embed/model.onnx"

# detect.json's options are the core's DetectOptions in camelCase (serde, unknown fields refused).
_OPTION_FIELDS = {
    "maxResults": "max_results",
    "scoreThreshold": "score_threshold",
    "iouThreshold": "iou_threshold",
    "allowlist": "allowlist",
    "denylist": "denylist",
}


def detect_options(options: dict) -> dict:
    unknown = set(options) - set(_OPTION_FIELDS)
    assert not unknown, f"unknown DetectOptions fields {unknown}"
    return {_OPTION_FIELDS[k]: v for k, v in options.items()}


def test_the_task_vector_sets_are_there():
    assert len(DETECT) >= 7
    assert sum(len(c["expected"]) for c in DETECT) >= 6, "detect.json expects almost nothing"
    assert len(EMBED["cases"]) >= 6
    assert len(EMBED["pairs"]) >= 6


@pytest.mark.parametrize("case", DETECT, ids=[c["name"] for c in DETECT])
def test_detection_vector(case, models):
    model = models(case["model"])
    got = model.detect(read(case["image"]), **detect_options(case["options"]))
    diffs: list = []
    problems = mismatches(case, got, diffs)
    key = f"{case['model']} detect"
    WORST[key] = max([WORST.get(key, 0.0), *diffs])
    assert not problems, problems


def test_the_matching_rule_can_fail():
    """The rule refuses a wrong count, class, box or score (so the vectors test can fail)."""
    case = next(c for c in DETECT if len(c["expected"]) == 1)
    e = case["expected"][0]

    def det(index=e["index"], score=e["score"], xywh=e["box"]):
        return ledge.Detection(
            index=index,
            label=e["label"],
            score=score,
            bounding_box=ledge.BoundingBox(x=xywh[0], y=xywh[1], width=xywh[2], height=xywh[3]),
            keypoints=[ledge.Point(x=x, y=y) for x, y in e["keypoints"]],
        )

    assert mismatches(case, [det()]) == []
    assert mismatches(case, [])
    assert mismatches(case, [det(), det()])
    assert mismatches(case, [det(index=e["index"] + 1)])
    assert mismatches(case, [det(score=e["score"] + 2 * case["score_tolerance"])])
    x, y, w, h = e["box"]
    assert mismatches(case, [det(xywh=[x + w / 2, y, w, h])])


@pytest.mark.parametrize("case", EMBED["cases"], ids=[c["name"] for c in EMBED["cases"]])
def test_embedding_vector(case, models):
    e = models(case["model"]).embed(read(case["image"]))
    assert len(e.values) == len(case["expected"])
    cos = ledge.cosine_similarity(e, case["expected"])
    assert cos >= case["min_cosine"], f"cosine {cos}"
    assert abs(np.linalg.norm(np.asarray(e)) - 1.0) < 1e-4, "l2_normalize = true"


@pytest.mark.parametrize(
    "pair", EMBED["pairs"], ids=[f"{p['a']}~{p['b']}" for p in EMBED["pairs"]]
)
def test_embedding_pair(pair, models):
    model = models(pair["model"])
    a, b = model.embed(DEMO / pair["a"]), model.embed(DEMO / pair["b"])
    cos = a.cosine_similarity(b)
    assert abs(cos - pair["cosine"]) <= pair["tolerance"], f"cosine {cos} vs {pair['cosine']}"
    assert ledge.cosine_similarity(a, b) == cos


def test_an_embedding_is_identical_to_itself(models):
    e = models(EMBEDDER).embed(DEMO / "images/chelsea.png")
    assert len(e) == 1280
    assert ledge.cosine_similarity(e, e) == pytest.approx(1.0, abs=1e-6)
    assert ledge.cosine_similarity(e.values, np.asarray(e)) == pytest.approx(1.0, abs=1e-6)
    assert "1280 values" in repr(e)


def test_paths_bytes_and_frames_agree(models):
    """detect/embed take bytes, a path or an RGBA frame (bytes or a (H, W, 4) array), as
    classify does; a PNG without alpha decodes to the same pixels as its RGBA frame."""
    ssd, embedder = models(SSD), models(EMBEDDER)
    png = read("images/coffee.png")
    by_bytes = ssd.detect(png)
    assert len(by_bytes) == 1 and by_bytes[0].label == "Coffee cup"
    assert ssd.detect(DEMO / "images/coffee.png") == by_bytes
    assert ssd.detect(str(DEMO / "images/coffee.png")) == by_bytes
    rgba = rgba_frame(DEMO / "images/coffee.png")
    assert ssd.detect_rgba(rgba) == by_bytes
    h, w = rgba.shape[:2]
    assert ssd.detect_rgba(rgba.tobytes(), w, h) == by_bytes
    with pytest.raises(TypeError, match="width and height"):
        ssd.detect_rgba(rgba.tobytes())
    e = embedder.embed(png)
    assert embedder.embed(DEMO / "images/coffee.png") == e
    assert embedder.embed_rgba(rgba) == e
    assert embedder.embed_rgba(rgba.tobytes(), w, h) == e


def test_options_reach_the_core(models):
    ssd = models(SSD)
    png = read("images/coffee.png")
    assert len(ssd.detect(png, score_threshold=0.01, max_results=3)) == 3
    assert ssd.detect(png, denylist=["Coffee cup"]) == []
    assert [d.label for d in ssd.detect(png, allowlist=["13"])] == ["Coffee cup"]
    loose = ssd.detect(png, score_threshold=0.05, iou_threshold=1.0, max_results=1000)
    strict = ssd.detect(png, score_threshold=0.05, iou_threshold=0.0, max_results=1000)
    assert 0 < len(strict) < len(loose) < 1000
    direct = ssd._native.detect_encoded(png, ledge.DetectOptions(max_results=1))
    assert [d.label for d in direct] == ["Coffee cup"]
    assert ledge.DetectOptions() == ledge.DetectOptions(
        max_results=None, score_threshold=None, iou_threshold=None, allowlist=[], denylist=[]
    )


def test_a_task_the_model_does_not_serve_is_a_typed_error(models):
    png = read("images/chelsea.png")
    classifier = models("efficientnet-lite0/model.onnx")
    with pytest.raises(ledge.LedgeError.TaskMismatch) as info:
        classifier.detect(png)
    assert info.value.kind == "TaskMismatch"
    assert info.value.task == "detect"
    assert 'task = "classify"' in str(info.value)
    with pytest.raises(ledge.LedgeError.TaskMismatch) as info:
        classifier.embed(png)
    assert info.value.task == "embed"
    with pytest.raises(ledge.LedgeError.TaskMismatch) as info:
        models(SSD).classify(png)
    assert info.value.task == "classify"
    with pytest.raises(ledge.LedgeError.TaskMismatch):
        models(SSD).embed(png)
    with pytest.raises(ledge.LedgeError.TaskMismatch):
        models(EMBEDDER).detect(png)


@pytest.mark.parametrize(
    "options, needle",
    [
        ({"score_threshold": 1.5}, "score_threshold must be in [0, 1], got 1.5"),
        ({"score_threshold": -0.1}, "score_threshold"),
        ({"iou_threshold": 2.0}, "iou_threshold must be in [0, 1], got 2"),
        ({"max_results": 0}, "max_results must be at least 1"),
    ],
)
def test_options_out_of_range_are_invalid_arguments(options, needle, models):
    with pytest.raises(ledge.LedgeError.InvalidArgument) as info:
        models(SSD).detect(read("images/chelsea.png"), **options)
    assert info.value.kind == "InvalidArgument"
    assert needle in str(info.value)


def test_cosine_similarity_refuses_what_it_cannot_compare():
    with pytest.raises(ledge.LedgeError.InvalidArgument, match="same length, got 2 and 3"):
        ledge.cosine_similarity([1.0, 0.0], [1.0, 0.0, 0.0])
    with pytest.raises(ledge.LedgeError.InvalidArgument, match="all-zero"):
        ledge.cosine_similarity([0.0, 0.0], [1.0, 0.0])
    assert ledge.cosine_similarity([3.0, 4.0], np.array([4.0, -3.0], np.float32)) == pytest.approx(0.0)


def test_a_detector_and_an_embedder_describe_themselves(models):
    m = models(SSD).info.manifest
    assert m.task == ledge.Task.DETECT
    assert m.detect.nms == ledge.Nms.PER_CLASS
    assert m.detect.box_coding.order == ledge.BoxOrder.YXHW
    assert isinstance(m.detect.anchors, ledge.Anchors.SSD)
    assert m.detect.anchors.strides == [16, 32, 64, 128, 256, 512]
    assert m.embed is None
    e = models(EMBEDDER).info.manifest
    assert e.task == ledge.Task.EMBED and e.embed.output == "embedding" and e.embed.l2_normalize
    face = ledge.Manifest.from_path(DEMO / "blazeface-short-range/manifest.toml")
    assert face.detect.box_coding.keypoints == 6
    assert face.detect.score_function == ledge.ScoreFunction.SIGMOID
    again = ledge.Manifest.from_toml(face.to_toml())
    assert again == face
