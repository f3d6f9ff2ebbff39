"""Shared fixtures: tiny generated photos and seeded generators (no ../shared needed)."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image


def make_photo(rng: np.random.Generator, h: int = 24, w: int = 32) -> np.ndarray:
    """A smooth, colourful RGB uint8 test photo: gradients plus a little noise."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack([x / max(w - 1, 1), y / max(h - 1, 1), 1 - x / max(w - 1, 1)], axis=2)
    noise = rng.normal(0, 0.05, size=(h, w, 3))
    return np.clip((base * 0.8 + 0.1 + noise) * 255, 0, 255).astype(np.uint8)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture
def photo(rng) -> np.ndarray:
    return make_photo(rng)


@pytest.fixture
def image_dir(tmp_path, rng):
    """A folder with three small PNG/JPEG photos."""
    d = tmp_path / "imgs"
    d.mkdir()
    for i, ext in enumerate(["png", "jpg", "png"]):
        Image.fromarray(make_photo(rng, 20 + 4 * i, 28)).save(d / f"img{i}.{ext}")
    return d


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """A small archive to batch: five photos (one name in two folders), a broken JPEG, an empty PNG, a text file."""
    root = tmp_path_factory.mktemp("archive")
    rng = np.random.default_rng(5)
    (root / "sub").mkdir()
    for i, name in enumerate(["a.png", "b.jpg", "c.png", "sub/d.png", "sub/a.png"]):
        Image.fromarray(make_photo(rng, 30 + 4 * i, 40)).save(root / name)
    (root / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a JPEG")
    (root / "empty.png").write_bytes(b"")
    (root / "notes.txt").write_text("not a photo")
    return root


@pytest.fixture(scope="module")
def local(archive, tmp_path_factory):
    """The local batch of ``archive`` (recursive, with compare strips): its output folder and CLI result."""
    from click.testing import CliRunner

    from chromatize.cli import main

    out = tmp_path_factory.mktemp("local") / "out"
    return out, CliRunner().invoke(main, ["colorize", str(archive), "-o", str(out), "-r", "--compare"])


# ---------- the browser tests must not pass unseen ----------

_BROWSER_SKIPS: list[str] = []


def _note_browser_skip(report) -> None:
    """Note a skipped browser test (tests/test_web_e2e.py), with why."""
    if report.skipped and "test_web_e2e" in report.nodeid:
        _BROWSER_SKIPS.append(report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr))


pytest_runtest_logreport = pytest_collectreport = _note_browser_skip


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """A loud banner when the web page's browser tests did not run: a green run then tested no page."""
    if _BROWSER_SKIPS:
        line = "!" * 78
        terminalreporter.write_line(line, red=True, bold=True)
        terminalreporter.write_line(f"BROWSER TESTS SKIPPED: the web page was NOT tested ({_BROWSER_SKIPS[0]})",
                                    red=True, bold=True)
        terminalreporter.write_line("Install the browser (apt-get install -y chromium) as .ci/run does; "
                                    "CHROMATIZE_REQUIRE_BROWSER=1 makes this a failure.", red=True, bold=True)
        terminalreporter.write_line(line, red=True, bold=True)


def pytest_sessionfinish(session, exitstatus):
    if _BROWSER_SKIPS and os.environ.get("CHROMATIZE_REQUIRE_BROWSER") == "1" and exitstatus == 0:
        session.exitstatus = 1
