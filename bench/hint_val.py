"""Hint heads compared on a `chromatize train hints` run's own validation split (never an evaluation set).

Rebuilds the run's split from its saved settings (``train_hints`` in OUT/best/config.json: the
validation size, seed, ``--mix`` and held-out folders) over the same training folders, and scores
each model by the sweep's protocol of the run's validation (``chromatize.train.hints.sweep_score``:
seeded points, the run's patch side, 1 / 10 / 100 points) on every validation photo.
``--size 512 --patch 5 --counts 1 2 5 10 20 50 100`` reads the same photos at the evaluation sweep's
size and scores them by its points (docs/BENCHMARKS.md): many hints fill a 512-px photo's keys
differently from a 256-px one's.

    python bench/hint_val.py --run runs/hints_loc --data ../shared/datasets cnn runs/hints_loc/best
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from chromatize.data import load_photo
from chromatize.models import bundled_model_dir, load_model
from chromatize.pool import load_pool
from chromatize.train.config import HintTrainConfig
from chromatize.train.hints import VAL_COUNTS, sweep_score

#: The training folders of the shipped heads (docs/models/cnn.md), under --data.
FOLDERS = ("bsds500/train", "bsds500/test", "scenes", "train_pool")


def validation_photos(run: str, data: Path, size: int | None = None) -> tuple[list[np.ndarray], HintTrainConfig]:
    """The validation photos of a hint head's training run, at longer side ``size`` (default: the run's), and the
    run's settings. ``run``: the run's folder (its best/config.json), or a model folder or bundled name whose
    config.json keeps them (``train_hints``)."""
    folder = Path(run)
    config = folder / "best" / "config.json" if (folder / "best").is_dir() else (
        folder / "config.json" if folder.is_dir() else bundled_model_dir(run) / "config.json")
    saved = json.loads(config.read_text())["train_hints"]
    cfg = HintTrainConfig(**{k: v for k, v in saved.items() if k in HintTrainConfig.__dataclass_fields__})
    store = cfg.store if cfg.store and Path(cfg.store).is_dir() else None  # the same pixels, only faster
    pool = load_pool([data / f for f in FOLDERS], cfg.long_side, cfg.val_split, cfg.seed, mix=cfg.mix,
                     holdout=tuple(cfg.holdout), holdout_groups=cfg.holdout_groups, store=store)
    return ([load_photo(Path(f), size) for f in pool.val_files] if size else pool.val), cfg


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("models", nargs="+", help="bundled model names or model folders with a hint head")
    ap.add_argument("--run", required=True, help="the run folder (or a model trained by it) whose validation "
                    "split is used")
    ap.add_argument("--data", type=Path, required=True, help="the datasets folder (../shared/datasets)")
    ap.add_argument("--size", type=int, help="read the validation photos at this longer side (default: the run's)")
    ap.add_argument("--patch", type=int, help="hint square side (default: the run's)")
    ap.add_argument("--counts", type=int, nargs="+", default=list(VAL_COUNTS), help="point counts scored")
    args = ap.parse_args(argv)
    val, cfg = validation_photos(args.run, args.data, args.size)
    counts = tuple(args.counts)
    print(f"{len(val)} validation photos of {args.run} at {args.size or cfg.long_side} px; RGB PSNR dB at 0 / "
          + " / ".join(map(str, counts)) + " points")
    for name in args.models:
        t = time.time()
        s = sweep_score(load_model(name), val, counts, patch=args.patch or cfg.val_patch)
        mean = float(np.mean([s[f"psnr_{n}"] for n in counts]))
        print(f"{name}: " + " / ".join(f"{s[f'psnr_{n}']:.2f}" for n in (0, *counts)) + f"  mean {mean:.3f}"
              f"  ({time.time() - t:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
