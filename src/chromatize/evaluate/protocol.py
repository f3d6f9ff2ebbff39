"""Scoring colorizers against ground truth: one protocol, used everywhere.

The protocol (also in ``docs/EVALUATION.md``), for every image of a dataset:

1. **Read** it with ``chromatize.io.read_image``: 8-bit RGB, EXIF orientation
   applied, alpha ignored. A file that cannot be read is recorded in
   ``EvalResult.failed`` with a one-line reason and skipped.
2. **Resize** it with OpenCV ``INTER_AREA`` so that its longer side is ``size``
   pixels (default 512), keeping the aspect ratio (the shorter side is
   rounded). Images that are already that small are kept as they are: never
   upscaled. ``size=None`` keeps every image at its own size. This resized RGB
   image is the **ground truth**.
3. **Colorize** the ground truth from its own L with
   ``chromatize.infer.colorize_photo`` at the model's default working size
   (the model sees L resized with INTER_AREA; its a*b* is upsampled bilinearly
   and merged with the ground truth's full L), giving a uint8 RGB prediction.
4. **Score** prediction against ground truth with every metric of
   ``chromatize.metrics`` (``compute_all``), in uint8 RGB; Lab via
   ``chromatize.color`` (OpenCV, D65).

A dataset's figure for a model is the mean (and the median) of its per-image
values; undefined values (the colorfulness ratio of a gray ground truth) are
left out of both.

Baselines always come along, before the models:

* ``gray``: a*b* = 0, the input photo itself.
* ``mean-ab``: a constant tint, the mean a*b* of a model's training data
  (``Colorizer.mean_ab``). If the models named have different training means,
  there is one such baseline per distinct mean, named ``mean-ab:<model>``
  after the first model that has it. Baselines passed as models are not
  repeated.
"""

from __future__ import annotations

import csv
import io as _io
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from ..infer import colorize_photo
from ..io import (DEFAULT_MAX_PIXELS, ImageReadError, OutputExistsError, Photo, as_photo, atomic_write_text, list_images,
                  read_image, thumbnail)
from ..metrics import METRICS, compute_all
from ..models import Colorizer, load_model, mean_baseline
from ..models.base import GrayBaseline, MeanABBaseline
from ..text import markdown_table, one_line

__all__ = [
    "DEFAULT_SIZE",
    "TABLE_COLUMNS",
    "dataset_files",
    "check_outputs",
    "EvalResult",
    "resize_longer",
    "lineup",
    "score_model",
    "evaluate",
    "write_json",
    "write_csv",
    "format_table",
    "format_value",
]

#: Longer side of evaluated images.
DEFAULT_SIZE = 512
#: Longer side of the thumbnails kept for reports.
THUMB_SIZE = 200
#: Columns of the summary table: (metric key, statistic).
TABLE_COLUMNS = [
    ("psnr_rgb", "mean"), ("psnr_rgb", "median"), ("ssim_rgb", "mean"),
    ("ciede2000_mean", "mean"), ("ciede2000_mean", "median"), ("ab_l2", "mean"),
    ("auc_ab", "mean"), ("auc_ab_rebalanced", "mean"), ("colorfulness_ratio", "mean"),
]

Progress = Callable[[int, int, Path], None]

#: Decimals shown for each metric in tables and captions.
DIGITS = {"psnr_rgb": 2, "ssim_rgb": 4, "ciede2000_mean": 2, "ab_l2": 5, "auc_ab": 4,
          "auc_ab_rebalanced": 4, "colorfulness": 1, "colorfulness_true": 1, "colorfulness_ratio": 3}


def format_value(key: str, value: float | None) -> str:
    """A metric value with the decimals of ``DIGITS`` (``-`` for a missing value)."""
    if value is None:
        return "-"
    return f"{value:.{DIGITS.get(key, 4)}f}"


def resize_longer(rgb: np.ndarray, size: int | None) -> np.ndarray:
    """Downscale (INTER_AREA) so that the longer side is ``size``; never upscale.

    Examples
    --------
    >>> import numpy as np
    >>> resize_longer(np.zeros((512, 768, 3), np.uint8), 512).shape
    (341, 512, 3)
    """
    if size is None:
        return rgb
    if size < 1:
        raise ValueError(f"size must be a positive number of pixels, got {size}")
    return thumbnail(rgb, size)


def _unique(name: str, taken: set[str]) -> str:
    out, i = name, 2
    while out in taken:
        out, i = f"{name}#{i}", i + 1
    taken.add(out)
    return out


