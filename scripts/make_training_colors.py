"""Build src/chromatize/training_colors.json: the training photos' distinct colours per band of lightness.

The photos are those the shipped CNN was trained on (docs/models/cnn.md)::

    python scripts/make_training_colors.py ../shared/datasets/bsds500/train ../shared/datasets/bsds500/test \
        ../shared/datasets/scenes ../shared/datasets/train_pool
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from chromatize.io import list_images
from chromatize.suggest import build_color_table

OUT = Path(__file__).resolve().parents[1] / "src" / "chromatize" / "training_colors.json"


def main(folders: list[str]) -> None:
    files = list_images(folders, recursive=True)
    names = ", ".join(Path(f).name for f in folders)
    table = build_color_table(files, source=f"{len(files)} files of {names} (the shipped CNN's training photos)",
                              progress=lambda n: n % 500 or print(f"{n}/{len(files)}", file=sys.stderr))
    OUT.write_text(json.dumps(table, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT} from {table['photos']} photos")


if __name__ == "__main__":
    main(sys.argv[1:])
