"""The hint sweep of Zhang et al. (2017): quality against the number of user points.

The protocol (``test_sweep.py`` of richzhang/colorization-pytorch, adapted),
for every image of a dataset and every count N:

1. **Ground truth** as in ``chromatize.evaluate.protocol``: read, reduced with
   ``INTER_AREA`` to ``size`` on the longer side (never enlarged).
2. **Points**: one sequence of ``max(counts)`` patch positions is drawn per
   image from a ``numpy`` Generator seeded with ``(seed, crc32 of the image's
   path in its dataset)``, so every model and every run sees the same points.
   The top-left corner of each ``patch`` x ``patch`` square is
   ``clip(int(normal((H - P + 1) / 2, (H - P + 1) / 4)), 0, H - P)`` for the
   row and likewise for the column: points crowd the photo's centre, as in
   Zhang's ``add_color_patches_rand_gt(samp='normal')``. The hints for N are
   the first N of the sequence (nested: N = 10 adds 5 points to N = 5); each
   carries the mean true a*b* of its square.
3. **Colorize** with ``chromatize.infer.colorize_photo(..., Guidance(hints=...))`` at the
   model's default working size, and **score** with ``compute_all`` in uint8
   RGB (PSNR, CIEDE2000).

Differences from Zhang's script: squares of 5 px (theirs 6), photos keep
their aspect ratio at ``size`` (theirs 256 x 256), nested point sets (theirs
drawn afresh per N), and the mean over the images of each dataset reported
per N. N = 0 is the automatic result.

The points and their hints are drawn by :func:`chromatize.hints.sweep_points`
and :func:`chromatize.hints.sweep_hints`; the tables, CSV, plots and page are
in :mod:`chromatize.evaluate.sweep_report`, and :func:`chromatize.evaluate.run_sweep`
scores and writes them.
"""

from __future__ import annotations

import math
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from ..color import rgb_to_lab
from ..hints import sweep_hints, sweep_points
from ..infer import colorize_photo
from ..io import DEFAULT_MAX_PIXELS, ImageReadError, Photo, read_image
from ..metrics import METRICS, compute_all
from ..models import Colorizer, load_model
from ..text import one_line
from .protocol import DEFAULT_SIZE, dataset_files, resize_longer
from .results import format_value
from ..guidance import Guidance

__all__ = ["DEFAULT_COUNTS", "PATCH", "SWEEP_METRICS", "ZHANG_2017", "SweepResult", "parse_counts", "sweep"]

#: Point counts swept by default.
DEFAULT_COUNTS = (0, 1, 2, 5, 10, 20, 50, 100)
#: Side of each hint square at the evaluated size, in pixels.
PATCH = 5
#: Metrics scored at every count.
SWEEP_METRICS = ("psnr_rgb", "ciede2000_mean")
#: Zhang et al. 2017's published curve (RGB PSNR dB vs points; ImageNet val, 1000 photos at 256 px, 34M params).
ZHANG_2017 = {0: 24.4, 10: 28.4, 100: 31.1}
#: Most points per photo accepted.
MAX_COUNT = 10_000

Progress = Callable[[int, int, Path], None]


def parse_counts(text: str) -> tuple[int, ...]:
    """Point counts from ``"0,1,2,5"``: sorted, unique, each 0..MAX_COUNT.

    Raises
    ------
    ValueError
        Naming the entry that is not such a count.
    """
    counts = set()
    for part in str(text).split(","):
        part = part.strip()
        if not part.isdigit() or int(part) > MAX_COUNT:
            raise ValueError(f"point counts must be integers 0..{MAX_COUNT} separated by commas, got {part!r} in {text!r}")
        counts.add(int(part))
    return tuple(sorted(counts))


def _seed_for(seed: int, image: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(image.encode("utf-8"))])


@dataclass
class SweepResult:
    """Scores per (dataset, image, model, number of points).

    Attributes
    ----------
    size : int or None
        Longer side the images were reduced to.
    counts : tuple of int
        The point counts swept.
    patch, seed : int
        Side of the hint squares, and the seed of the point draws.
    datasets, models : list of str
    metrics : tuple of str
    rows : list of dict
        ``dataset``, ``image``, ``model``, ``points`` and each metric.
    failed : list of (str, str)
        Files that could not be scored, with a one-line reason.
    """

    size: int | None
    counts: tuple[int, ...]
    patch: int = PATCH
    seed: int = 0
    datasets: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    metrics: tuple[str, ...] = SWEEP_METRICS
    rows: list[dict] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    def mean(self, dataset: str, model: str, points: int, key: str) -> float | None:
        """Mean of one metric over a dataset's images (None when nothing was scored)."""
        vals = [r[key] for r in self.rows if r["dataset"] == dataset and r["model"] == model
                and r["points"] == points and not math.isnan(r[key])]
        return float(np.mean(vals)) if vals else None

    def n_images(self, dataset: str) -> int:
        return len({r["image"] for r in self.rows if r["dataset"] == dataset})

    def table(self, dataset: str, key: str) -> tuple[list[str], list[list[str]]]:
        """Headers (``model`` then each count) and one formatted row per model."""
        headers = ["model"] + [f"{n}" for n in self.counts]
        rows = [[m] + [format_value(key, self.mean(dataset, m, n, key)) for n in self.counts] for m in self.models]
        return headers, rows

    def protocol_text(self) -> str:
        size = "native size" if self.size is None else f"longer side {self.size} px"
        return (f"Zhang et al. 2017 hint sweep: photos at {size}; N points per photo drawn around the centre "
                f"(normal, sd a quarter of the side, seed {self.seed}, the same for every model, nested), each a "
                f"{self.patch}x{self.patch} square with the mean true a*b* of that square; N = 0 is automatic. "
                f"{sum(self.n_images(d) for d in self.datasets)} images scored, {len(self.failed)} failed.")

    def to_dict(self) -> dict:
        """Everything as JSON-able data: settings, means per (dataset, model, N), per-image rows."""
        summary = {ds: {m: {str(n): {k: self.mean(ds, m, n, k) for k in self.metrics} for n in self.counts}
                        for m in self.models} for ds in self.datasets}
        clean = [{k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in r.items()}
                 for r in self.rows]
        return {"protocol": {"size": self.size, "counts": list(self.counts), "patch": self.patch, "seed": self.seed,
                             "text": self.protocol_text()},
                "datasets": self.datasets, "models": self.models, "summary": summary, "images": clean,
                "failed": [{"path": p, "reason": r} for p, r in self.failed],
                "published": {"zhang2017_psnr_rgb": {str(k): v for k, v in ZHANG_2017.items()}}}


