"""A gallery for the docs: the same photos as gray | model A | model B | ... | truth.

Photos: the first kodak24 photos given by name, and photos of a training
run's own validation split (rebuilt from the run's saved seed and settings, so
they were never trained on). Each row is one photo at longer side 256; the
figure is written as a JPEG into the docs.

Usage::

    python bench/gallery.py --model cnn-small --model cnn --run runs/eff_main \\
        --out docs/gallery --kodak kodim03 kodim05 kodim08 kodim14 kodim19 kodim23
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from chromatize import load_model
from chromatize.color import gray_to_rgb
from chromatize.data import seeded_split
from chromatize.evaluate import resize_longer
from chromatize.infer import colorize_photo
from chromatize.io import Photo, atomic_output, list_images, read_image

ROOT = Path(__file__).resolve().parents[1]
SIDE = 256


def _split(data: list[str], train: dict, n: int) -> list[tuple[str, np.ndarray]]:
    """The first ``n`` photos of a run's validation split, rebuilt from its seed and settings."""
    files = list_images(data, recursive=True)
    n_val = min(train["val_split"], len(files) // 5)
    val_idx, _ = seeded_split(len(files), n_val, np.random.default_rng(train["seed"]))
    out = []
    for i in val_idx[:n]:
        out.append((files[i].name, read_image(files[i]).rgb))
    return out


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
    for name, photos in sets.items():
        fig = figure([row(rgb, models) for _, rgb in photos], labels)
        path = args.out / f"{name}.jpg"
        with atomic_output(path) as tmp:
            fig.save(tmp, format="JPEG", quality=88)
        print(f"wrote {path}: {', '.join(n for n, _ in photos)}")


if __name__ == "__main__":
    main()
