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

import os
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from ..infer import colorize_photo
from ..io import DEFAULT_MAX_PIXELS, ImageReadError, Photo, as_photo, list_images, read_image, thumbnail
from ..metrics import compute_all
from ..models import Colorizer, load_model, mean_baseline
from ..models.base import GrayBaseline, MeanABBaseline
from ..text import one_line
from .results import EvalResult, nan_stat

__all__ = [
    "DEFAULT_SIZE",
    "dataset_files",
    "resize_longer",
    "lineup",
    "score_model",
    "evaluate",
]

#: Longer side of evaluated images.
DEFAULT_SIZE = 512
#: Longer side of the thumbnails kept for reports.
THUMB_SIZE = 200

Progress = Callable[[int, int, Path], None]


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
    means = {k: nan_stat(v, "mean") for k, v in per_key.items()}
    return {k: float("nan") if v is None else v for k, v in means.items()}


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
