"""Peak memory of colorizing a video does not grow with its length (issue 21: a 10-minute 1080p clip in 1.5 GB).

Writes moving 1080p test clips of several lengths (a pattern panned across the
frame, H.264), colorizes each with ``chromatize colorize`` in a fresh process
and prints the process's peak resident memory (``/usr/bin/time -v``) and its
frames per second. A flat peak over lengths is what streaming means; the longest
clip here is far shorter than 10 minutes (2 cores), and a longer one holds no
more frames at a time.

    python bench/video_memory.py --frames 150 600 --size 1920x1080
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np


def make_clip(path: Path, frames: int, w: int, h: int) -> None:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = (np.sin(xx / 37) * np.cos(yy / 53) * 90 + 128).astype(np.uint8)
    with av.open(str(path), "w") as out:
        s = out.add_stream("libx264", rate=30)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        s.options = {"preset": "ultrafast", "crf": "23"}
        for i in range(frames):
            g = np.roll(base, 4 * i, axis=1)
            for p in s.encode(av.VideoFrame.from_ndarray(np.dstack([g, g, g]), format="rgb24")):
                out.mux(p)
        for p in s.encode():
            out.mux(p)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--frames", type=int, nargs="+", default=[150, 600])
    ap.add_argument("--size", default="1920x1080")
    args = ap.parse_args(argv)
    w, h = map(int, args.size.split("x"))
    print(f"| frames ({w}x{h}) | peak RSS MB | frames/s |\n|--:|--:|--:|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.frames:
            clip = Path(tmp) / f"clip{n}.mp4"
            make_clip(clip, n, w, h)
            t = time.perf_counter()
            run = subprocess.run(["/usr/bin/time", "-v", sys.executable, "-m", "chromatize", "colorize", str(clip),
                                  "-o", str(Path(tmp) / f"out{n}")], capture_output=True, text=True)
            seconds = time.perf_counter() - t
            if run.returncode:
                print(run.stderr[-2000:], file=sys.stderr)
                return 1
            peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", run.stderr).group(1)) / 1024
            print(f"| {n} | {peak:.0f} | {n / seconds:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
