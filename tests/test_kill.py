"""A batch killed with SIGKILL after its first output, then rerun: it finishes only the rest.

The batch runs in a subprocess on enough photos (with the MLP) that it is still
busy when the test sees its first output and kills it; nothing sleeps in
library code. After the rerun every output decodes, no temp file is left and
the rerun has done only the files the killed run had not.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest
from PIL import Image

from chromatize.io import is_temp_file, read_image

from conftest import make_photo

N = 24


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_killed_batch_resumes_and_leaves_nothing_behind(tmp_path, rng):
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    for i in range(N):
        Image.fromarray(make_photo(rng, 120, 160)).save(src / f"p{i:02d}.png")
    cmd = [sys.executable, "-m", "chromatize", "colorize", str(src), "-o", str(out), "-m", "mlp"]

    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not (out.is_dir() and any(not is_temp_file(p) for p in out.iterdir())):
        assert proc.poll() is None, "the batch ended before its first output was seen"
        assert time.monotonic() < deadline, "no output within 120 s"
        time.sleep(0.002)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()  # reap it, so that its process id is free (a zombie still counts as alive)

    done = sorted(p.name for p in out.iterdir() if not is_temp_file(p))
    assert 1 <= len(done) < N, f"killed after {len(done)} of {N}: make the batch slower"
    for name in done:
        read_image(out / name)  # every finished output is whole

    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Traceback" not in res.stderr
    m = re.search(r"colorized (\d+) image\(s\).*; (\d+) already done, skipped", res.stdout)
    assert m, res.stdout
    assert (int(m[1]), int(m[2])) == (N - len(done), len(done))  # only the rest was done
    names = sorted(p.name for p in out.iterdir())
    assert names == [f"p{i:02d}.png" for i in range(N)]  # no temp file left
    for name in names:
        assert read_image(out / name).rgb.shape == (120, 160, 3)