def lineup(models: Iterable["str | os.PathLike | Colorizer | None"] | None) -> tuple[list[Colorizer], list[str], set[str]]:
    """Load the models and put the baselines before them.

    Returns
    -------
    colorizers, names, baselines
        The colorizers in column order, their unique names, and the names that
        are baselines (see the module docstring for the rules).
    """
    loaded = [load_model(m) for m in (list(models) if models else [None])]

    def key(m: Colorizer) -> tuple[float, ...]:
        return tuple(round(float(v), 3) for v in m.mean_ab)

    owners: dict[tuple[float, ...], Colorizer] = {}  # distinct training means -> first model with it
    for m in loaded:
        if not isinstance(m, (GrayBaseline, MeanABBaseline)):
            owners.setdefault(key(m), m)
    explicit_means = {key(m) for m in loaded if isinstance(m, MeanABBaseline)}
    cols: list[tuple[Colorizer, str | None]] = [(GrayBaseline(), None)]
    for mean, owner in owners.items():
        if mean not in explicit_means:
            cols.append((mean_baseline(owner), "mean-ab" if len(owners) == 1 else f"mean-ab:{owner.name}"))
    cols += [(m, None) for m in loaded if not isinstance(m, GrayBaseline)]
    taken: set[str] = set()
    names = [_unique(name or m.name, taken) for m, name in cols]
    baselines = {n for (m, _), n in zip(cols, names) if isinstance(m, (GrayBaseline, MeanABBaseline))}
    return [m for m, _ in cols], names, baselines


def _score_image(truth: np.ndarray, model: Colorizer, metrics: Sequence[str] | None) -> tuple[np.ndarray, dict]:
    pred = colorize_photo(Photo(truth), model).rgb
    return pred, compute_all(pred, truth, metrics)


def _nan_stat(values: list[float], stat: str) -> float | None:
    a = np.asarray(values, np.float64)
    a = a[~np.isnan(a)]
    if a.size == 0:
        return None
    return float(np.mean(a) if stat == "mean" else np.median(a))


def score_model(
    model: "str | os.PathLike | Colorizer",
    photos: Iterable["np.ndarray | Photo"],
    size: int | None = None,
    *,
    metrics: Sequence[str] | None = None,
) -> dict[str, float]:
    """Mean of every metric of a model over photos, by the module's protocol.

    This is what the training loops' validation calls.

    Parameters
    ----------
    model : name, path or Colorizer
    photos : iterable of ndarray (H, W, 3) uint8 RGB, or Photo
        Ground-truth photos; each is colorized from its own L.
    size : int, optional
        Downscale each photo to this longer side first (None: as given).
    metrics : sequence of str, optional
        Keys of ``chromatize.metrics.METRICS`` (default: all).

    Returns
    -------
    dict
        Metric key -> mean over photos (``nan`` where undefined for all photos).

    Raises
    ------
    ValueError
        If ``photos`` is empty or a photo is not an RGB array.

    Examples
    --------
    >>> import numpy as np
    >>> rgb = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    >>> 0 < score_model("gray", [rgb])["auc_ab"] < 1
    True
    """
    model = load_model(model)
    per_key: dict[str, list[float]] = {}
    for photo in photos:
        truth = resize_longer(as_photo(photo).rgb, size)
        for k, v in _score_image(truth, model, metrics)[1].items():
            per_key.setdefault(k, []).append(v)
    if not per_key:
        raise ValueError("score_model needs at least one photo")
    means = {k: _nan_stat(v, "mean") for k, v in per_key.items()}
    return {k: float("nan") if v is None else v for k, v in means.items()}


