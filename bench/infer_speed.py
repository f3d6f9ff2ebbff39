"""End-to-end speed of colorizing a 512x512 photo, against the I/O floor, and 24 MP memory.

End to end = read the file, colorize (L at full size, the model at its working
size, a*b* upsampled, merged, converted to RGB), write the result. The I/O
floor = read, convert to Lab and back, write: what any colorizer must pay. Both
are timed in the same run, alternating, as medians over ``--runs`` repeats.

Then, in a fresh subprocess, a synthetic 24-megapixel photo (6000x4000) is
colorized and the process's peak resident memory is reported, before and
after (the difference is what colorizing adds to holding the photo).

Last lines::

    median_ms=... io_floor_ms=... ratio=...
    peak_rss_24mp_mb=... baseline_rss_mb=... added_mb=...

Usage::

    python bench/infer_speed.py                 # bundled CNN, PNG in and out
    python bench/infer_speed.py --format jpg --model mlp --runs 30
    python bench/infer_speed.py --hints 10 --no-memory  # with 10 point hints (the sweep's draw)
    python bench/infer_speed.py --api                    # chromatize.colorize(path) in a loop (the model cache)
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

import numpy as np

import chromatize

from chromatize.color import lab_to_rgb, rgb_to_lab
from chromatize.guidance import Guidance
from chromatize.hints import sweep_hints, sweep_points
from chromatize.infer import colorize_photo
from chromatize.io import read_image, write_image
from chromatize.models import load_model

MEM_SCRIPT = r"""
import resource, sys, numpy as np
from chromatize.infer import colorize_photo
from chromatize.io import Photo
from chromatize.models import load_model
model = load_model(sys.argv[1])
# built strip by strip so that making the input does not set the high-water mark
rgb = np.empty((4000, 6000, 3), np.uint8)
x = np.sin(np.arange(6000, dtype=np.float32) / 300)
for y in range(0, 4000, 100):
    rows = np.cos(np.arange(y, y + 100, dtype=np.float32) / 200)[:, None]
    rgb[y : y + 100] = ((x[None] + rows) * 60 + 128).astype(np.uint8)[..., None]
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
out = colorize_photo(Photo(rgb), model)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{peak:.0f} {base:.0f} {out.rgb.shape}")
"""


def sample_photo(size: int = 512) -> np.ndarray:
    """A real photo (bundled sample), centre-cropped and resized to size x size."""
    import cv2

    path = Path(str(resources.files("chromatize") / "samples" / "kodim05.png"))
    rgb = read_image(path).rgb
    h, w = rgb.shape[:2]
    s = min(h, w)
    rgb = rgb[(h - s) // 2 : (h - s) // 2 + s, (w - s) // 2 : (w - s) // 2 + s]
    return cv2.resize(rgb, (size, size), interpolation=cv2.INTER_AREA)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="cnn")
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--format", choices=["png", "jpg"], default="png")
    ap.add_argument("--no-memory", action="store_true", help="skip the 24 MP memory measurement")
    ap.add_argument("--hints", type=int, default=0, help="colorize with this many point hints (5x5, seeded)")
    ap.add_argument("--api", action="store_true",
                    help="go through chromatize.colorize(path, model_name) each time (the model cache), not a loaded model")
    args = ap.parse_args()

    model = load_model(args.model)
    photo_rgb = sample_photo()
    corners = sweep_points(photo_rgb.shape[:2], args.hints, np.random.default_rng(0))
    hints = sweep_hints(rgb_to_lab(photo_rgb)[..., 1:], corners) if args.hints else None
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / f"in.{args.format}"
        write_image(src, photo_rgb)
        dst = Path(tmp) / f"out.{args.format}"

        def end_to_end():
            if args.api:
                write_image(dst, chromatize.colorize(src, args.model, hints=hints), overwrite=True)
                return
            photo = read_image(src)
            write_image(dst, colorize_photo(photo, model, Guidance.build(hints=hints)).rgb, overwrite=True)

        def io_floor():
            photo = read_image(src)
            write_image(dst, lab_to_rgb(rgb_to_lab(photo.rgb)), overwrite=True)

        for _ in range(3):  # warm-up (ORT session, caches)
            end_to_end()
            io_floor()
        t_e2e, t_io = [], []
        for _ in range(args.runs):
            for fn, times in ((end_to_end, t_e2e), (io_floor, t_io)):
                t = time.perf_counter()
                fn()
                times.append((time.perf_counter() - t) * 1000)
    med, floor = float(np.median(t_e2e)), float(np.median(t_io))
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; model {args.model}; "
          f"512x512 {args.format.upper()} in and out; {args.hints} hints; {args.runs} runs"
          + ("; through chromatize.colorize(path)" if args.api else ""))
    print(f"median_ms={med:.1f} io_floor_ms={floor:.1f} ratio={med / floor:.2f}")
    if not args.no_memory:
        res = subprocess.run([sys.executable, "-c", MEM_SCRIPT, args.model], capture_output=True, text=True, check=True)
        peak, base, _ = res.stdout.split(maxsplit=2)
        print(f"peak_rss_24mp_mb={peak} baseline_rss_mb={base} added_mb={int(peak) - int(base)}")


if __name__ == "__main__":
    main()
