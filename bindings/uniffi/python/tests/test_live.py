"""The live-stream runner (issue 19): a fake camera faster than inference drops frames, every
delivered result carries its own frame's timestamp and that frame's top-1, the counts add up,
errors arrive as results, and close() lets the frame in flight finish."""

import threading
import time

import pytest

import ledge
from conftest import DEMO, rgba_frame
from test_frames import packed_array, stored

EFFNET = "efficientnet-lite0/model.onnx"
SSD = "ssd-mobilenetv2-oid/model.onnx"
EMBEDDER = "efficientnet-lite0-embed/model.onnx"


def wait_idle(stream):
    """Waits until the frame in flight has been delivered."""
    deadline = time.monotonic() + 60
    while stream.busy:
        assert time.monotonic() < deadline, "no result within a minute"
        time.sleep(0.005)


def nv21_frames(model):
    """Two NV21 frames, stored turned by 90° as a phone's sensor gives them, and the top-1 of
    each upright photo: (frame, expected index) for the cat and the coffee cup."""
    out = []
    for name in ("chelsea", "coffee"):
        upright = rgba_frame(DEMO / f"images/{name}.png")[:300, :450]
        out.append((packed_array(stored(upright, 90), "nv21"), model.classify_rgba(upright)[0].index))
    assert out[0][1] != out[1][1]
    return out


def fake_camera(stream, frames, count, period_s):
    """Submits `count` frames every `period_s` seconds (a 30 fps camera's timestamps in ns); the
    scene changes after each accepted frame (the cat, then the cup, ...), so consecutive results
    must differ. Returns ({timestamp: expected top-1} of the frames offered, frames accepted)."""
    offered, accepted = {}, 0
    for i in range(count):
        frame, index = frames[accepted % len(frames)]
        ts = 1_000_000_000 + i * 33_333_333
        offered[ts] = index
        accepted += stream.submit(frame, "nv21", timestamp=ts, rotation_degrees=90)
        time.sleep(period_s)
    return offered, accepted


def test_a_fast_camera_drops_frames_and_every_result_is_its_own(models):
    model = models(EFFNET)
    frames = nv21_frames(model)
    started = time.perf_counter()
    model.classify_frame(frames[0][0], "nv21", rotation_degrees=90)
    inference_s = time.perf_counter() - started
    results, lock = [], threading.Lock()

    def on_result(r):
        with lock:
            results.append(r)

    stream = model.live_stream("classify", callback=on_result, top_k=1)
    # Frames come four times as fast as the model runs: most must be dropped.
    offered, accepted = fake_camera(stream, frames, 40, inference_s / 4)
    running = stream.stats
    stream.close()
    s = stream.stats
    assert s.submitted == 40 == len(offered)
    assert s.dropped > 0 and s.processed >= 2 and s.failed == 0, s
    assert s.submitted == s.processed + s.dropped + s.failed, s
    assert accepted == s.processed == len(results), (accepted, s)
    assert running.fps > 0, running
    stamps = [r.timestamp for r in results]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    for r in results:
        assert r.ok and r.error is None
        assert r.value[0].index == offered[r.timestamp], f"frame {r.timestamp}: {r.value[0].label}"
        assert r.latency_ms > 0
    # The scene changed after each accepted frame: the results alternate, cat first.
    assert [r.value[0].index for r in results] == [frames[k % 2][1] for k in range(len(results))]
    assert stream.submit(frames[0][0], "nv21", timestamp=1) is False
    assert stream.stats.submitted == 40, "a closed stream counts nothing"
    assert "closed" in repr(stream)