@dataclass
class EvalResult:
    """Per-image scores of several models (and the baselines) on several datasets.

    Attributes
    ----------
    size : int or None
        Longer side the images were reduced to (None: native size).
    datasets : list of str
        Dataset names, in the order given.
    models : list of str
        Column names: baselines first, then the models.
    baselines : set of str
        Which of ``models`` are baselines.
    mean_ab : dict
        Column name -> the mean a*b* of its training data (the tint of mean-ab).
    rows : list of dict
        One per (dataset, image, model): ``dataset``, ``image`` (path inside
        the dataset), ``model``, ``height``, ``width`` and each metric.
    failed : list of (str, str)
        Files that could not be scored: (path, one-line reason).
    thumbs : dict
        (dataset, image) -> {"truth" or model name: RGB thumbnail}, when kept.
    """

    size: int | None
    datasets: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    baselines: set[str] = field(default_factory=set)
    mean_ab: dict[str, list[float]] = field(default_factory=dict)
    rows: list[dict] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    thumbs: dict[tuple[str, str], dict[str, np.ndarray]] = field(default_factory=dict, repr=False)

    def images(self, dataset: str) -> list[str]:
        """Images of a dataset that were scored, in order."""
        return list(dict.fromkeys(r["image"] for r in self.rows if r["dataset"] == dataset))

    def values(self, dataset: str, model: str, key: str) -> list[tuple[str, float]]:
        """(image, value) of one metric for one model on one dataset."""
        return [(r["image"], r[key]) for r in self.rows if r["dataset"] == dataset and r["model"] == model and key in r]

    def ranked(self, dataset: str, model: str, key: str) -> list[tuple[str, float]]:
        """(image, value) from best to worst by the metric's direction; undefined values dropped."""
        better = METRICS[key][1]
        vals = [(i, v) for i, v in self.values(dataset, model, key) if not math.isnan(v)]
        order = {"higher": lambda t: -t[1], "lower": lambda t: t[1], "one": lambda t: abs(math.log(max(t[1], 1e-9)))}
        return sorted(vals, key=order.get(better, lambda t: 0.0))

    def summary(self) -> dict[str, dict[str, dict]]:
        """dataset -> model -> {"n": images, metric: {"mean": .., "median": ..}}."""
        out: dict[str, dict[str, dict]] = {}
        for ds in self.datasets:
            for model in self.models:
                entry: dict = {"n": sum(r["dataset"] == ds and r["model"] == model for r in self.rows)}
                for key in METRICS:
                    vals = [v for _, v in self.values(ds, model, key)]
                    if vals:
                        entry[key] = {s: _nan_stat(vals, s) for s in ("mean", "median")}
                out.setdefault(ds, {})[model] = entry
        return out

    def table(self, dataset: str) -> tuple[list[str], list[list[str]]]:
        """Headers and formatted rows of a dataset's summary table (``TABLE_COLUMNS``)."""
        summ = self.summary()[dataset]
        cols = [(k, s) for k, s in TABLE_COLUMNS if any(k in summ[m] for m in self.models)]
        headers = ["model", "n"] + [METRICS[k][0] + (" med" if s == "median" else "") for k, s in cols]
        rows = [
            [m, str(summ[m]["n"])] + [format_value(k, summ[m].get(k, {}).get(s)) for k, s in cols]
            for m in self.models
        ]
        return headers, rows

    def protocol_text(self) -> str:
        """One paragraph that says how the figures were made."""
        size = "native size" if self.size is None else f"longer side {self.size} px (INTER_AREA, never upscaled)"
        tints = ", ".join(f"{m} = ({a:.2f}, {b:.2f})" for m, (a, b) in self.mean_ab.items() if m in self.baselines and m != "gray")
        return (
            f"Each photo at {size}, colorized from its own L, compared with itself in uint8 RGB "
            f"(Lab via OpenCV, D65). Baselines: gray (a*b* = 0)"
            + (f"; mean a*b* of the training data: {tints}" if tints else "")
            + f". {sum(len(self.images(d)) for d in self.datasets)} images scored, {len(self.failed)} failed."
        )

    def to_dict(self) -> dict:
        """Everything as JSON-able data (non-finite values become null)."""

        def clean(v):
            if isinstance(v, float) and not math.isfinite(v):
                return None
            if isinstance(v, dict):
                return {k: clean(x) for k, x in v.items()}
            return v

        return {
            "protocol": {"size": self.size, "text": self.protocol_text(), "metrics": {k: {"label": l, "better": b} for k, (l, b) in METRICS.items()}},
            "datasets": self.datasets,
            "models": self.models,
            "baselines": sorted(self.baselines),
            "mean_ab": self.mean_ab,
            "summary": clean(self.summary()),
            "images": [clean(r) for r in self.rows],
            "failed": [{"path": p, "reason": r} for p, r in self.failed],
        }


def _dataset_names(paths: list[Path]) -> list[str]:
    names = [p.resolve().name or str(p) for p in paths]
    return [str(p) if names.count(n) > 1 else n for p, n in zip(paths, names)]


def dataset_files(datasets: Sequence[str | os.PathLike]) -> tuple[list[Path], list[str], list[list[Path]]]:
    """The datasets' paths, their names in tables, and each one's image files (sorted).

    Raises
    ------
    FileNotFoundError
        If a dataset path does not exist.
    ValueError
        If none is given, or a folder holds no image files.
    """
    paths = [Path(d) for d in datasets]
    if not paths:
        raise ValueError("give at least one dataset folder or image file")
    files: list[list[Path]] = []
    for p in paths:
        if not p.exists():
            raise FileNotFoundError(f"{p}: no such dataset folder or file")
        found = list_images([p])
        if not found:
            raise ValueError(f"{p}: no image files in this folder")
        files.append(found)
    return paths, _dataset_names(paths), files


