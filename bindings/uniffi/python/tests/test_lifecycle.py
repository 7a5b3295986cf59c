"""The model lifecycle in Python (the same behaviours as core/tests/lifecycle.rs): batches equal
single calls, the prediction cache, the signed fixtures, the versioned store (round trip,
persistence, 8 threads classifying while versions swap, shadow candidates) and the monitoring
fields of Stats."""

import json
import threading
import time
from collections import Counter, defaultdict

import pytest

import ledge
from conftest import DEMO, cases, read

EFFNET = "efficientnet-lite0/model.onnx"
PPOCR = "ppocr-cls/model.onnx"
PHOTOS = ["images/chelsea.png", "images/coffee.png", "images/camera.png"]


def assert_same_predictions(got, want, what):
    assert len(got) == len(want), what
    for g, w in zip(got, want):
        assert (g.index, g.label) == (w.index, w.label), what
        assert abs(g.score - w.score) <= 1e-6, (what, g.score, w.score)


# --- batches ---------------------------------------------------------------------------------


def image_cases_by_model() -> dict:
    by_model = defaultdict(list)
    for c in cases():
        if c["level"] == "image":
            by_model[c["model"]].append(c["image"])
    return by_model


def test_batches_of_1_2_4_equal_single_calls_on_every_vector_image(models):
    by_model = image_cases_by_model()
    # efficientnet-lite0 (3), ppocr-cls (14) and the sidecar-manifest QDQ fixture (4).
    assert {m: len(i) for m, i in by_model.items()} == {
        EFFNET: 3,
        PPOCR: 14,
        "fixtures/ppocr-cls-softmax-qdq.onnx": 4,
    }
    compared = 0
    for rel, images in by_model.items():
        model = models(rel)
        photos = [read(i) for i in images]
        single = [model.classify(p, top_k=None) for p in photos]
        for n in (1, 2, 4):
            for start in range(0, len(photos), n):
                chunk = photos[start : start + n]
                batch = model.classify_batch(chunk, top_k=None)
                assert len(batch) == len(chunk), (rel, n)
                for k, got in enumerate(batch):
                    assert_same_predictions(got, single[start + k], f"{rel} batch {n} #{start + k}")
                    compared += 1
    assert compared == 3 * (3 + 14 + 4)


def test_a_batch_takes_paths_options_and_counts_each_image():
    model = ledge.Model.from_path(DEMO / EFFNET)
    paths = [DEMO / p for p in PHOTOS]
    batch = model.classify_batch(paths, top_k=2)
    assert [len(b) for b in batch] == [2, 2, 2]
    assert batch[0][0].label == "tiger cat"
    for k, p in enumerate(paths):
        assert_same_predictions(batch[k], model.classify(p, top_k=2), str(p))
    assert model.classify_batch([], top_k=2) == []
    s = model.stats()
    assert (s.runs, s.classifications) == (6, 6)
    with pytest.raises(ledge.LedgeError.ImageDecode):
        model.classify_batch([read(PHOTOS[0]), b"not an image"])
    assert model.stats().errors == {"ImageDecode": 1}
    with pytest.raises(ledge.LedgeError.Io) as info:
        model.classify_batch([paths[0], DEMO / "images/no-such-image.png"])
    assert info.value.path.endswith("no-such-image.png")
    with pytest.raises(ledge.LedgeError.InvalidArgument, match="score_threshold"):
        model.classify_batch(paths, score_threshold=2.0)


# --- cache -----------------------------------------------------------------------------------


