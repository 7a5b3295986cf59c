"""The Python quick start in bindings/uniffi/README.md runs as written (from the repository
root) and prints the demo cat's classes."""

import os
import re

from conftest import REPO


def test_readme_quick_start(capsys, monkeypatch):
    text = (REPO / "bindings/uniffi/README.md").read_text()
    blocks = re.findall(r"<!-- quick-start:python -->\n```python\n(.*?)```", text, re.S)
    assert len(blocks) == 1, "README needs exactly one tagged Python quick start"
    monkeypatch.chdir(REPO)
    exec(compile(blocks[0], "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "tiger cat" in out, out