def evaluate(
    datasets: Sequence[str | os.PathLike],
    models: Iterable["str | os.PathLike | Colorizer"] | None = None,
    size: int | None = DEFAULT_SIZE,
    *,
    metrics: Sequence[str] | None = None,
    thumb_size: int | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    progress: Progress | None = None,
) -> EvalResult:
    """Score models and the baselines on datasets, by the module's protocol.

    Parameters
    ----------
    datasets : sequence of paths
        Each a folder (its image files, sorted) or a single image file.
    models : iterable of names, paths or Colorizers, optional
        Default: the default bundled model. Baselines are added (module docstring).
    size : int or None
        Longer side of the evaluated images (default 512); None for native size.
    metrics : sequence of str, optional
        Keys of ``chromatize.metrics.METRICS`` (default: all).
    thumb_size : int, optional
        Keep thumbnails of this longer side for a report.
    progress : callable, optional
        ``progress(done, total, path)`` after each image.

    Returns
    -------
    EvalResult

    Raises
    ------
    FileNotFoundError
        If a dataset path does not exist.
    ValueError
        If a dataset folder holds no image files.
    chromatize.models.ModelFormatError
        If a model cannot be loaded (before any image is read).
    """
    paths, ds_names, files = dataset_files(datasets)
    colorizers, names, baselines = lineup(models)
    result = EvalResult(size=size, datasets=ds_names, models=names, baselines=baselines,
                        mean_ab={n: [float(v) for v in m.mean_ab] for m, n in zip(colorizers, names)})
    total, done = sum(len(f) for f in files), 0
    for root, ds, found in zip(paths, result.datasets, files):
        for path in found:
            image = path.name if root.is_file() else path.relative_to(root).as_posix()
            try:
                truth = resize_longer(read_image(path, max_pixels=max_pixels).rgb, size)
                scored = [(name, *_score_image(truth, m, metrics)) for m, name in zip(colorizers, names)]
            except (ImageReadError, ValueError) as exc:
                msg = one_line(exc)
                result.failed.append((str(path), msg if str(path) in msg else f"{path}: {msg}"))
            else:
                h, w = truth.shape[:2]
                result.rows += [{"dataset": ds, "image": image, "model": name, "height": h, "width": w, **scores}
                                for name, _, scores in scored]
                if thumb_size:
                    result.thumbs[(ds, image)] = {"truth": thumbnail(truth, thumb_size),
                                                  **{name: thumbnail(pred, thumb_size) for name, pred, _ in scored}}
            done += 1
            if progress is not None:
                progress(done, total, path)
    return result


def check_outputs(json_path=None, csv_path=None, report_dir=None, *, overwrite: bool = False) -> None:
    """Refuse, before any work, outputs that exist (a report is its folder's ``index.html``).

    Raises
    ------
    chromatize.io.OutputExistsError
        If one exists and ``overwrite`` is false.
    """
    targets = [Path(p) for p in (json_path, csv_path) if p is not None]
    if report_dir is not None:
        targets.append(Path(report_dir) / "index.html")
    for t in targets:
        if t.exists() and not overwrite:
            raise OutputExistsError(f"{t}: exists (use --overwrite to replace it)")


def write_json(result: EvalResult, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Write ``result.to_dict()`` as JSON, atomically (summary, per-image rows, failures)."""
    return atomic_write_text(path, json.dumps(result.to_dict(), indent=1, allow_nan=False) + "\n", overwrite=overwrite)


def write_csv(result: EvalResult, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Write the summary as CSV, atomically: one row per (dataset, model) with
    ``n`` and ``<metric>_mean``, ``<metric>_median`` for every metric (empty when undefined)."""
    buf = _io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    keys = [k for k in METRICS if any(k in r for r in result.rows)]
    writer.writerow(["dataset", "model", "baseline", "n"] + [f"{k}_{s}" for k in keys for s in ("mean", "median")])
    for ds, per_model in result.summary().items():
        for model, entry in per_model.items():
            stats = [entry.get(k, {}).get(s) for k in keys for s in ("mean", "median")]
            writer.writerow([ds, model, int(model in result.baselines), entry["n"]]
                            + ["" if v is None else repr(v) for v in stats])
    return atomic_write_text(path, buf.getvalue(), overwrite=overwrite)


def format_table(result: EvalResult) -> str:
    """The summary as Markdown: one table per dataset (models as rows)."""
    parts = []
    for ds in result.datasets:
        headers, rows = result.table(ds)
        parts.append(f"**{ds}** ({len(result.images(ds))} images)\n\n" + markdown_table(headers, rows))
    return "\n\n".join(parts)