def test_cache_hits_return_what_a_miss_computed_and_are_counted():
    model = ledge.Model.from_path(DEMO / EFFNET, cache=ledge.CacheOptions(max_entries=2, max_bytes=1 << 20))
    cat = read("images/chelsea.png")
    miss = model.classify(cat, top_k=5)
    hit = model.classify(cat, top_k=5)
    assert hit == miss and len(hit) == 5
    top1 = model.classify(cat, top_k=1)  # other options: another entry
    assert top1 == miss[:1]
    s = model.stats()
    assert (s.cache_hits, s.cache_misses, s.runs) == (1, 2, 3)
    # Two entries at most: a third key (coffee) evicts the least recently used, cat's top-5.
    model.classify(read("images/coffee.png"), top_k=5)
    assert model.classify(cat, top_k=5) == miss
    assert (model.stats().cache_hits, model.stats().cache_misses) == (1, 4)
    # Without a cache nothing is counted.
    plain = ledge.Model.from_path(DEMO / EFFNET)
    assert plain.classify(cat, top_k=5) == plain.classify(cat, top_k=5) == miss
    assert (plain.stats().cache_hits, plain.stats().cache_misses) == (0, 0)
    assert ledge.CacheOptions() == ledge.CacheOptions(max_entries=256, max_bytes=4 << 20)


# --- signatures ------------------------------------------------------------------------------


def signed_fixtures():
    data = json.loads(read("fixtures/signed/expected.json"))
    key = read(f"fixtures/signed/{data['trusted_key']}").decode().strip()
    return key, data["cases"]


def test_every_signed_fixture_gives_its_expected_problem():
    key, fixtures = signed_fixtures()
    assert len(fixtures) == 5
    problems = {}
    for case in fixtures:
        path = DEMO / "fixtures/signed" / case["model"]
        try:
            ledge.Model.from_path(path, trusted_keys=[key])
            problems[case["model"]] = None
        except ledge.LedgeError.Signature as e:
            assert e.kind == "Signature"
            assert e.problem in ("unsigned", "untrusted_key", "invalid")
            assert e.detail and e.detail in str(e), str(e)
            problems[case["model"]] = e.problem
    assert problems == {c["model"]: c["problem"] for c in fixtures}
    assert sum(p is None for p in problems.values()) == 1


def test_trusted_keys_reach_the_core():
    key, _ = signed_fixtures()
    signed = DEMO / "fixtures/signed/signed.onnx"
    unsigned = DEMO / "fixtures/signed/unsigned.onnx"
    # Without trusted keys any model loads; a tuple of keys works like a list.
    assert ledge.Model.from_path(unsigned).classify(read("images/line0_0.png"), top_k=1)
    assert ledge.Model.from_path(signed, trusted_keys=(key,)).info.manifest is not None
    other = read("fixtures/signed/other.pub").decode().strip()
    with pytest.raises(ledge.LedgeError.Signature) as info:
        ledge.Model.from_bytes(signed.read_bytes(), trusted_keys=[other])
    assert info.value.problem == "untrusted_key"
    with pytest.raises(ledge.LedgeError.InvalidArgument, match="64 hex digits"):
        ledge.Model.from_path(signed, trusted_keys=["zz"])
    with pytest.raises(TypeError, match="list of hex public keys"):
        ledge.Model.from_path(signed, trusted_keys=key)
    # A store with trusted keys refuses an unsigned model before writing anything.
    store = ledge.ModelStore.in_memory(trusted_keys=[key])
    with pytest.raises(ledge.LedgeError.Signature) as info:
        store.install("ocr", "1", unsigned)
    assert info.value.problem == "unsigned"
    assert store.versions("ocr").versions == []
    store.install("ocr", "1", signed)
    assert store.versions("ocr").versions == ["1"]


# --- the store -------------------------------------------------------------------------------


