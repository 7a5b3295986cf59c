"""Fixtures shared by the binding tests: the demo models and the shared vectors."""

import json
import os
from pathlib import Path

import pytest

import ledge

REPO = Path(__file__).resolve().parents[4]
DEMO = Path(os.environ.get("LEDGE_DEMO_MODELS", REPO / "demo-models"))


def read(rel: str) -> bytes:
    return (DEMO / rel).read_bytes()


def cases() -> list:
    data = json.loads((DEMO / "vectors" / "cases.json").read_text())
    assert data["format"] == 1
    return data["cases"]


def detect_vectors() -> list:
    """The cases of demo-models/vectors/detect.json."""
    data = json.loads((DEMO / "vectors" / "detect.json").read_text())
    assert data["format"] == 1
    return data["cases"]


def embed_vectors() -> dict:
    """demo-models/vectors/embed.json: its ``cases`` and ``pairs``."""
    data = json.loads((DEMO / "vectors" / "embed.json").read_text())
    assert data["format"] == 1
    return data


def pytest_report_header(config):
    return f"ledge {ledge.__version__} from {Path(ledge.__file__).parent}; demo models {DEMO}"


@pytest.fixture(scope="session", autouse=True)
def installed_package():
    """The tests exercise the installed wheel, never the source folder."""
    if os.environ.get("LEDGE_ALLOW_SOURCE_TREE") != "1":
        assert "site-packages" in ledge.__file__, ledge.__file__


@pytest.fixture(scope="session")
def models():
    """Models loaded once per session, by path relative to demo-models/."""
    cache = {}

    def get(rel: str) -> ledge.Model:
        if rel not in cache:
            cache[rel] = ledge.Model.from_path(DEMO / rel)
        return cache[rel]

    return get


# Largest |Δscore| per (model, level), filled by test_vectors and printed after the run.
WORST: dict = {}
# Measurements worth reporting (e.g. memory across a load/free loop), printed after the run.
NOTES: list = []


def pytest_terminal_summary(terminalreporter):
    for key in sorted(WORST):
        terminalreporter.write_line(f"max |Δscore| {key}: {WORST[key]:.5f}")
    for note in NOTES:
        terminalreporter.write_line(note)
