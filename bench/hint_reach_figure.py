"""A figure of one hint on one object, before and after the hint head's locality (docs/gallery/hint_locality.jpg).

Rows: the bundled sample parrots (kodim23) with one yellow hint on the red
parrot's head, and the two-photo composite of bench/hint_leak.py's kind (kodim05
| kodim23, a blue hint on the left photo). Columns: the gray input, the automatic
result, the hint with the shipped head without its locality, the hint with the shipped
locality. The hint is marked by a small white square.

    python bench/hint_reach_figure.py --out docs/gallery/hint_locality.jpg
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from chromatize.batch import sample_images
from chromatize.color import gray_to_rgb
from chromatize.guidance import Guidance
from chromatize.hints import Hint
from chromatize.infer import colorize_photo
from chromatize.io import Photo, read_image
from chromatize.models import load_model


def sample(stem: str) -> np.ndarray:
    return read_image(next(p for p in sample_images() if p.stem == stem)).rgb


def row(model, rgb: np.ndarray, hint: Hint) -> list[np.ndarray]:
    shipped = model.hint_head.locality
    auto = colorize_photo(Photo(rgb), model).rgb
    model.hint_head.locality = None
    before = colorize_photo(Photo(rgb), model, Guidance(hints=(hint,))).rgb
    model.hint_head.locality = shipped
    after = colorize_photo(Photo(rgb), model, Guidance(hints=(hint,))).rgb
    cells = [gray_to_rgb(rgb), auto, before, after]
    marked = []
    for c in cells:
        im = Image.fromarray(c)
        d = ImageDraw.Draw(im)
        x, y, r = hint.x, hint.y, hint.size // 2 + 2
        d.rectangle([x - r, y - r, x + r, y + r], outline=(255, 255, 255), width=1)
        marked.append(np.asarray(im))
    return marked


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path("docs/gallery/hint_locality.jpg"))
    args = ap.parse_args(argv)
    model = load_model("cnn")
    if model.hint_head.locality is None:
        print("the bundled cnn has no locality: nothing to compare", file=sys.stderr)
        return 1
    parrots = sample("kodim23")
    composite = np.concatenate([sample("kodim05")[:, :192], parrots[:, :192]], axis=1)
    rows = [row(model, parrots, Hint(255.0, 60.0, (5.0, 75.0), 5)),  # yellow on the red parrot's head
            row(model, composite, Hint(60.0, 128.0, (20.0, -70.0), 5))]  # blue on the left photo
    gap = 4
    strip = [np.concatenate(sum(([c, np.full((c.shape[0], gap, 3), 255, np.uint8)] for c in r), [])[:-1], axis=1)
             for r in rows]
    width = max(s.shape[1] for s in strip)
    strip = [np.pad(s, ((0, gap), (0, width - s.shape[1]), (0, 0)), constant_values=255) for s in strip]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate(strip, axis=0)[:-gap]).save(args.out, quality=88)
    print(f"wrote {args.out}: columns gray | automatic | one hint, no locality | one hint, shipped locality")
    return 0


if __name__ == "__main__":
    sys.exit(main())