def test_a_store_round_trip_says_the_active_version_at_every_step(tmp_path):
    store = ledge.ModelStore.open(tmp_path / "store")
    effnet = read(EFFNET)
    assert store.versions("main") == ledge.ModelVersions(versions=[], active=None, previous=None)
    store.install("main", "v1", effnet)
    store.install("main", "v2", DEMO / EFFNET)  # a path reads the file
    assert store.versions("main") == ledge.ModelVersions(versions=["v1", "v2"], active=None, previous=None)
    with pytest.raises(ledge.LedgeError.InvalidArgument, match="no active version"):
        store.classify("main", read(PHOTOS[0]))
    with pytest.raises(ledge.LedgeError.InvalidArgument):
        store.active_version("main")

    cat = read(PHOTOS[0])
    want = ledge.Model.from_path(DEMO / EFFNET).classify(cat, top_k=3)
    steps = []
    for action in (
        lambda: store.activate("main", "v1"),
        lambda: store.activate("main", "v2"),
        lambda: store.rollback("main"),
        lambda: store.rollback("main"),
    ):
        action()
        served = store.classify("main", cat, top_k=3)
        assert served.predictions == want
        v = store.versions("main")
        assert served.version == store.active_version("main") == v.active
        steps.append((served.version, v.previous))
    assert steps == [("v1", None), ("v2", "v1"), ("v1", "v2"), ("v2", "v1")]
    assert isinstance(served, ledge.Served)
    assert store.classify("main", DEMO / PHOTOS[0], top_k=3) == served

    with pytest.raises(ledge.LedgeError.InvalidArgument, match="installed already"):
        store.install("main", "v1", effnet)
    with pytest.raises(ledge.LedgeError.ModelFormat):
        store.install("main", "v3", b"junk")
    with pytest.raises(ledge.LedgeError.InvalidArgument, match="letters, digits"):
        store.install("../main", "v3", effnet)
    with pytest.raises(ledge.LedgeError.InvalidArgument, match="no installed version"):
        store.activate("main", "v9")
    with pytest.raises(ledge.LedgeError.InvalidArgument, match="no previous version"):
        store.rollback("other")
    with pytest.raises(ledge.LedgeError.ImageDecode):
        store.classify("main", b"not an image")
    assert store.versions("main").versions == ["v1", "v2"]

    # Reopened, the store is where it was left.
    del store
    reopened = ledge.ModelStore.open(tmp_path / "store")
    assert reopened.versions("main") == ledge.ModelVersions(versions=["v1", "v2"], active="v2", previous="v1")
    reopened.rollback("main")
    assert reopened.classify("main", cat, top_k=3).version == "v1"


def test_a_store_in_memory_has_the_same_api():
    store = ledge.ModelStore.in_memory()
    store.install("ocr", "1", read(PPOCR))
    store.install("ocr", "2", read(PPOCR))
    store.activate("ocr", "1")
    store.activate("ocr", "2")
    store.rollback("ocr")
    assert store.versions("ocr") == ledge.ModelVersions(versions=["1", "2"], active="1", previous="2")
    served = store.classify("ocr", read("images/line0_180.png"), top_k=1)
    assert (served.version, served.predictions[0].label) == ("1", "180°")
    with pytest.raises(TypeError, match="not both"):
        ledge.ModelStore.in_memory(ledge.LoadOptions(), batch=1)


def test_eight_threads_classify_through_the_store_while_versions_swap(tmp_path):
    store = ledge.ModelStore.open(tmp_path)
    store.install("main", "v1", read(EFFNET))
    store.install("main", "v2", read(EFFNET))
    store.activate("main", "v1")
    cat = read(PHOTOS[0])
    want = ledge.Model.from_path(DEMO / EFFNET).classify(cat, top_k=3)
    stop = threading.Event()
    started = threading.Barrier(9)
    seen = Counter()
    lock = threading.Lock()
    errors = []

    def work():
        started.wait()
        mine = Counter()
        try:
            while True:
                served = store.classify("main", cat, top_k=3)
                assert served.predictions == want, served
                mine[served.version] += 1
                if stop.is_set():
                    break
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
        with lock:
            seen.update(mine)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    started.wait()
    swaps = 30
    for i in range(swaps):
        if i % 3 == 2:
            store.rollback("main")
        else:
            store.activate("main", "v2" if i % 2 == 0 else "v1")
    stop.set()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    assert set(seen) == {"v1", "v2"}, seen
    assert sum(seen.values()) >= 8, seen
    v = store.versions("main")
    assert {v.active, v.previous} == {"v1", "v2"}
    assert store.classify("main", cat, top_k=3).version == v.active


