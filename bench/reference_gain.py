"""Does a reference photo of the same kind of scene help? Automatic vs reference-guided, PSNR and CIEDE2000.

Each target photo (at longer side 512) is colorized automatically and with
``reference=`` another photo of the same scene kind, and both are scored
against the truth (``chromatize.metrics``: RGB PSNR, mean CIEDE2000). As a
control, each target is also given a reference of another kind.

``--set sun_hays80`` (the measurement; an evaluation set, never tuned on):
one photo per SUN category; the pairs are the categories grouped by kind
below (each target's reference is the next member of its group, cyclically;
the control takes the member of the next group). ``--set scenes`` (where
``transfer.STRENGTH`` was chosen; the CNN's training data): 30 photos drawn
per category of scenes/{beach,forest,sunrise} with seed 0, paired two by two
within the category (both ways); the control pairs across categories.

Usage::

    python bench/reference_gain.py                                 # sun_hays80, cnn and levin
    python bench/reference_gain.py --set scenes --strength 0.25 --strength 0.5 --strength 1
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

from chromatize.evaluate import resize_longer
from chromatize.infer import colorize_photo
from chromatize.io import Photo, list_images, read_image
from chromatize.metrics import compute_all
from chromatize.models import load_model
from chromatize.transfer import STRENGTH
from chromatize.guidance import Guidance

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets"

#: sun_hays80 categories grouped by scene kind (a file is ``<category>_sun_<id>.jpg``).
GROUPS = {
    "forest": ["forest_broadleaf", "forest_needleleaf", "forest_path"],
    "coast": ["beach", "coast", "wave", "sea_cliff", "islet"],
    "waterfall": ["waterfall_block", "waterfall_plunge"],
    "field": ["field_wild", "hayfield", "pasture", "wheat_field"],
    "arid land": ["desert_sand", "badlands", "butte", "canyon"],
    "mountain": ["mountain", "valley", "volcano"],
    "snow and ice": ["ice_shelf", "iceberg", "ski_slope"],
    "wetland": ["marsh", "swamp", "pond", "creek"],
    "religious building": ["abbey", "monastery_outdoor", "mosque_outdoor", "pagoda", "temple_east_asia"],
    "church interior": ["cathedral_indoor", "cloister_indoor"],
    "street": ["street", "medina", "canal_urban", "village"],
    "bridge": ["aqueduct", "viaduct", "lift_bridge"],
    "sports ground": ["baseball_field", "stadium_football", "raceway"],
    "house": ["house", "chalet", "inn_outdoor", "youth_hostel"],
}


def sun_pairs(root: Path) -> tuple[list[tuple[Path, Path]], list[tuple[Path, Path]]]:
    """(target, same-kind reference) and (target, other-kind reference) pairs."""
    files = {p.name.split("_sun_")[0]: p for p in list_images([root])}
    groups = [[files[c] for c in cats] for cats in GROUPS.values()]
    same, other = [], []
    for gi, group in enumerate(groups):
        nxt = groups[(gi + 1) % len(groups)]
        for i, target in enumerate(group):
            same.append((target, group[(i + 1) % len(group)]))
            other.append((target, nxt[i % len(nxt)]))
    return same, other


def scene_pairs(root: Path, per_category: int = 30) -> tuple[list[tuple[Path, Path]], list[tuple[Path, Path]]]:
    rng = np.random.default_rng(0)
    same = []
    for cat in ("beach", "forest", "sunrise"):
        files = list_images([root / cat])
        pick = [files[i] for i in rng.choice(len(files), per_category, replace=False)]
        for i in range(0, per_category - 1, 2):
            same += [(pick[i], pick[i + 1]), (pick[i + 1], pick[i])]
    third = len(same) // 3
    other = [(t, same[(k + third) % len(same)][1]) for k, (t, _) in enumerate(same)]
    return same, other


def mean_ci(values: list[float]) -> str:
    a = np.asarray(values)
    half = 1.96 * a.std(ddof=1) / math.sqrt(len(a)) if len(a) > 1 else float("nan")
    return f"{a.mean():+.2f} ± {half:.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", choices=["sun_hays80", "scenes"], default="sun_hays80")
    ap.add_argument("--model", "-m", action="append", help="models (default: cnn and levin)")
    ap.add_argument("--strength", type=float, action="append", help=f"reference strengths (default: {STRENGTH} and 1)")
    ap.add_argument("--size", type=int, default=512)
    args = ap.parse_args()
    models = args.model or ["cnn", "levin"]
    strengths = args.strength or [STRENGTH, 1.0]
    same, other = sun_pairs(DATA / "sun_hays80") if args.set == "sun_hays80" else scene_pairs(DATA / "scenes")
    print(f"# {args.set}: {len(same)} targets at longer side {args.size}; reference = another photo of the same kind "
          f"(control: of another kind)")
    if args.set == "sun_hays80":
        print("# pairs (target <- reference): " + "; ".join(
            f"{t.name.split('_sun_')[0]} <- {r.name.split('_sun_')[0]}" for t, r in same))
    print(f"{'model':>6} {'reference':>10} {'strength':>8} {'PSNR dB':>8} {'ΔPSNR (95% CI)':>16} "
          f"{'CIEDE2000':>9} {'ΔCIEDE2000 (95% CI)':>20}")
    for name in models:
        model = load_model(name)
        scores: dict[tuple[str, float], list[dict]] = {}
        for kind, pairs in (("same kind", same), ("other kind", other)):
            for target, ref in pairs:
                truth = resize_longer(read_image(target).rgb, args.size)
                reference = read_image(ref).rgb
                if kind == "same kind":
                    pred = colorize_photo(Photo(truth), model).rgb
                    scores.setdefault(("none", 0.0), []).append(compute_all(pred, truth, ["psnr_rgb", "ciede2000_mean"]))
                for s in strengths:
                    pred = colorize_photo(Photo(truth), model, Guidance.build(reference=reference, reference_strength=s)).rgb
                    scores.setdefault((kind, s), []).append(compute_all(pred, truth, ["psnr_rgb", "ciede2000_mean"]))
        base = scores[("none", 0.0)]
        for (kind, s), rows in scores.items():
            psnr = [r["psnr_rgb"] for r in rows]
            de = [r["ciede2000_mean"] for r in rows]
            dpsnr = [r["psnr_rgb"] - b["psnr_rgb"] for r, b in zip(rows, base)]
            dde = [r["ciede2000_mean"] - b["ciede2000_mean"] for r, b in zip(rows, base)]
            label = "-" if kind == "none" else f"{s:g}"
            print(f"{name:>6} {kind if kind != 'none' else 'none':>10} {label:>8} {np.mean(psnr):8.2f} "
                  f"{mean_ci(dpsnr):>16} {np.mean(de):9.2f} {mean_ci(dde):>20}", flush=True)


if __name__ == "__main__":
    main()
