"""Throughput of the colorize batch on this machine: local, and on Ray Data with 1 and 2 workers.

Figures (the bundled CNN, outputs in the inputs' format):

- photos per second on the same photos (200 of 512 px by default) for the
  local batch (its default 2 ONNX Runtime threads, then 1 thread), and for
  ``--ray`` on a local Ray of 2 CPUs with 1 and 2 actors of 1 thread each,
  Ray's start-up timed apart; Ray's overhead is the ratio of the local
  1-thread rate to the 1-actor rate;
- per-core throughput (1 thread) at 512 px and at 24 MP (6000 x 4000), the
  time of a photo split into decoding, colorizing (and of it, the network at
  its working size) and writing (JPEG, and PNG).

Photos are generated (smooth gray scenes with grain, saved as JPEG) unless
``--photos`` names a folder. Run it with ``nice -n 10`` when the machine is
shared; the figures are then lower bounds.

Usage::

    nice -n 10 python bench/scale.py
    python bench/scale.py --photos ../shared/datasets/bsds500/train --n 200 --big 2

Needs ``pip install 'chromatize[scale]'`` for the Ray rows (skipped without it).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from chromatize.batch import colorize_files
from chromatize.infer import colorize_photo
from chromatize.io import list_images, read_image, write_image
from chromatize.models import load_model


def make_photo(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A gray (H, W) uint8 scene: a few soft blobs over a gradient, plus film grain."""
    y, x = np.ogrid[0:h, 0:w]
    img = 60 + 120 * (x / w) * (0.5 + y / (2 * h))
    for _ in range(5):
        cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(0.05, 0.3) * max(h, w)
        img = img + rng.uniform(-60, 60) * np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * r * r))
    return np.clip(img + rng.normal(0, 6, (h, w)), 0, 255).astype(np.uint8)


def generate(folder: Path, n: int, h: int, w: int, seed: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n):
        path = folder / f"photo{i:04d}.jpg"
        Image.fromarray(make_photo(rng, h, w)).save(path, quality=90)
        paths.append(path)
    return paths


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:7.2f} photos/s ({1000 * seconds / n:6.1f} ms each)"


def stage_times(paths: list[Path], model, tmp: Path) -> dict[str, float]:
    """Median seconds per photo of each stage, one thread: read, network, colorize (with the network), write."""
    stages: dict[str, list[float]] = {"read": [], "network": [], "colorize": [], "write_jpg": [], "write_png": []}
    for i, path in enumerate(paths):
        t0 = time.perf_counter()
        photo = read_image(path)
        t1 = time.perf_counter()
        h, w = photo.rgb.shape[:2]
        s = 256 / max(h, w)  # the CNN's default working size
        model.raw(np.full((round(h * s) // 16 * 16, round(w * s) // 16 * 16), 50, np.float32))
        t2 = time.perf_counter()
        out = colorize_photo(photo, model)
        t3 = time.perf_counter()
        write_image(tmp / f"stage{i}.jpg", out.rgb, overwrite=True)
        t4 = time.perf_counter()
        write_image(tmp / f"stage{i}.png", out.rgb, overwrite=True)
        t5 = time.perf_counter()
        for key, dt in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
            stages[key].append(dt)
    return {k: statistics.median(v) for k, v in stages.items()}


def show_stages(label: str, med: dict[str, float]) -> float:
    total = med["read"] + med["colorize"] + med["write_jpg"]
    print(f"{label}, 1 thread (median ms): " + " ".join(f"{k}={1000 * v:.1f}" for k, v in med.items())
          + f" -> {3600 / total:,.0f} photos/h/core (JPEG out)")
    return total


def run_local(photos: list[Path], out: Path, model) -> float:
    shutil.rmtree(out, ignore_errors=True)
    t = time.perf_counter()
    result = colorize_files(photos, out, model)
    assert not result.failed, result.failed[:3]
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=Path, help="a folder of photos (default: generate them)")
    ap.add_argument("--n", type=int, default=200, help="photos for the batch rates")
    ap.add_argument("--size", type=int, default=512, help="longer side of generated photos")
    ap.add_argument("--big", type=int, default=3, help="generated 24 MP photos for the per-core split")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="chromatize-scale-"))
    try:
        if args.photos:
            photos = list_images([args.photos], recursive=True)[: args.n]
        else:
            photos = generate(tmp / "in", args.n, args.size * 3 // 4, args.size, seed=0)
        n = len(photos)
        px = statistics.median(read_image(p).rgb.shape[0] * read_image(p).rgb.shape[1] for p in photos[:20])
        print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; "
              f"{n} photos, median {px / 1e6:.2f} MP; load average {os.getloadavg()[0]:.1f}")

        model = load_model("cnn")  # 2 ONNX Runtime threads, OpenCV's default
        colorize_photo(read_image(photos[0]), model)  # warm up ONNX Runtime
        t_local2 = run_local(photos, tmp / "local2", model)
        print(f"local batch, 2 threads:        {rate(n, t_local2)}")
        from chromatize.batch.ray import set_threads

        set_threads(model, 1)
        t_local1 = run_local(photos, tmp / "local1", model)
        print(f"local batch, 1 thread:         {rate(n, t_local1)}")

        ray_rows = {}
        try:
            import ray

            from chromatize.batch.ray import colorize_files_ray
        except ImportError:
            print("ray rows skipped: pip install 'chromatize[scale]'")
        else:
            t = time.perf_counter()
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
            t_init = time.perf_counter() - t
            print(f"ray.init (local, 2 CPUs):      {t_init:.1f} s")
            for workers in (1, 2):
                out = tmp / f"ray{workers}"
                first: list[float] = []
                t = time.perf_counter()
                result = colorize_files_ray(photos, out, workers=workers, threads=1,
                                            progress=lambda *_: first or first.append(time.perf_counter()))
                ray_rows[workers] = time.perf_counter() - t
                assert not result.failed, result.failed[:3]
                steady = (n - 1) / (t + ray_rows[workers] - first[0])
                print(f"ray, {workers} actor(s) x 1 thread:  {rate(n, ray_rows[workers])}; first photo after "
                      f"{first[0] - t:.1f} s, then {steady:.2f} photos/s")
            ray.shutdown()
            same = all((tmp / "local1" / p.name).read_bytes() == (tmp / "ray2" / p.name).read_bytes() for p in photos)
            print(f"ray outputs identical to the local batch's: {same}")

        # One thread, stage by stage: 20 of the photos, then 24 MP ones.
        show_stages(f"{px / 1e6:.2f} MP", stage_times(photos[:20], model, tmp))
        big = generate(tmp / "big", args.big, 4000, 6000, seed=1)
        total_jpg = show_stages("24 MP", stage_times(big, model, tmp))

        print(f"per_core_512px_photos_per_s={n / t_local1:.2f}")
        print(f"per_core_24mp_photos_per_h={3600 / total_jpg:.0f}")
        print(f"local_photos_per_s={n / t_local2:.2f} local_1thread_photos_per_s={n / t_local1:.2f}")
        if ray_rows:
            print(f"ray1_photos_per_s={n / ray_rows[1]:.2f} ray2_photos_per_s={n / ray_rows[2]:.2f} "
                  f"ray_overhead_ratio={ray_rows[1] / t_local1:.2f} ray_init_s={t_init:.1f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
