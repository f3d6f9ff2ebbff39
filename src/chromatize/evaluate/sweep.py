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
"""

from __future__ import annotations

import csv
import html
import io as _io
import json
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
from ..io import DEFAULT_MAX_PIXELS, ImageReadError, OutputExistsError, Photo, atomic_output, atomic_write_text, read_image
from ..metrics import METRICS, compute_all
from ..models import Colorizer, load_model
from ..text import html_table, markdown_table, one_line
from .protocol import DEFAULT_SIZE, dataset_files, resize_longer
from .results import check_outputs, format_value
from ..guidance import Guidance

__all__ = [
    "DEFAULT_COUNTS", "PATCH", "SWEEP_METRICS", "ZHANG_2017", "SweepResult", "parse_counts", "sweep_points",
    "sweep_hints", "sweep", "format_sweep", "plot_sweep", "write_sweep_report", "run_sweep",
]

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
    counts = tuple(sorted({int(n) for n in counts}))
    if not counts or counts[0] < 0:
        raise ValueError(f"point counts must be 0 or more, got {list(counts)}")
    if isinstance(patch, bool) or not isinstance(patch, int) or patch < 1:
        raise ValueError(f"patch must be a positive integer, got {patch!r}")
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; known: {', '.join(METRICS)}")
    paths, names, files = dataset_files(datasets)
    loaded = [load_model(m) for m in (list(models) or [None])]
    for m in loaded:
        if not m.accepts_hints:
            raise ValueError(f"model {m.name!r} takes no hints; the sweep needs models that do (cnn, levin)")
    model_names: list[str] = []
    for m in loaded:
        name, i = m.name, 2
        while name in model_names:
            name, i = f"{m.name}#{i}", i + 1
        model_names.append(name)
    result = SweepResult(size=size, counts=counts, patch=patch, seed=seed, datasets=names, models=model_names,
                         metrics=tuple(metrics))
    total, done = sum(len(f) for f in files), 0
    for root, ds, found in zip(paths, names, files):
        for path in found:
            image = path.name if root.is_file() else path.relative_to(root).as_posix()
            try:
                truth = resize_longer(read_image(path, max_pixels=max_pixels).rgb, size)
                ab_true = rgb_to_lab(truth)[..., 1:]
                corners = sweep_points(truth.shape[:2], max(counts), _seed_for(seed, image), patch)
                rows = []
                for model, name in zip(loaded, model_names):
                    for n in counts:
                        hints = sweep_hints(ab_true, corners[:n], patch) if n else None
                        pred = colorize_photo(Photo(truth), model, Guidance(hints=tuple(hints or ()))).rgb
                        rows.append({"dataset": ds, "image": image, "model": name, "points": n,
                                     **compute_all(pred, truth, metrics)})
            except (ImageReadError, ValueError) as exc:
                msg = one_line(exc)
                result.failed.append((str(path), msg if str(path) in msg else f"{path}: {msg}"))
            else:
                result.rows += rows
            done += 1
            if progress is not None:
                progress(done, total, path)
    return result


def format_sweep(result: SweepResult) -> str:
    """Markdown: one table per (dataset, metric), models as rows, point counts as columns."""
    parts = []
    for ds in result.datasets:
        for key in result.metrics:
            headers, rows = result.table(ds, key)
            parts.append(f"**{ds}** ({result.n_images(ds)} images), {METRICS[key][0]} by number of points\n\n"
                         + markdown_table(headers, rows))
    return "\n\n".join(parts)


def plot_sweep(result: SweepResult, path: str | os.PathLike, key: str = "psnr_rgb", *,
               published: bool = True) -> Path:
    """A PNG of one metric against the number of points, a line per (dataset, model).

    The x axis is logarithmic with N = 0 drawn at 0.4 and labelled ``auto``,
    as in Zhang's plot; ``published`` adds Zhang et al. 2017's points (PSNR only).
    """
    import matplotlib

    matplotlib.use("Agg")  # files only; never needs a display
    import matplotlib.pyplot as plt

    xs = [n if n else 0.4 for n in result.counts]
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for ds in result.datasets:
        for m in result.models:
            ys = [result.mean(ds, m, n, key) for n in result.counts]
            ax.plot(xs, [np.nan if y is None else y for y in ys], "o-", label=f"{m} ({ds})")
    if published and key == "psnr_rgb":
        ax.plot([n if n else 0.4 for n in ZHANG_2017], list(ZHANG_2017.values()), "k*--",
                label="Zhang et al. 2017 (ImageNet, 256 px)")
    ax.set_xscale("log")
    ticks = [n for n in (0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000) if n <= max(result.counts)]
    ax.set_xticks([n if n else 0.4 for n in ticks], ["auto" if n == 0 else str(n) for n in ticks])
    ax.minorticks_off()
    ax.set_xlabel("number of points")
    ax.set_ylabel(METRICS[key][0])
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    path = Path(path)
    with atomic_output(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def write_sweep_report(result: SweepResult, out_dir: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """``out_dir/index.html`` with the tables and a plot per metric (``sweep_<metric>.png``)."""
    out_dir = Path(out_dir)
    index = out_dir / "index.html"
    if index.exists() and not overwrite:
        raise OutputExistsError(f"{index}: exists (use overwrite to replace it)")
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>chromatize hint sweep</title>",
             "<style>body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1000px}"
             "table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.2em .6em;text-align:right}"
             "td:first-child{text-align:left}</style></head><body><h1>Hint sweep</h1>",
             f"<p>{html.escape(result.protocol_text())}</p>"]
    for key in result.metrics:
        png = plot_sweep(result, out_dir / f"sweep_{key}.png", key)
        parts.append(f"<h2>{html.escape(METRICS[key][0])}</h2><img src='{png.name}' alt='{html.escape(key)}'>")
        for ds in result.datasets:
            headers, rows = result.table(ds, key)
            parts.append(f"<h3>{html.escape(ds)} ({result.n_images(ds)} images)</h3>" + html_table(headers, rows))
    if result.failed:
        parts.append("<h2>Files that failed</h2><ul>" + "".join(f"<li>{html.escape(r)}</li>" for _, r in result.failed)
                     + "</ul>")
    parts.append("</body></html>")
    return atomic_write_text(index, "\n".join(parts), overwrite=True)


def _sweep_csv(result: SweepResult) -> str:
    buf = _io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["dataset", "model", "points", "n"] + [f"{k}_mean" for k in result.metrics])
    for ds in result.datasets:
        for m in result.models:
            for n in result.counts:
                means = [result.mean(ds, m, n, k) for k in result.metrics]
                writer.writerow([ds, m, n, result.n_images(ds)] + ["" if v is None else repr(v) for v in means])
    return buf.getvalue()


def run_sweep(
    datasets: Sequence[str | os.PathLike],
    models: Iterable["str | os.PathLike | Colorizer"],
    counts: Sequence[int] = DEFAULT_COUNTS,
    size: int | None = DEFAULT_SIZE,
    *,
    json_path: str | os.PathLike | None = None,
    csv_path: str | os.PathLike | None = None,
    report_dir: str | os.PathLike | None = None,
    overwrite: bool = False,
    seed: int = 0,
    progress: Progress | None = None,
) -> SweepResult:
    """:func:`sweep`, then write the JSON, CSV (means per dataset, model and N) and report asked for.

    Existing outputs are refused before any work is done (unless ``overwrite``).

    Raises
    ------
    chromatize.io.OutputExistsError
        If an output exists and ``overwrite`` is false.
    """
    check_outputs(json_path, csv_path, report_dir, overwrite=overwrite)
    result = sweep(datasets, models, counts, size, seed=seed, progress=progress)
    if json_path is not None:
        atomic_write_text(json_path, json.dumps(result.to_dict(), indent=1, allow_nan=False) + "\n", overwrite=True)
    if csv_path is not None:
        atomic_write_text(csv_path, _sweep_csv(result), overwrite=True)
    if report_dir is not None:
        write_sweep_report(result, report_dir, overwrite=True)
    return result
