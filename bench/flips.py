"""Test-time flips for a CNN: the network's output averaged with its output on the mirrored photo.

Scored on the validation split of a training pool (never an evaluation set): the photos held out
by ``chromatize.pool.load_pool`` with the given folders, size and seed, colorized at the default
render size and scored at longer side 512 (RGB PSNR, CIEDE2000, colourfulness ratio), with and
without the flip. What it costs: one more network run per photo.

    python bench/flips.py --data ../shared/datasets --model cnn
    python bench/flips.py --data ../shared/datasets --model cnn-scans --mix sqrt --holdout-groups 8
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from chromatize.infer import colorize_photo
from chromatize.io import Photo
from chromatize.metrics import compute_all
from chromatize.models import load_model
from chromatize.pool import load_pool

sys.path.insert(0, str(Path(__file__).parent))
from hint_val import FOLDERS  # noqa: E402  the training folders of the shipped models
METRICS = ["psnr_rgb", "ciede2000_mean", "colorfulness_ratio"]


def with_flips(model):
    """``model`` whose network output is the mean of its output on the photo and, mirrored back, on its mirror."""
    raw = model.raw

    def flipped(L, guide=None):
        return (raw(L, guide) + raw(np.ascontiguousarray(L[:, ::-1]), guide)[..., ::-1]) / 2

    model.raw = flipped
    return model


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="the datasets folder (../shared/datasets)")
    ap.add_argument("--model", default="cnn")
    ap.add_argument("--val-split", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--mix", default="", help="the --mix of the model's run (its split)")
    ap.add_argument("--holdout-groups", type=int, default=0, help="the --holdout-groups of the model's run")
    args = ap.parse_args(argv)
    pool = load_pool([args.data / f for f in FOLDERS], 512, args.val_split, args.seed, mix=args.mix,
                     holdout_groups=args.holdout_groups)
    print(f"{len(pool.val)} validation photos at longer side 512; model {args.model}")
    for name, model in (("plain", load_model(args.model)), ("flips", with_flips(load_model(args.model)))):
        t = time.time()
        rows = [compute_all(colorize_photo(Photo(truth), model).rgb, truth, METRICS) for truth in pool.val]
        means = {m: float(np.mean([r[m] for r in rows])) for m in METRICS}
        print(f"{name}: PSNR {means['psnr_rgb']:.3f} dB, CIEDE2000 {means['ciede2000_mean']:.3f}, colourfulness "
              f"ratio {means['colorfulness_ratio']:.3f} ({(time.time() - t) / len(rows) * 1000:.0f} ms a photo)",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
