"""Old scans (issue 24): how much of a model's colour survives a soft, faded, grainy, JPEG'd or sepia input.

Protocol, for every photo of a set (read and resized to longer side 512 as
docs/EVALUATION.md says, never upscaled; this is the ground truth):

1. L of the ground truth, then the input: that L as it is (``clean``) or
   degraded by one of ``chromatize.degrade.KINDS`` at strength 1 (Gaussian
   blur sigma 1.5 px; faded: contrast 0.55 around mid-gray, blacks lifted by
   0.08; grain: Gaussian noise sigma 8/255, seeded per photo with
   ``default_rng([seed, photo index])``; JPEG quality 25; sepia: a brown
   duotone read back from its lightness).
2. The model predicts a*b* from that input at its default working size; the
   a*b* is upsampled and merged with the **true** L (so only the colours
   count, not the damage to the lightness).
3. RGB PSNR and mean CIEDE2000 against the ground truth; a set's figure is
   the mean over its photos.

The gray and mean-a*b* baselines come along (their colours do not depend on
the input, so their rows are the same for every condition). The target of
issue 24: every degraded column within 0.3 dB PSNR of the clean one.

Usage::

    python bench/old_scans.py                                   # cnn on kodak24 and cbsd68, writes docs
    python bench/old_scans.py --models cnn runs/new --no-write  # compare a run, docs untouched
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
from tqdm import tqdm

from chromatize.degrade import KINDS, degrade_L
from chromatize.evaluate.protocol import dataset_files, lineup, resize_longer
from chromatize.infer import lightness, merge_full, predict_ab
from chromatize.io import read_image
from chromatize.metrics import compute_all
from chromatize.text import markdown_table

from quality import update_benchmarks  # noqa: E402  (bench/ is the script's folder)

ROOT = Path(__file__).resolve().parents[1]
CONDITIONS = ("clean",) + KINDS
MARKERS = ("<!-- old_scans:start -->", "<!-- old_scans:end -->")
METRICS = ["psnr_rgb", "ciede2000_mean"]


def score_set(files: list[Path], colorizers: list, size: int, seed: int, bar=None) -> dict:
    """{model index: {condition: {metric: mean}}} over the photos of one set."""
    sums = {m: {c: {k: [] for k in METRICS} for c in CONDITIONS} for m in range(len(colorizers))}
    for i, path in enumerate(files):
        truth = resize_longer(read_image(path).rgb, size)
        L = lightness(truth)
        for cond in CONDITIONS:
            L_in = L if cond == "clean" else degrade_L(L, cond, np.random.default_rng([seed, i]))
            for m, model in enumerate(colorizers):
                pred = merge_full(L, predict_ab(model, L_in))  # a*b* from the input, on the true L
                for k, v in compute_all(pred, truth, METRICS).items():
                    sums[m][cond][k].append(v)
        if bar is not None:
            bar.update(1)
    return {m: {c: {k: float(np.mean(v)) for k, v in d.items()} for c, d in conds.items()} for m, conds in sums.items()}


def table(results: dict[str, dict], names: list[str]) -> str:
    """One row per set and model: PSNR per condition (and its change from clean), mean CIEDE2000 per condition."""
    heads = ["set", "model"] + [f"PSNR {c}" for c in CONDITIONS] + ["worst PSNR drop"] + [f"dE00 {c}" for c in CONDITIONS]
    rows = []
    for ds, res in results.items():
        for m, name in enumerate(names):
            r = res[m]
            clean = r["clean"]["psnr_rgb"]
            cells = [f"{clean:.2f}"] + [f"{r[c]['psnr_rgb']:.2f} ({r[c]['psnr_rgb'] - clean:+.2f})" for c in KINDS]
            worst = min(r[c]["psnr_rgb"] - clean for c in KINDS)
            rows.append([ds, name, *cells, f"{worst:+.2f}", *(f"{r[c]['ciede2000_mean']:.2f}" for c in CONDITIONS)])
    return markdown_table(heads, rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "datasets", help="folder holding the sets")
    ap.add_argument("--sets", nargs="+", default=["kodak24", "cbsd68"])
    ap.add_argument("--models", nargs="+", default=["cnn"], help="models (names or folders; default: cnn)")
    ap.add_argument("--size", type=int, default=512, help="longer side (default 512)")
    ap.add_argument("--seed", type=int, default=0, help="seeds the grain")
    ap.add_argument("--limit", type=int, default=0, help="photos per set (0: all); for a quick look")
    ap.add_argument("--no-write", action="store_true", help="print only; leave docs/BENCHMARKS.md alone")
    args = ap.parse_args(argv)

    _, set_names, set_files = dataset_files([args.data / s for s in args.sets])
    colorizers, names, _ = lineup(args.models)
    if args.limit:
        set_files = [f[: args.limit] for f in set_files]
    t0 = time.perf_counter()
    with tqdm(total=sum(map(len, set_files)), desc="old scans", unit="img", file=sys.stderr) as bar:
        results = {ds: score_set(files, colorizers, args.size, args.seed, bar) for ds, files in zip(set_names, set_files)}
    minutes = (time.perf_counter() - t0) / 60
    command = "python bench/old_scans.py " + shlex.join(argv if argv is not None else sys.argv[1:])
    section = "\n".join([
        MARKERS[0], "## Old scans: colours from a degraded gray input (issue 24)", "",
        f"Measured {date.today().isoformat()} on {platform.machine()} ({os.cpu_count()} CPUs), {minutes:.1f} min, with:",
        "", "```", command.strip(), "```", "",
        f"Longer side {args.size}; the input L degraded one way at a time (bench/old_scans.py's docstring and "
        "chromatize.degrade: blur sigma 1.5 px, faded contrast 0.55 + blacks lifted 0.08, grain sigma 8/255, "
        "JPEG quality 25, sepia duotone read from its lightness); the predicted a*b* merged with the TRUE L, "
        "scored against the truth: RGB PSNR dB (change from the clean input) and mean CIEDE2000, means over "
        "the photos. Target (issue 24): every degraded PSNR within 0.3 dB of the clean one.", "",
        table(results, names), "", MARKERS[1]])
    print(section)
    if not args.no_write:
        update_benchmarks(ROOT / "docs" / "BENCHMARKS.md", section, MARKERS)
        print(f"updated {ROOT / 'docs' / 'BENCHMARKS.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
