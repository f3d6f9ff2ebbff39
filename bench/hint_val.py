"""Hint heads compared on a `chromatize train hints` run's own validation split (never an evaluation set).

Rebuilds the run's split from its saved settings (``train_hints`` in OUT/best/config.json: the
validation size, seed, ``--mix`` and held-out folders) over the same training folders, and scores
each model by the sweep's protocol of the run's validation (``chromatize.train.hints.sweep_score``:
seeded points, the run's patch side, 1 / 10 / 100 points) on every validation photo.

    python bench/hint_val.py --run runs/hints_loc --data ../shared/datasets cnn runs/hints_loc/best
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from chromatize.models import load_model
from chromatize.pool import load_pool
from chromatize.train.config import HintTrainConfig
from chromatize.train.hints import VAL_COUNTS, sweep_score

#: The training folders of the shipped heads (docs/models/cnn.md), under --data.
FOLDERS = ("bsds500/train", "bsds500/test", "scenes", "train_pool")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("models", nargs="+", help="bundled model names or model folders with a hint head")
    ap.add_argument("--run", type=Path, required=True, help="the run folder whose validation split is used")
    ap.add_argument("--data", type=Path, required=True, help="the datasets folder (../shared/datasets)")
    args = ap.parse_args(argv)
    saved = json.loads((args.run / "best" / "config.json").read_text())["train_hints"]
    cfg = HintTrainConfig(**{k: v for k, v in saved.items() if k in HintTrainConfig.__dataclass_fields__})
    pool = load_pool([args.data / f for f in FOLDERS], cfg.long_side, cfg.val_split, cfg.seed, mix=cfg.mix,
                     holdout=tuple(cfg.holdout), holdout_groups=cfg.holdout_groups)
    print(f"{len(pool.val)} validation photos of {args.run}; RGB PSNR dB at 0 / " + " / ".join(map(str, VAL_COUNTS))
          + " points")
    for name in args.models:
        t = time.time()
        s = sweep_score(load_model(name), pool.val, patch=cfg.val_patch)
        mean = float(np.mean([s[f"psnr_{n}"] for n in VAL_COUNTS]))
        print(f"{name}: " + " / ".join(f"{s[f'psnr_{n}']:.2f}" for n in (0, *VAL_COUNTS)) + f"  mean {mean:.3f}"
              f"  ({time.time() - t:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