def test_iterate_results_with_errors_delivered_not_raised(models):
    model = models(EFFNET)
    (cat, cat_index), _ = nv21_frames(model)
    with model.live_stream("classify") as stream:
        assert stream.submit(cat, "nv21", timestamp=10, rotation_degrees=90)
        first = stream.get(timeout=60)
        # A frame that does not fit its description: accepted, and its error is the result.
        assert stream.submit(cat[:-1], "nv21", timestamp=11)
        bad = stream.get(timeout=60)
        assert stream.submit(cat, "yuyv", timestamp=12)
        unknown = stream.get(timeout=60)
        assert stream.submit(cat, "nv21", timestamp=13, rotation_degrees=45)
        turned = stream.get(timeout=60)
        assert stream.get(timeout=0.05) is None, "nothing else came"
    assert (first.timestamp, first.value[0].index) == (10, cat_index)
    for r, ts in ((bad, 11), (unknown, 12), (turned, 13)):
        assert r.timestamp == ts and not r.ok and r.value is None
        assert isinstance(r.error, ledge.LedgeError.InvalidArgument), r.error
    assert "height·3/2" in str(bad.error)
    assert "unknown pixel format 'yuyv'" in str(unknown.error)
    assert "rotation_degrees must be 0, 90, 180 or 270" in str(turned.error)
    s = stream.stats
    assert (s.submitted, s.processed, s.dropped, s.failed) == (4, 1, 0, 3)
    assert list(stream) == [], "closed and read: iteration ends"


def test_close_lets_the_frame_in_flight_finish(models):
    model = models(EFFNET)
    (cat, cat_index), _ = nv21_frames(model)
    stream = ledge.LiveStream(model, "classify", top_k=1)
    assert stream.submit(cat, "nv21", timestamp="first", rotation_degrees=90)
    assert stream.submit(cat, "nv21", timestamp="second") is False, "one frame in flight"
    stream.close()
    assert stream.closed
    results = list(stream)
    assert [(r.timestamp, r.value[0].index) for r in results] == [("first", cat_index)]
    assert stream.stats.dropped == 1


def test_unread_results_keep_the_newest(models):
    model = models(EFFNET)
    frames = nv21_frames(model)
    with model.live_stream("classify", buffer=2, top_k=1) as stream:
        for i in range(5):
            frame, _ = frames[i % 2]
            assert stream.submit(frame, "nv21", timestamp=i, rotation_degrees=90)
            wait_idle(stream)
    assert [r.timestamp for r in stream] == [3, 4]
    s = stream.stats
    assert (s.processed, s.discarded, s.dropped) == (5, 3, 0)


def test_detect_and_embed_streams(models):
    upright = rgba_frame(DEMO / "images/coffee.png")
    frame = packed_array(stored(upright, 270), "nv12")
    with models(SSD).live_stream("detect", score_threshold=0.5) as detect:
        assert detect.submit(frame, "nv12", timestamp=1, rotation_degrees=270)
        (r,) = list(_until_closed(detect))
    assert [d.label for d in r.value] == ["Coffee cup"]
    embedder = models(EMBEDDER)
    with embedder.live_stream("embed") as embed:
        assert embed.submit(upright, "rgba", timestamp=2)
        (e,) = list(_until_closed(embed))
    assert e.timestamp == 2 and e.value == embedder.embed_rgba(upright)


def _until_closed(stream):
    """The stream's results after closing it (the frame in flight finishes first)."""
    stream.close()
    return iter(stream)


def test_a_raising_callback_does_not_stop_the_stream(models, caplog):
    model = models(EFFNET)
    (cat, cat_index), _ = nv21_frames(model)
    seen = []

    def callback(r):
        seen.append(r.timestamp)
        if r.timestamp == 1:
            raise RuntimeError("app bug")

    stream = model.live_stream(callback=callback)
    for ts in (1, 2):
        assert stream.submit(cat, "nv21", timestamp=ts, rotation_degrees=90)
        wait_idle(stream)
    stream.close()
    assert seen == [1, 2] and stream.stats.processed == 2
    assert "the callback raised" in caplog.text
    with pytest.raises(RuntimeError, match="callback"):
        stream.get()


def test_a_stream_refuses_what_its_task_does_not_take(models):
    model = models(EFFNET)
    with pytest.raises(ValueError, match="classify, detect, embed"):
        model.live_stream("segment")
    with pytest.raises(TypeError, match="unknown embed option"):
        model.live_stream("embed", top_k=1)
    with pytest.raises(TypeError, match="iou_threshold"):
        model.live_stream("classify", iou_threshold=0.5)
    with pytest.raises(ValueError, match="buffer"):
        model.live_stream(buffer=0)
