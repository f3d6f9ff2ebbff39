"""Colours to suggest for one spot of a photo, for a person placing a point hint.

Three sources, each labelled in the result so that the page can say where a
colour comes from:

``"model"``
    The colour the model predicts at that pixel without hints (any model).
``"bins"``
    For a classification CNN (one with a*b* bin ``centers``): the bins the
    network finds most probable at that pixel. The network's raw output
    (``NetColorizer.raw``: Q logits, then 2 regression channels, at a quarter
    of the working size) is interpolated bilinearly at the pixel, turned into
    probabilities (softmax at temperature 1), and bins closer than
    ``MERGE_AB`` a*b* units to a more probable one are merged into it.
``"training"``
    The distinct colours of the training photos at the pixel's lightness: a
    table (``training_colors.json``, built by :func:`build_color_table` from
    the shipped CNN's training photos) that holds, per band of L, the most
    frequent a*b* cells of a 10-unit grid, each at least ``MERGE_AB`` from
    the others. A regression model has no bins, so this is what offers
    alternatives to its single prediction.

Every suggestion is shown at the pixel's own lightness (a hint sets only a*b*).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import cv2
import numpy as np

from .color import lab_to_rgb, rgb_to_lab
from .infer import lightness, predict_ab
from .io import Photo, read_image, thumbnail
from .models import Colorizer

__all__ = ["Suggestion", "suggest_colors", "build_color_table", "training_colors", "MERGE_AB", "SOURCES"]

#: Colours closer than this (a*b* distance, real Lab units) count as one.
MERGE_AB = 18.0
#: Width of the a*b* grid and of the L bands of the training-colour table.
AB_CELL = 10.0
L_BAND = 10.0
#: What each ``Suggestion.source`` means, for people.
SOURCES = {
    "model": "the model's own colour here",
    "bins": "colours the model finds plausible here (its a*b* bin probabilities)",
    "training": "distinct colours of the training photos at this lightness",
}


@dataclass(frozen=True)
class Suggestion:
    """One suggested colour."""

    ab: tuple[float, float]  #: a*, b* (real Lab units): what a hint would set
    hex: str  #: '#rrggbb': the colour at the pixel's lightness, for display
    weight: float  #: probability (bins), share of pixels (training) or 1 (model)
    source: str  #: a key of SOURCES


def _hex(L: float, ab) -> str:
    rgb = lab_to_rgb(np.array([[[L, ab[0], ab[1]]]], np.float32))[0, 0]
    return "#" + "".join(f"{int(c):02x}" for c in rgb)


def _sample(grid: np.ndarray, x: float, y: float, shape: tuple[int, int]) -> np.ndarray:
    """``grid`` (h, w, C) read bilinearly at the input pixel (x, y) of a photo of ``shape`` (H, W)."""
    h, w = grid.shape[:2]
    gx = (x + 0.5) * w / shape[1] - 0.5
    gy = (y + 0.5) * h / shape[0] - 0.5
    x0, y0 = int(np.clip(np.floor(gx), 0, w - 1)), int(np.clip(np.floor(gy), 0, h - 1))
    x1, y1 = min(x0 + 1, w - 1), min(y0 + 1, h - 1)
    fx, fy = float(np.clip(gx - x0, 0, 1)), float(np.clip(gy - y0, 0, 1))
    top = grid[y0, x0] * (1 - fx) + grid[y0, x1] * fx
    bottom = grid[y1, x0] * (1 - fx) + grid[y1, x1] * fx
    return top * (1 - fy) + bottom * fy


def _distinct(ab: np.ndarray, weight: np.ndarray, k: int, min_weight: float) -> list[tuple[np.ndarray, float]]:
    """Up to ``k`` colours, most weighty first, each merging the lighter ones within MERGE_AB of it."""
    order = np.argsort(-weight, kind="stable")
    picked: list[list] = []
    for i in order:
        near = [p for p in picked if np.hypot(*(ab[i] - p[0])) < MERGE_AB]
        if near:
            near[0][1] += float(weight[i])
        elif len(picked) < k:
            picked.append([ab[i], float(weight[i])])
    return [(a, w) for a, w in picked if w >= min_weight]


def _check_point(x: float, y: float, shape: tuple[int, int]) -> None:
    for key, v, n in (("x", x, shape[1]), ("y", y, shape[0])):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not np.isfinite(v):
            raise TypeError(f"{key} must be a number, got {type(v).__name__} {v!r}")
        if not -0.5 <= v < n - 0.5:
            raise ValueError(f"({x:g}, {y:g}) is outside the photo ({shape[1]}x{shape[0]})")


def suggest_colors(photo: Photo | np.ndarray, model: Colorizer, x: float, y: float, *, k: int = 6,
                   render_size: int | None = None) -> tuple[float, list[Suggestion]]:
    """Colours to offer for a hint at pixel (x, y).

    Parameters
    ----------
    photo : Photo or ndarray of uint8, shape (H, W, 3)
        The photo (its colours, if any, are ignored: only L is used).
    model : Colorizer
        A loaded model.
    x, y : float
        Column and row in the photo's pixels (hint coordinates).
    k : int
        At most this many colours from each of "bins" and "training".
    render_size : int, optional
        The model's working size, as for colorizing.

    Returns
    -------
    lightness : float
        L (0..100) around the pixel (mean of a 5x5 window): the colours' lightness.
    suggestions : list of Suggestion
        The model's own colour first, then its bins (classification CNNs only),
        then the training photos' colours at that lightness.

    Raises
    ------
    ValueError, TypeError
        If (x, y) is outside the photo or not numbers, or ``render_size`` is not acceptable.

    Examples
    --------
    >>> import numpy as np
    >>> from chromatize.models import load_model
    >>> L, colors = suggest_colors(np.full((32, 32, 3), 128, np.uint8), load_model("gray"), 10, 10)
    >>> colors[0].source, colors[0].hex
    ('model', '#808080')
    """
    rgb = photo.rgb if isinstance(photo, Photo) else photo
    if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise TypeError(f"photo must be RGB uint8 (H, W, 3), got {getattr(rgb, 'shape', type(rgb).__name__)}")
    shape = rgb.shape[:2]
    _check_point(x, y, shape)
    if not 1 <= k <= 64:
        raise ValueError(f"k must be 1..64, got {k}")
    L = lightness(rgb)
    cx, cy = int(round(x)), int(round(y))
    L0 = float(L[max(0, cy - 2): cy + 3, max(0, cx - 2): cx + 3].mean())

    out: list[Suggestion] = []
    wh, ww = model.work_shape(*shape, render_size)
    small = cv2.resize(L, (ww, wh), interpolation=cv2.INTER_AREA) if (wh, ww) != shape else L
    dist = model.bin_outputs(np.ascontiguousarray(small, np.float32))
    if dist is not None:
        ab, logits, centers = dist
        own = _sample(ab, x, y, shape)
        logits = _sample(logits, x, y, shape)  # (Q,)
        p = np.exp(logits - logits.max())
        p /= p.sum()
        bins = [Suggestion((float(a[0]), float(a[1])), _hex(L0, a), round(w, 4), "bins")
                for a, w in _distinct(np.asarray(centers, np.float64), p, k, 0.01)]
    else:
        own = _sample(predict_ab(model, L, render_size), x, y, shape)
        bins = []
    out.append(Suggestion((round(float(own[0]), 3), round(float(own[1]), 3)), _hex(L0, own), 1.0, "model"))
    out += bins
    table = training_colors()
    band = table["bands"][min(int(L0 // L_BAND), len(table["bands"]) - 1)]
    out += [Suggestion((a, b), _hex(L0, (a, b)), w, "training") for a, b, w in band[:k]]
    return L0, out


@lru_cache(maxsize=1)
def training_colors() -> dict:
    """The shipped table of training-photo colours per L band (see :func:`build_color_table`)."""
    path = resources.files("chromatize") / "training_colors.json"
    return json.loads(path.read_text(encoding="utf-8"))


def build_color_table(paths: Iterable[str | os.PathLike], *, size: int = 64, k: int = 12,
                      source: str = "", progress: Callable[[int], None] | None = None) -> dict:
    """Count the a*b* colours of photos per band of lightness, keeping the distinct frequent ones.

    Parameters
    ----------
    paths : iterable of paths
        Colour photos (unreadable or gray ones are skipped).
    size : int
        Photos are reduced to this longer side first (colour statistics need no detail).
    k : int
        Colours kept per L band.
    source : str
        Recorded in the table: where the photos came from.
    progress : callable, optional
        Called with the number of files seen so far.

    Returns
    -------
    dict
        ``{"source", "photos", "l_band", "ab_cell", "merge_ab", "bands"}``; ``bands[i]``
        lists ``[a, b, share]`` for L in ``[i * l_band, (i + 1) * l_band)``, most
        frequent first; share is the fraction of that band's pixels whose cell
        was merged into the colour.
    """
    n_bands = int(100 // L_BAND)
    edges = np.arange(-110, 111, AB_CELL)  # a*b* cells of side AB_CELL
    counts = np.zeros((n_bands, len(edges) - 1, len(edges) - 1), np.int64)
    used = 0
    for i, path in enumerate(paths):
        try:
            rgb = read_image(path).rgb
        except ValueError:
            continue
        lab = rgb_to_lab(thumbnail(rgb, size)).reshape(-1, 3)
        if np.abs(lab[:, 1:]).max() < 2:  # a gray photo says nothing about colours
            continue
        band = np.minimum((lab[:, 0] // L_BAND).astype(int), n_bands - 1)
        for b in range(n_bands):
            sel = lab[band == b]
            counts[b] += np.histogram2d(sel[:, 1], sel[:, 2], bins=(edges, edges))[0].astype(np.int64)
        used += 1
        if progress is not None:
            progress(i + 1)
    mid = (edges[:-1] + edges[1:]) / 2
    cells = np.stack(np.meshgrid(mid, mid, indexing="ij"), axis=-1).reshape(-1, 2)
    bands = []
    for b in range(n_bands):
        total = counts[b].sum()
        share = counts[b].reshape(-1) / max(total, 1)
        bands.append([[float(a[0]), float(a[1]), round(w, 4)] for a, w in _distinct(cells, share, k, 0.0005)])
    return {"source": source, "photos": used, "l_band": L_BAND, "ab_cell": AB_CELL, "merge_ab": MERGE_AB,
            "bands": bands}