def sweep(
    datasets: Sequence[str | os.PathLike],
    models: Iterable["str | os.PathLike | Colorizer"],
    counts: Sequence[int] = DEFAULT_COUNTS,
    size: int | None = DEFAULT_SIZE,
    *,
    patch: int = PATCH,
    seed: int = 0,
    metrics: Sequence[str] = SWEEP_METRICS,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    progress: Progress | None = None,
) -> SweepResult:
    """Score models with 0, 1, 2, ... simulated user points per photo (module docstring).

    Parameters
    ----------
    datasets : sequence of paths
        Folders (their image files, sorted) or single image files.
    models : iterable of names, paths or Colorizers
        Each must accept hints (the CNN, ``"levin"``).
    counts : sequence of int
        Numbers of points.
    size : int or None
        Longer side of the evaluated images (None: native size).
    patch : int
        Side of each hint square in pixels.
    seed : int
        Seeds the point draws.
    metrics : sequence of str
        Keys of ``chromatize.metrics.METRICS``.
    progress : callable, optional
        ``progress(done, total, path)`` after each image.

    Returns
    -------
    SweepResult

    Raises
    ------
    ValueError
        If a model takes no hints, a count is negative, or a metric is unknown.
    FileNotFoundError
        If a dataset path does not exist.
    """
    counts = _check_settings(counts, patch, metrics)
    paths, names, files = dataset_files(datasets)
    loaded = [load_model(m) for m in (list(models) or [None])]
    for m in loaded:
        if not m.accepts_hints:
            raise ValueError(f"model {m.name!r} takes no hints; the sweep needs models that do (cnn, levin)")
    result = SweepResult(size=size, counts=counts, patch=patch, seed=seed, datasets=names,
                         models=_unique_names([m.name for m in loaded]), metrics=tuple(metrics))
    total, done = sum(len(f) for f in files), 0
    for root, ds, found in zip(paths, names, files):
        for path in found:
            image = path.name if root.is_file() else path.relative_to(root).as_posix()
            try:
                truth = resize_longer(read_image(path, max_pixels=max_pixels).rgb, size)
                rows = _sweep_image(truth, image, loaded, result)
            except (ImageReadError, ValueError) as exc:
                msg = one_line(exc)
                result.failed.append((str(path), msg if str(path) in msg else f"{path}: {msg}"))
            else:
                result.rows += [{"dataset": ds, **r} for r in rows]
            done += 1
            if progress is not None:
                progress(done, total, path)
    return result


def _check_settings(counts: Sequence[int], patch: int, metrics: Sequence[str]) -> tuple[int, ...]:
    """The counts sorted and unique; ValueError for a negative count, a bad patch or an unknown metric."""
    counts = tuple(sorted({int(n) for n in counts}))
    if not counts or counts[0] < 0:
        raise ValueError(f"point counts must be 0 or more, got {list(counts)}")
    if isinstance(patch, bool) or not isinstance(patch, int) or patch < 1:
        raise ValueError(f"patch must be a positive integer, got {patch!r}")
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; known: {', '.join(METRICS)}")
    return counts


def _unique_names(names: list[str]) -> list[str]:
    """The models' names, a repeated one numbered (``cnn``, ``cnn#2``)."""
    out: list[str] = []
    for name in names:
        unique, i = name, 2
        while unique in out:
            unique, i = f"{name}#{i}", i + 1
        out.append(unique)
    return out


def _sweep_image(truth: np.ndarray, image: str, models: list[Colorizer], result: SweepResult) -> list[dict]:
    """Every model at every count on one ground-truth photo: rows without their dataset."""
    ab_true = rgb_to_lab(truth)[..., 1:]
    corners = sweep_points(truth.shape[:2], max(result.counts), _seed_for(result.seed, image), result.patch)
    rows = []
    for model, name in zip(models, result.models):
        for n in result.counts:
            hints = sweep_hints(ab_true, corners[:n], result.patch) if n else None
            pred = colorize_photo(Photo(truth), model, Guidance(hints=tuple(hints or ()))).rgb
            rows.append({"image": image, "model": name, "points": n, **compute_all(pred, truth, result.metrics)})
    return rows
