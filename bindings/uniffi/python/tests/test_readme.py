"""The Python quick starts in bindings/uniffi/README.md run as written (from the repository
root): the classification one prints the demo cat's classes, the detection and embedding one
the coffee cup's box and the two similarities, the camera one a frame's class and a live
stream's first result and counts, the lifecycle one a refused signature, a batch, a cache hit
and the version a store served after a rollback."""

import re

from conftest import REPO

README = REPO / "bindings/uniffi/README.md"


def run_block(tag: str, capsys, monkeypatch) -> str:
    blocks = re.findall(rf"<!-- quick-start:{tag} -->\n```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) == 1, f"README needs exactly one Python block tagged quick-start:{tag}"
    monkeypatch.chdir(REPO)
    exec(compile(blocks[0], "README.md", "exec"), {})
    return capsys.readouterr().out


def test_readme_quick_start(capsys, monkeypatch):
    out = run_block("python", capsys, monkeypatch)
    assert "tiger cat" in out, out


def test_readme_tasks_quick_start(capsys, monkeypatch):
    out = run_block("python-tasks", capsys, monkeypatch)
    lines = out.splitlines()
    assert len(lines) == 3, out
    assert "Coffee cup" in lines[0], out
    box = [float(v) for v in re.findall(r"[xywh] (\d+)", lines[0])]
    assert all(abs(g - w) <= 3 for g, w in zip(box, [170, 12, 240, 298])) and len(box) == 4, out
    mirrored, coffee = (float(line.split()[-1]) for line in lines[1:])
    assert mirrored >= 0.9 and coffee <= 0.4, out


def test_readme_frames_quick_start(capsys, monkeypatch):
    out = run_block("python-frames", capsys, monkeypatch)
    assert out.splitlines() == ["espresso", "0 espresso", "20 20"], out


def test_readme_lifecycle_quick_start(capsys, monkeypatch):
    out = run_block("python-lifecycle", capsys, monkeypatch)
    assert out.splitlines() == [
        "refused: invalid",
        "['tiger cat', 'espresso']",
        "cache hits 1 of 4 classifications",
        "v1 tiger cat v2",
    ], out


def test_the_repository_readme_shows_the_same_tasks_quick_start():
    block = re.findall(r"<!-- quick-start:python-tasks -->\n```python\n(.*?)```", README.read_text(), re.S)
    assert len(block) == 1
    assert f"```python\n{block[0]}```" in (REPO / "README.md").read_text()


def test_the_repository_readme_shows_the_swift_tasks_quick_start():
    # No Swift compiler here: the XCTest mirrors ios/README.md's snippet, and this keeps the
    # repository README's copy identical to it.
    ios = (REPO / "ios/README.md").read_text()
    after = ios[ios.index("Detection and embeddings (the model's manifest says"):]
    block = re.search(r"```swift\n(.*?)```", after, re.S)
    assert block is not None
    assert block.group(0) in (REPO / "README.md").read_text()
