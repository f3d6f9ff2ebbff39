"""Galleries for the docs: the same photos as gray | model A | model B | ... | truth, and old scans.

Photos: the first kodak24 photos given by name, and photos of a training
run's own validation split (rebuilt by :func:`chromatize.pool.load_pool` from
the run's saved seed, mix and held-out settings, so they were never trained
on). Each row is one photo at longer side 256; the figure is written as a
JPEG into the docs.

With ``--old-scans`` it also writes ``old_scans.jpg``: for each kodak24 photo
and model, the clean gray input and its colours, then the same photo blurred,
faded and grainy as ``bench/old_scans.py`` degrades it (chromatize.degrade at
strength 1; blur scaled to the 256-px rows) with the colours the model gives
each, and the truth.

Usage::

    python bench/gallery.py --model cnn-small --model cnn --run runs/eff_main \\
        --val-data ../shared/datasets/bsds500/train ... \\
        --out docs/gallery --kodak kodim03 kodim05 kodim08 kodim14 kodim19 kodim23
    python bench/gallery.py --model cnn --old-scans --kodak kodim05 kodim14 kodim23
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from chromatize import load_model
from chromatize.color import gray_to_rgb
from chromatize.degrade import degrade_L
from chromatize.evaluate import resize_longer
from chromatize.infer import colorize_photo, lightness, merge_full, predict_ab
from chromatize.io import Photo, atomic_output, read_image
from chromatize.pool import load_pool

ROOT = Path(__file__).resolve().parents[1]
SIDE = 256
#: The degradations the old-scans gallery shows beside the clean input.
OLD_SCANS = ("blur", "fade", "grain")


def _split(data: list[str], train: dict, n: int) -> list[tuple[str, np.ndarray]]:
    """The first ``n`` photos of a run's validation split, rebuilt from its saved settings (at SIDE)."""
    pool = load_pool(data, train["long_side"], train["val_split"], train["seed"], mix=train.get("mix", ""),
                     holdout=train.get("holdout", ()), holdout_groups=train.get("holdout_groups", 0),
                     store=train.get("store") or None)
    return list(zip(pool.val_sources[:n], pool.val[:n]))


def old_scan_row(truth: np.ndarray, model, seed: int) -> np.ndarray:
    """clean gray (labelled with the model's name) | its colours | each of OLD_SCANS degraded | its colours |
    truth, at longer side SIDE: bench/old_scans.py's path, the colours shown on the input's own L."""
    truth = resize_longer(truth, SIDE)
    L = lightness(truth)
    cells = []
    for kind in ("clean", *OLD_SCANS):
        L_in = L if kind == "clean" else degrade_L(L, kind, np.random.default_rng(seed), px_scale=SIDE / 512)
        ab = predict_ab(model, L_in)
        cells += [merge_full(L_in, np.zeros_like(ab)), merge_full(L_in, ab)]
    first = Image.fromarray(cells[0])
    ImageDraw.Draw(first).text((6, 6), model.name, fill="yellow")  # which model the row is
    cells[0] = np.asarray(first)
    return np.concatenate(cells + [truth], axis=1)


def row(truth: np.ndarray, models: list) -> np.ndarray:
    """gray | each model | truth, side by side, at longer side SIDE."""
    truth = resize_longer(truth, SIDE)
    cells = [gray_to_rgb(truth)] + [colorize_photo(Photo(truth), m).rgb for m in models] + [truth]
    return np.concatenate(cells, axis=1)


def figure(rows: list[np.ndarray], labels: list[str]) -> Image.Image:
    """Rows stacked (padded to one width) under a header with the column labels."""
    width = max(r.shape[1] for r in rows)
    pad = [np.pad(r, ((0, 4), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
    body = np.concatenate(pad, axis=0)
    head = Image.new("RGB", (width, 22), "white")
    draw = ImageDraw.Draw(head)
    col = rows[0].shape[1] // len(labels)
    for i, text in enumerate(labels):
        draw.text((i * col + 6, 5), text, fill="black")
    out = Image.new("RGB", (width, body.shape[0] + 22), "white")
    out.paste(head, (0, 0))
    out.paste(Image.fromarray(body), (0, 22))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", action="append", required=True, help="model name or folder (repeat)")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "datasets")
    ap.add_argument("--kodak", nargs="*", default=["kodim03", "kodim05", "kodim08", "kodim14", "kodim19", "kodim23"])
    ap.add_argument("--val-data", nargs="*", default=None, help="the run's training folders (in its order)")
    ap.add_argument("--run", type=Path, default=None, help="training run whose validation photos to show")
    ap.add_argument("--n-val", type=int, default=6)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "gallery")
    ap.add_argument("--old-scans", action="store_true", help="also write old_scans.jpg (clean, blurred, faded, grainy)")
    args = ap.parse_args()
    models = [load_model(m) for m in args.model]
    labels = ["gray"] + [m.name for m in models] + ["truth"]
    args.out.mkdir(parents=True, exist_ok=True)
    kodak = [(k, read_image(args.data / "kodak24" / f"{k}.png").rgb) for k in args.kodak]
    sets = {"kodak24": kodak}
    if args.run is not None:
        if not args.val_data:
            raise SystemExit("--run needs --val-data: the run's training folders, in the order it was given them")
        train = json.loads((args.run / "config.json").read_text())["train"]
        sets["validation"] = _split(args.val_data, train, args.n_val)
    figures = {name: figure([row(rgb, models) for _, rgb in photos], labels) for name, photos in sets.items()}
    if args.old_scans:
        rows = [old_scan_row(rgb, m, i) for i, (_, rgb) in enumerate(kodak) for m in models]
        heads = [t for kind in ("clean", "blurred", "faded", "grainy") for t in (f"{kind} input", "colours")]
        figures["old_scans"] = figure(rows, heads + ["truth"])
    for name, fig in figures.items():
        photos = sets.get(name, kodak)
        path = args.out / f"{name}.jpg"
        with atomic_output(path) as tmp:
            fig.save(tmp, format="JPEG", quality=88)
        print(f"wrote {path}: {', '.join(n for n, _ in photos)}")


if __name__ == "__main__":
    main()
