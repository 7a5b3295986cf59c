"""One model shared by 8 Python threads: identical outputs (the GIL is released during calls)."""

import threading

import numpy as np

import ledge
from conftest import DEMO


def test_eight_threads_share_one_model():
    model = ledge.Model.from_path(DEMO / "efficientnet-lite0/model.onnx")
    tensor = np.load(DEMO / "vectors/tensors/efficientnet-lite0_chelsea.npy")
    reference = np.asarray(model.run(tensor)[0])
    image = (DEMO / "images/chelsea.png").read_bytes()
    top = model.classify(image, top_k=5)
    runs_per_thread = 10
    errors = []

    def work():
        try:
            for _ in range(runs_per_thread):
                out = np.asarray(model.run(tensor)[0])
                assert np.array_equal(out, reference)
                assert model.classify(image, top_k=5) == top
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    stats = model.stats()
    assert stats.runs == 2 + 8 * runs_per_thread * 2
    assert stats.classifications == 1 + 8 * runs_per_thread
