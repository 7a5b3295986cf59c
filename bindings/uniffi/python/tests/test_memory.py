"""Load/free cycles keep native memory flat: each cycle loads the small PP-OCR model, classifies
one line and drops the model (CPython frees the native object at once). A leaked model would
cost megabytes a cycle. RSS is read after a warm-up, half-way and at the end; the numbers are
printed after the run. LEDGE_MEMORY_CYCLES=N changes the count."""

import gc
import os
import time

import ledge
from conftest import DEMO, NOTES, read


def rss_bytes() -> int:
    with open("/proc/self/status") as f:
        line = next(x for x in f if x.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


def test_load_free_loop_keeps_memory_flat():
    path = DEMO / "ppocr-cls/model.onnx"
    png = read("images/line0_0.png")
    cycles = int(os.environ.get("LEDGE_MEMORY_CYCLES", "300"))

    def cycle():
        model = ledge.Model.from_path(path)
        assert model.classify(png, top_k=1)[0].index == 0
        del model

    for _ in range(20):
        cycle()
    gc.collect()
    before = rss_bytes()
    started = time.perf_counter()
    for _ in range(cycles // 2):
        cycle()
    gc.collect()
    half = rss_bytes()
    for _ in range(cycles - cycles // 2):
        cycle()
    seconds = time.perf_counter() - started
    gc.collect()
    after = rss_bytes()
    growth = after - before
    NOTES.append(
        f"load/free loop: {cycles} cycles in {seconds:.1f} s; RSS after warm-up {before // 1024} KiB, "
        f"half-way {half // 1024} KiB, end {after // 1024} KiB; growth {growth // 1024} KiB "
        f"({growth // cycles} B/cycle)"
    )
    assert growth < 32 << 20, f"RSS grew by {growth // 1024} KiB over {cycles} cycles"
