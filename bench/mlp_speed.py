"""Speed of the two MLP engines on one epoch of the report's setting.

One epoch over 53 photos of 64x64 (53 * 4096 = 217,088 per-pixel updates),
both engines from the same seed on the same data. The compiled engine is
warmed up first so that numba's compile time is not counted. The last line
is ``speedup=X max_weight_diff=Y``.

Usage::

    python bench/mlp_speed.py                       # seeded synthetic photos
    python bench/mlp_speed.py --data ../shared/datasets/scenes
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from chromatize.data import load_images, prepare_photo
from chromatize.io import list_images
from chromatize.models.mlp import MLPConfig, WEIGHT_NAMES, init_weights
from chromatize.models.mlp_engines import ENGINES


def synthetic_photos(n: int, rng: np.random.Generator, size: int = 96) -> list[np.ndarray]:
    """Smooth random colour photos: a few Gaussian blobs of colour plus noise."""
    y, x = np.mgrid[0:size, 0:size] / size
    photos = []
    for _ in range(n):
        img = np.zeros((size, size, 3)) + rng.uniform(0, 1, 3)
        for _ in range(4):
            cy, cx, r = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.1, 0.4)
            img += np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / r**2)[..., None] * rng.uniform(-0.6, 0.6, 3)
        img += rng.normal(0, 0.03, img.shape)
        photos.append(np.clip(img * 255, 0, 255).astype(np.uint8))
    return photos


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", help="folder of photos (searched recursively); default: synthetic")
    ap.add_argument("--n", type=int, default=53, help="photos (default 53)")
    ap.add_argument("--size", type=int, default=64, help="side in pixels (default 64)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    rng = np.random.default_rng(args.seed)
    if args.data:
        files = list_images([args.data], recursive=True)
        chosen = [files[i] for i in sorted(rng.choice(len(files), size=min(args.n, len(files)), replace=False))]
        data = load_images(chosen, args.size)
        L, ab, source = data.L, data.ab, f"{len(data)} photos from {args.data}"
    else:
        prepared = [prepare_photo(p, args.size) for p in synthetic_photos(args.n, rng)]
        L = np.stack([p[0] for p in prepared])
        ab = np.stack([p[1] for p in prepared])
        source = f"{args.n} synthetic photos (seed {args.seed})"
    updates = L.shape[0] * L.shape[1] * L.shape[2]
    cfg = MLPConfig(seed=args.seed)
    w0 = init_weights(cfg, np.random.default_rng(cfg.seed))
    order = np.random.default_rng(cfg.seed + 1).permutation(len(L))

    # compile (and load numba's cache) outside the timing
    ENGINES["fast"]({k: v.copy() for k, v in w0.items()}, L[:1], ab[:1], np.array([0]), cfg.lr)

    print(f"data: {source}, {args.size}x{args.size}; {updates:,} updates per epoch")
    print(f"machine: {platform.machine()}, python {platform.python_version()}, numpy {np.__version__}")
    weights, seconds, losses = {}, {}, {}
    for engine in ("reference", "fast"):
        w = {k: v.copy() for k, v in w0.items()}
        t0 = time.perf_counter()
        losses[engine] = ENGINES[engine](w, L, ab, order, cfg.lr)
        seconds[engine] = time.perf_counter() - t0
        weights[engine] = w
        print(f"{engine:>9}: {seconds[engine]:8.3f} s  {seconds[engine] / updates * 1e6:7.3f} us/update  "
              f"mean loss {losses[engine].mean():.6f}")
    diff = max(float(np.max(np.abs(weights["reference"][k] - weights["fast"][k]))) for k in WEIGHT_NAMES)
    print(f"speedup={seconds['reference'] / seconds['fast']:.1f} max_weight_diff={diff:.3g}")


if __name__ == "__main__":
    main()
