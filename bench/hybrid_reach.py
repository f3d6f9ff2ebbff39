"""Should a CNN's hint corrections fade with distance? The hint sweep of the CNN + Levin hybrid at several reaches.

A CNN without hint channels takes hints as its automatic a*b* plus the
hints' residuals spread by ``levin.propagate`` (``NetColorizer.predict_ab``).
Unfaded (Levin's own equations), one hint's residual reaches every pixel, so
a single point shifts the whole photo. This script scores the hybrid with
``propagate(..., reach=f * longer side of the working size)`` for a few
fractions f, by the sweep's protocol (``chromatize.evaluate.sweep``: points
around the centre, 5x5 squares of the true mean a*b*, the same points for
every setting), on a set that is not an evaluation set.

Usage::

    python bench/hybrid_reach.py                                   # 40 photos of bsds500/train
    python bench/hybrid_reach.py --data ../shared/datasets/bsds500/train --n 100
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from chromatize.color import rgb_to_lab
from chromatize.evaluate import resize_longer
from chromatize.evaluate.sweep import DEFAULT_COUNTS
from chromatize.hints import sweep_hints, sweep_points
from chromatize.hints import Guide, rasterize, resize_guide
from chromatize.infer import lightness, merge_full
from chromatize.io import list_images, read_image
from chromatize.metrics import compute_all
from chromatize.models import load_model
from chromatize.models.levin import propagate

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets" / "bsds500" / "train"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--n", type=int, default=40, help="photos (the first n, sorted)")
    ap.add_argument("--model", default="cnn")
    ap.add_argument("--size", type=int, default=512)
    args = ap.parse_args()
    model = load_model(args.model)
    fractions = [None, 0.05, 0.1, 0.2, 0.4]
    scores = {(f, n): [] for f in fractions for n in DEFAULT_COUNTS}
    files = list_images([args.data])[: args.n]
    for i, path in enumerate(files):
        truth = resize_longer(read_image(path).rgb, args.size)
        L = lightness(truth)
        h, w = L.shape
        wh, ww = model.work_shape(h, w)
        small = cv2.resize(L, (ww, wh), interpolation=cv2.INTER_AREA)
        auto = model.predict_ab(small)
        corners = sweep_points((h, w), max(DEFAULT_COUNTS), np.random.default_rng([0, i]))
        ab_true = rgb_to_lab(truth)[..., 1:]
        for n in DEFAULT_COUNTS:
            g = resize_guide(rasterize(sweep_hints(ab_true, corners[:n]), (h, w)), (wh, ww))
            residual = Guide(((g.ab - auto) * g.mask[..., None]).astype(np.float32), g.mask)
            for f in fractions:
                reach = None if f is None else f * max(wh, ww)
                ab = auto if n == 0 else auto + propagate(small, residual, reach=reach)
                s = compute_all(merge_full(L, ab.astype(np.float32)), truth, ["psnr_rgb", "ciede2000_mean"])
                scores[(f, n)].append((s["psnr_rgb"], s["ciede2000_mean"]))
    print(f"# {args.model} + Levin residuals on {len(files)} photos of {args.data.name} at longer side {args.size}; "
          f"reach = fraction x longer side of the working size (None: unfaded, as shipped)")
    print("reach        " + " ".join(f"{n:>11}" for n in DEFAULT_COUNTS) + "   (PSNR dB / CIEDE2000)")
    for f in fractions:
        cells = [np.mean(scores[(f, n)], axis=0) for n in DEFAULT_COUNTS]
        print(f"{'None' if f is None else f:<12} " + " ".join(f"{p:5.2f}/{d:5.2f}" for p, d in cells))


if __name__ == "__main__":
    main()