def test_a_shadow_candidate_is_promoted_or_rejected():
    store = ledge.ModelStore.in_memory()
    effnet = read(EFFNET)
    store.install("main", "v1", effnet)
    store.install("main", "v2", effnet)
    store.activate("main", "v1")
    assert store.shadow_report("main") is None
    # A generous latency bound: this tests the binding, not the timing of a busy machine.
    store.set_candidate("main", "v2", sample_rate=0.5, min_samples=4, max_latency_ratio=100.0)
    photos = [read(p) for p in PHOTOS]
    versions = [store.classify("main", photos[i % 3], top_k=1).version for i in range(8)]
    assert versions[0] == "v1" and set(versions) <= {"v1", "v2"}, versions
    assert store.active_version("main") == "v2", "promoted"
    assert store.versions("main").previous == "v1"

    store.install("main", "bad", read(PPOCR))
    policy = ledge.ShadowPolicy(sample_rate=0.5, min_samples=4, max_latency_ratio=100.0)
    store.set_candidate("main", "bad", policy)
    pending = store.shadow_report("main")
    assert (pending.candidate, pending.active, pending.samples) == ("bad", "v2", 0)
    assert pending.decision == "pending"
    for i in range(8):
        store.classify("main", photos[i % 3], top_k=1)
    r = store.shadow_report("main")
    assert isinstance(r, ledge.ShadowReport)
    assert (r.decision, r.samples, r.candidate, r.active) == ("rejected", 4, "bad", "v2"), r
    assert r.agreement < 0.5 and r.mean_abs_score_delta > 0 and r.latency_ratio > 0, r
    assert store.active_version("main") == "v2"

    with pytest.raises(ledge.LedgeError.InvalidArgument, match="sample_rate"):
        store.set_candidate("main", "v1", sample_rate=0.0)
    with pytest.raises(ledge.LedgeError.InvalidArgument, match="no installed version"):
        store.set_candidate("main", "v7")
    with pytest.raises(TypeError, match="not both"):
        store.set_candidate("main", "v1", policy, min_samples=3)
    manual = ledge.ShadowPolicy(sample_rate=1.0, min_samples=2, auto_decide=False)
    assert (manual.min_agreement, manual.max_latency_ratio) == (0.95, 1.2)
    store.set_candidate("main", "v1", manual)
    for _ in range(3):
        store.classify("main", photos[0], top_k=1)
    r = store.shadow_report("main")
    assert (r.decision, r.samples, r.agreement) == ("pending", 3, 1.0), r
    assert store.active_version("main") == "v2"


def test_a_background_shadow_answers_with_the_active_version_and_promotes_at_the_next_call():
    store = ledge.ModelStore.in_memory()
    effnet = read(EFFNET)
    store.install("main", "v1", effnet)
    store.install("main", "v2", effnet)
    store.activate("main", "v1")
    policy = ledge.ShadowPolicy(sample_rate=1.0, min_samples=1, max_latency_ratio=100.0, background=True)
    assert ledge.ShadowPolicy().background is False
    store.set_candidate("main", "v2", policy)
    cat = read(PHOTOS[0])
    served = store.classify("main", cat, top_k=1)
    assert (served.version, served.predictions[0].label) == ("v1", "tiger cat")
    # The candidate runs on its own thread; its decision arrives there.
    deadline = time.monotonic() + 60
    while store.shadow_report("main").decision == "pending":
        assert time.monotonic() < deadline, "no decision within a minute"
        time.sleep(0.01)
    r = store.shadow_report("main")
    assert (r.decision, r.samples, r.agreement, r.candidate) == ("promoting", 1, 1.0, "v2"), r
    assert store.active_version("main") == "v1", "promoted from the next call on"
    served = store.classify("main", cat, top_k=1)
    assert (served.version, served.predictions[0].label) == ("v2", "tiger cat")
    assert store.versions("main") == ledge.ModelVersions(versions=["v1", "v2"], active="v2", previous="v1")
    assert store.shadow_report("main") is None


