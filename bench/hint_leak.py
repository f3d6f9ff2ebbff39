"""How far a hint's colour leaks into a part of the photo it has nothing to do with.

Protocol (issue 20): for each pair of consecutive photos of a set (sorted by name;
kodak24 gives 23 pairs), both are brought to longer side 512, and the left half
of the first is put beside the left half of the second (the second scaled to the
first's height), a hard seam between them; the composite is brought to longer
side 512. One 5x5 hint of a contradicting colour (the true a*b* at that point
turned by 180 degrees, chroma 60; a seeded direction where the truth is gray) is
placed at a seeded random point of the left photo at least 48 px from the seam
and 8 px from the other borders. The composite is colorized with and without the
hint; the change is the a*b* distance between the two results (CIEDE76 on a*b*,
at full resolution). Reported per set: the mean change over the hinted (left)
photo, over the untouched (right) photo, and their ratio (the mean of the
per-composite ratios, and the ratio of the means).

Targets: right / left <= 0.10 while the left photo's mean change >= 5.

``--second``: hints that must not fight. The untouched photo has a hint of its own too (its
true colour, at a seeded point at least 48 px from the seam), in both runs: the change is then
what the contradicting hint does beside another hint, and the right photo should keep what
its own hint gave it.

    python bench/hint_leak.py --data ../shared/datasets --sets kodak24 cbsd68
    python bench/hint_leak.py --data ../shared/datasets --sets bsds500/test --limit 24   # tuning: not an evaluation set
    python bench/hint_leak.py --data ../shared/datasets --sets bsds500/test --limit 48 --second
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

from chromatize.color import rgb_to_lab
from chromatize.guidance import Guidance
from chromatize.hints import Hint
from chromatize.infer import colorize_photo
from chromatize.io import Photo, list_images, read_image
from chromatize.models import load_model

LONG = 512
SEAM_GAP = 48
CHROMA = 60.0


def longer(rgb: np.ndarray, side: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    s = side / max(h, w)
    return cv2.resize(rgb, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)


def composite(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, int]:
    """The left halves of ``a`` and ``b`` side by side, longer side LONG; returns it and the seam's column."""
    a, b = longer(a, LONG), longer(b, LONG)
    left = a[:, : a.shape[1] // 2]
    right = b[:, : b.shape[1] // 2]
    scale = left.shape[0] / right.shape[0]
    right = cv2.resize(right, (max(1, round(right.shape[1] * scale)), left.shape[0]), interpolation=cv2.INTER_AREA)
    both = np.concatenate([left, right], axis=1)
    s = LONG / max(both.shape[:2])
    seam = left.shape[1]
    if s != 1:
        both = cv2.resize(both, (round(both.shape[1] * s), round(both.shape[0] * s)), interpolation=cv2.INTER_AREA)
        seam = round(seam * s)
    return both, seam


def patch_ab(truth: np.ndarray, x: int, y: int) -> np.ndarray:
    """The mean true a*b* of the 5x5 square centred at (x, y)."""
    return rgb_to_lab(truth[y - 2: y + 3, x - 2: x + 3]).reshape(-1, 3)[:, 1:].mean(axis=0)


def contradicting_hint(truth: np.ndarray, seam: int, rng: np.random.Generator) -> Hint:
    h = truth.shape[0]
    y = int(rng.integers(8, h - 8))
    x = int(rng.integers(8, max(9, seam - SEAM_GAP)))
    ab = patch_ab(truth, x, y)
    angle = np.arctan2(ab[1], ab[0]) + np.pi if np.hypot(*ab) > 5 else rng.uniform(0, 2 * np.pi)
    return Hint(float(x), float(y), (float(CHROMA * np.cos(angle)), float(CHROMA * np.sin(angle))), 5)


def true_hint(truth: np.ndarray, seam: int, rng: np.random.Generator) -> Hint:
    """A 5x5 hint of the true colour at a seeded point of the right photo, at least SEAM_GAP px from the seam."""
    h, w = truth.shape[:2]
    y = int(rng.integers(8, h - 8))
    x = int(rng.integers(min(seam + SEAM_GAP, w - 9), w - 8))
    ab = patch_ab(truth, x, y)
    return Hint(float(x), float(y), (float(ab[0]), float(ab[1])), 5)


def leak(model, photos: list[np.ndarray], seed: int = 0, second: bool = False) -> dict:
    """The protocol of the module docstring over consecutive pairs of ``photos``; ``second``: with a true hint on
    the right photo in both runs."""
    lefts, rights, ratios = [], [], []
    for i in range(len(photos) - 1):
        rgb, seam = composite(photos[i], photos[i + 1])
        hint = contradicting_hint(rgb, seam, np.random.default_rng([seed, i]))
        others = (true_hint(rgb, seam, np.random.default_rng([seed, i, 2])),) if second else ()
        auto = colorize_photo(Photo(rgb), model, Guidance(hints=others)).rgb
        hinted = colorize_photo(Photo(rgb), model, Guidance(hints=(hint, *others))).rgb
        change = np.linalg.norm(rgb_to_lab(hinted)[..., 1:] - rgb_to_lab(auto)[..., 1:], axis=-1)
        left, right = float(change[:, :seam].mean()), float(change[:, seam:].mean())
        lefts.append(left)
        rights.append(right)
        ratios.append(right / max(left, 1e-6))
    return {"pairs": len(lefts), "left": float(np.mean(lefts)), "right": float(np.mean(rights)),
            "ratio_of_means": float(np.mean(rights) / max(np.mean(lefts), 1e-6)),
            "mean_ratio": float(np.mean(ratios)), "worst_ratio": float(np.max(ratios)),
            "left_below_5": int(sum(v < 5 for v in lefts))}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="the datasets folder (../shared/datasets)")
    ap.add_argument("--sets", nargs="+", default=["kodak24", "cbsd68"])
    ap.add_argument("--model", default="cnn")
    ap.add_argument("--limit", type=int, default=0, help="the first N photos of each set (0: all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--second", action="store_true", help="a true hint on the untouched photo too, in both runs")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    model = load_model(args.model)
    out = {}
    print("| set | pairs | change, hinted photo | change, untouched photo | ratio (mean of ratios) | ratio of means | "
          "worst ratio |")
    print("|---|--:|--:|--:|--:|--:|--:|")
    for name in args.sets:
        files = sorted(list_images([args.data / name]))
        files = files[: args.limit] if args.limit else files
        r = leak(model, [read_image(f).rgb for f in files], args.seed, args.second)
        out[name] = r
        print(f"| {name} | {r['pairs']} | {r['left']:.2f} | {r['right']:.2f} | {r['mean_ratio']:.3f} | "
              f"{r['ratio_of_means']:.3f} | {r['worst_ratio']:.3f} |", flush=True)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
