"""Training speed of `chromatize train cnn` (the shipped recipe's settings, arch effnet): with the photo store
and without, and where a step's time goes.

For each way of holding the photos (``memory``: decoded at set-up, as before;
``store``: the memory-mapped photo store, built on the first set-up and
reused after), it times the set-up (reading or mapping the photos, colour
statistics, the network) and the process's resident memory after it, then
``--steps`` optimiser steps (after ``--warmup`` untimed ones), each split
into data (drawing the batch: crops, flips, Lab, degradations), forward (the
network and the loss), backward and optimiser. It prints steps/s, photos/s
(crops/s) and the split, with the load average before and after: figures
taken beside other jobs are not the machine's speed.

The photos: the first ``--per-source`` files of each source of the shipped
recipe's folders (symbolic links in a temporary folder, so the sources keep
their names), or all of them with ``--per-source 0``.

Usage::

    python bench/train_speed.py                          # 40 photos a source, 20 steps each way
    python bench/train_speed.py --per-source 0 --steps 50 --degrade 0.5 --mix equal
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import torch

from chromatize.models.cnn.losses import loss_fn
from chromatize.sources import list_sources
from chromatize.text import markdown_table
from chromatize.train.cnn import draw_batch
from chromatize.train.cnn_run import setup_run, torch_threads
from chromatize.train.config import TrainConfig
from chromatize.train.run_loop import lr_scale

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ["bsds500/train", "bsds500/test", "scenes", "train_pool"]
#: The shipped `cnn`'s recipe (docs/models/cnn.md), less what only a long run needs.
RECIPE = dict(arch="effnet", loss="classify", reg_loss="l1", reg_weight=2.0, rebalance=0.75, batch_size=16, crop=128,
              long_side=256, lr=1e-3, lr_encoder=3e-4, weight_decay=0.01, warmup_steps=150, val_split=0,
              threads=2, pretrained=False)  # the ImageNet weights change no timing


def link_photos(data: Path, per_source: int, dst: Path) -> list[Path]:
    """Links to the first ``per_source`` photos of each source of the recipe's folders, under ``dst``."""
    src = list_sources([data / f for f in FOLDERS])
    seen: dict[str, int] = {}
    for f, s in zip(src.files, src.sources):
        seen[s] = seen.get(s, 0) + 1
        if per_source and seen[s] > per_source:
            continue
        link = dst / Path(f).relative_to(data)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(Path(f).resolve())
    return [dst / f for f in FOLDERS]


def timed_steps(run, steps: int, warmup: int) -> dict[str, float]:
    """Seconds per step in each part, over ``steps`` steps after ``warmup`` untimed ones."""
    parts = dict(data=0.0, forward=0.0, backward=0.0, optimiser=0.0)
    for s in range(warmup + steps):
        t = [time.perf_counter()]
        x, ab = draw_batch(run, s, run.positions)  # (b, 1, c, c), (b, 2, c/4, c/4)
        t.append(time.perf_counter())
        for g in run.opt.param_groups:
            g["lr"] = g["base_lr"] * lr_scale(s, s / 1000, run.config.warmup_steps)
        out = run.model(torch.from_numpy(x).to(run.device))
        loss = loss_fn(out, torch.from_numpy(ab).to(run.device), run.centers, run.class_w, run.config.reg_weight,
                       run.config.regression_loss)
        t.append(time.perf_counter())
        run.opt.zero_grad(set_to_none=True)
        loss.backward()
        t.append(time.perf_counter())
        run.opt.step()
        t.append(time.perf_counter())
        if s >= warmup:
            for k, a, b in zip(parts, t, t[1:]):
                parts[k] += b - a
    return {k: v / steps for k, v in parts.items()}


def measure(inputs: list[Path], out: Path, cfg: TrainConfig, steps: int, warmup: int) -> dict:
    t0 = time.perf_counter()
    run = setup_run(inputs, out, cfg, overwrite=True)
    setup_s = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MB (Linux: kB)
    with torch_threads(cfg.threads):
        parts = timed_steps(run, steps, warmup)
    step_s = sum(parts.values())
    return {"photos": len(run.train), "setup_s": setup_s, "peak_rss_mb": rss, "step_s": step_s,
            "steps_per_s": 1 / step_s, "photos_per_s": run.batch / step_s, **parts}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "datasets")
    ap.add_argument("--per-source", type=int, default=40, help="photos per source (0: all)")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--degrade", type=float, default=0.0)
    ap.add_argument("--mix", default="")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args(argv)
    load0 = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        inputs = link_photos(args.data, args.per_source, Path(tmp) / "photos")
        base = dict(RECIPE, threads=args.threads, degrade=args.degrade, mix=args.mix, device=args.device)
        ways = [("memory", ""), ("store, first (builds it)", str(Path(tmp) / "store")),
                ("store, reused", str(Path(tmp) / "store"))]
        for name, store in ways:
            r = measure(inputs, Path(tmp) / "run", TrainConfig(**base, store=store), args.steps, args.warmup)
            print(f"{name}: {r}", file=sys.stderr)
            rows.append([name, r["photos"], f"{r['setup_s']:.1f}", f"{r['peak_rss_mb']:.0f}", f"{r['steps_per_s']:.2f}",
                         f"{r['photos_per_s']:.1f}",
                         *(f"{1000 * r[k]:.0f} ({100 * r[k] / r['step_s']:.0f}%)" for k in ("data", "forward", "backward", "optimiser"))])
    load1 = os.getloadavg()
    print(f"python bench/train_speed.py {' '.join(argv if argv is not None else sys.argv[1:])}")
    print(f"torch {torch.__version__}, {args.threads} threads, device {args.device}, {os.cpu_count()} CPUs; "
          f"load average before {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}, after {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}")
    print(markdown_table(["photos held", "photos", "set-up s", "peak RSS MB", "steps/s", "photos/s", "data ms",
                          "forward ms", "backward ms", "optimiser ms"], rows))
    print("(peak RSS is the process's maximum so far: the rows after the first include the first's peak)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