def test_store_stats_are_kept_per_loaded_version():
    store = ledge.ModelStore.in_memory()
    effnet = read(EFFNET)
    for version in ("v1", "v2", "v3", "v4"):
        store.install("main", version, effnet)
    store.activate("main", "v1")
    cat = read(PHOTOS[0])
    for _ in range(3):
        store.classify("main", cat, top_k=1)
    store.activate("main", "v2")
    store.classify("main", cat, top_k=1)
    with pytest.raises(ledge.LedgeError.ImageDecode):
        store.classify("main", b"not an image")
    v1, v2 = store.stats("main", "v1"), store.stats("main", "v2")
    assert isinstance(v1, ledge.Stats)
    assert (v1.classifications, v1.errors) == (3, {})
    assert (v2.classifications, v2.errors) == (1, {"ImageDecode": 1})
    # A candidate keeps its own counts too: every shadow run is one of its classifications.
    store.set_candidate("main", "v3", sample_rate=1.0, min_samples=100, auto_decide=False)
    store.classify("main", cat, top_k=1)
    assert store.stats("main", "v3").classifications == 1
    assert store.stats("main", "v2").classifications == 2
    # Installed but not loaded, not installed, unknown name: an InvalidArgument that says why.
    with pytest.raises(ledge.LedgeError.InvalidArgument, match="v4 is not loaded") as info:
        store.stats("main", "v4")
    assert "kept for the active, the previous and the candidate version (v2, v1, v3)" in str(info.value)
    with pytest.raises(ledge.LedgeError.InvalidArgument, match="not loaded"):
        store.stats("main", "v9")
    with pytest.raises(ledge.LedgeError.InvalidArgument, match="not loaded"):
        store.stats("other", "v1")


# --- stats -----------------------------------------------------------------------------------


def test_stats_have_errors_histograms_entropy_and_drift():
    model = ledge.Model.from_path(DEMO / EFFNET)
    s = model.stats()
    assert (s.errors, s.class_histogram, s.mean_entropy, s.drift) == ({}, {}, None, None)
    assert s.confidence_histogram == [0] * 10
    for p in PHOTOS:
        model.classify(read(p), top_k=1)
    model.classify_batch([read(p) for p in PHOTOS], top_k=1)
    with pytest.raises(ledge.LedgeError.ImageDecode):
        model.classify(b"not an image")
    with pytest.raises(ledge.LedgeError.ImageDecode):
        model.classify(b"still not an image")
    s = model.stats()
    assert s.classifications == 6
    assert len(s.confidence_histogram) == 10
    assert sum(s.confidence_histogram) == 6
    assert sum(s.class_histogram.values()) == 6
    top1 = {model.classify(read(p), top_k=1)[0].index for p in PHOTOS}
    assert set(s.class_histogram) == top1 and len(top1) == 3
    assert all(n == 2 for n in s.class_histogram.values())
    assert 0.0 < s.mean_entropy < 1.0
    assert s.errors == {"ImageDecode": 2}
    assert s.drift is None  # the demo manifest has no [baseline]


def test_drift_against_a_baseline_reaches_python():
    plain = ledge.Model.from_path(DEMO / EFFNET)
    confidence, classes = [0.0] * 10, [0.0] * 1000
    for p in PHOTOS:
        top = plain.classify(read(p), top_k=1)[0]
        confidence[min(int(top.score * 10), 9)] += 1 / 3
        classes[top.index] += 1 / 3
    manifest = ledge.Manifest.from_path(DEMO / "efficientnet-lite0/manifest.toml")
    manifest.baseline = ledge.Baseline(confidence=confidence, classes=classes, threshold=0.25, samples=3)
    model = ledge.Model.from_path(DEMO / EFFNET, manifest=manifest)
    for p in PHOTOS:
        model.classify(read(p), top_k=1)
    d = model.stats().drift
    assert isinstance(d, ledge.Drift)
    assert d.samples == 3 and d.threshold == 0.25
    # The live histograms are the baseline's: no shift (and too few samples to flag one).
    assert d.confidence_psi < 0.01 and d.class_psi < 0.01
    assert d.score == max(d.confidence_psi, d.class_psi)
    assert d.drifted is False
