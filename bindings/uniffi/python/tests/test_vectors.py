"""Every shared test vector (demo-models/vectors/cases.json), with the rule every language
applies: the top-1 index equals the reference's, and each expected class's score is within
the case's tolerance."""

import math

import numpy as np
import pytest

from conftest import DEMO, WORST, cases, read

CASES = cases()


def test_the_full_vector_set_is_there():
    assert len(CASES) >= 38


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_vector(case, models):
    model = models(case["model"])
    classes = math.prod(model.info.outputs[0].shape)
    if case["level"] == "tensor":
        tensor = np.load(DEMO / case["tensor"])
        got = model.classify_tensor(tensor, top_k=classes)
    elif case["level"] == "image":
        got = model.classify(read(case["image"]), top_k=classes)
    else:
        pytest.fail(f"unknown level {case['level']}")
    assert len(got) == classes
    score = {p.index: p.score for p in got}
    expected = case["expected"]
    assert got[0].index == expected[0]["index"], f"top-1 {got[0].index} != {expected[0]['index']}"
    assert got[0].label == expected[0]["label"]
    for e in expected:
        diff = abs(score[e["index"]] - e["score"])
        key = f"{case['model']} {case['level']}"
        WORST[key] = max(WORST.get(key, 0.0), diff)
        assert diff <= case["tolerance"], (
            f"index {e['index']}: score {score[e['index']]} vs {e['score']} "
            f"(tolerance {case['tolerance']})"
        )


def test_manifest_sources_follow_the_cases(models):
    """A case's `manifest` is a sidecar beside its model, found when loading from the path;
    the demo models carry theirs embedded."""
    import ledge

    sources = {c["model"]: c.get("manifest") for c in CASES}
    for model, sidecar in sources.items():
        want = ledge.ManifestSource.SIDECAR if sidecar else ledge.ManifestSource.EMBEDDED
        assert models(model).info.manifest_source == want, model
