"""User guidance for colorization: point hints and scribbles, as a colour map and a mask.

A *hint* says "around pixel (x, y) the colour is this": ``{"x": col, "y": row,
"ab": [a, b]}`` or ``{"x": col, "y": row, "color": "#rrggbb"}`` (only the
colour's a*b* is used; lightness always comes from the photo), with an optional
``"size"``: the side in pixels of the square the hint covers (default 1).
Coordinates are in the input photo's pixels. A hints file is a JSON list of
hints or ``{"hints": [...]}``.

*Scribbles* are an RGBA image of the photo's size whose opaque pixels are
strokes; every stroke pixel becomes a hint of its own colour.

Both become a :class:`Guide`: an a*b* map and a 0/1 mask at the photo's size,
which :func:`resize_guide` brings to a model's working size (each working
pixel takes the mean a*b* of the hinted input pixels it covers).

Simulated hints live here too: the hint sweep's points (:func:`sweep_points`,
:func:`sweep_hints`) and the random hints of training (:func:`simulate_hints`).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from .color import rgb_to_lab
from .io import read_image
from .text import one_line, parse_json

__all__ = [
    "Hint", "Guide", "HintError", "parse_hints", "parse_frame_hints", "check_inside", "read_hints", "read_hints_json", "hints_to_json",
    "rasterize", "scribble_guide", "resize_guide", "merge_guides", "as_hints", "read_scribbles",
    "sweep_points", "sweep_hints", "simulate_hints",
]

#: Largest hint square side accepted, in pixels.
MAX_HINT_SIZE = 512
_HEX = re.compile(r"#?([0-9a-fA-F]{6})")


class HintError(ValueError):
    """A hint, a hints file or a scribble image is malformed; the message names where and which entry."""


@dataclass(frozen=True)
class Hint:
    """One point hint: the square of side ``size`` centred on (x, y) has colour ``ab``."""

    x: float  #: column in the input photo's pixels (0 = left edge of the first pixel's centre)
    y: float  #: row
    ab: tuple[float, float]  #: a*, b* in real Lab units
    size: int = 1  #: side of the square in input pixels


@dataclass
class Guide:
    """Guidance at one resolution.

    Attributes
    ----------
    ab : ndarray of float32, shape (H, W, 2)
        a*b* where ``mask`` is 1, 0 elsewhere (real Lab units).
    mask : ndarray of float32, shape (H, W)
        1 where a colour is given, 0 elsewhere.
    """

    ab: np.ndarray
    mask: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.mask.shape

    @property
    def empty(self) -> bool:
        return not self.mask.any()


def _number(value, where: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise HintError(f"{where}: {key!r} must be a number, got {value!r}")
    return float(value)


def _hex_ab(text: object, where: str) -> tuple[float, float]:
    if not isinstance(text, str) or not _HEX.fullmatch(text.strip()):
        raise HintError(f"{where}: 'color' must be '#rrggbb', got {text!r}")
    h = _HEX.fullmatch(text.strip()).group(1)
    rgb = np.array([[[int(h[i : i + 2], 16) for i in (0, 2, 4)]]], np.uint8)
    a, b = rgb_to_lab(rgb)[0, 0, 1:]
    return float(a), float(b)


def parse_hints(obj: object, where: str = "hints", shape: tuple[int, int] | None = None) -> list[Hint]:
    """Check and convert hints given as JSON-like data.

    Parameters
    ----------
    obj : list of dict, or dict with key ``"hints"``
        See the module docstring.
    where : str
        Named in error messages (a file name, say).
    shape : (H, W), optional
        The photo's size: hints outside it are refused.

    Returns
    -------
    list of Hint

    Raises
    ------
    HintError
        Naming ``where`` and the entry (``hint 3``) and what is wrong.

    Examples
    --------
    >>> parse_hints([{"x": 3, "y": 4, "ab": [20, -10], "size": 5}])
    [Hint(x=3.0, y=4.0, ab=(20.0, -10.0), size=5)]
    """
    if isinstance(obj, dict):
        extra = set(obj) - {"hints"}
        if extra or "hints" not in obj:
            raise HintError(f"{where}: expected a list of hints or {{\"hints\": [...]}}, got keys {sorted(obj)}")
        obj = obj["hints"]
    if not isinstance(obj, list):
        raise HintError(f"{where}: expected a list of hints, got {type(obj).__name__}")
    out = []
    for i, h in enumerate(obj):
        at = f"{where}: hint {i}"
        if not isinstance(h, dict):
            raise HintError(f"{at}: expected an object like {{\"x\": 10, \"y\": 20, \"color\": \"#3a6ea5\"}}, got {h!r}")
        unknown = set(h) - {"x", "y", "ab", "color", "size"}
        if unknown:
            raise HintError(f"{at}: unknown key(s) {', '.join(sorted(map(repr, unknown)))} (known: x, y, ab, color, size)")
        for key in ("x", "y"):
            if key not in h:
                raise HintError(f"{at}: missing {key!r}")
        x, y = _number(h["x"], at, "x"), _number(h["y"], at, "y")
        if ("ab" in h) == ("color" in h):
            raise HintError(f"{at}: give exactly one of 'ab' and 'color'")
        if "ab" in h:
            ab = h["ab"]
            if not isinstance(ab, (list, tuple)) or len(ab) != 2:
                raise HintError(f"{at}: 'ab' must be [a, b], got {ab!r}")
            ab = (_number(ab[0], at, "ab"), _number(ab[1], at, "ab"))
            if max(abs(ab[0]), abs(ab[1])) > 128:
                raise HintError(f"{at}: 'ab' values must be within -128..128, got {list(ab)}")
        else:
            ab = _hex_ab(h["color"], at)
        size = h.get("size", 1)
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_HINT_SIZE:
            raise HintError(f"{at}: 'size' must be an integer 1..{MAX_HINT_SIZE}, got {size!r}")
        out.append(Hint(x, y, ab, int(size)))
    if shape is not None:
        check_inside(out, shape, where)
    return out


def check_inside(hints: Sequence[Hint], shape: tuple[int, int], where: str = "hints") -> None:
    """Raise :class:`HintError` naming ``where`` and the first hint outside a photo of size (H, W)."""
    for i, h in enumerate(hints):
        if not (-0.5 <= h.x < shape[1] - 0.5 and -0.5 <= h.y < shape[0] - 0.5):
            raise HintError(f"{where}: hint {i}: ({h.x:g}, {h.y:g}) is outside the photo ({shape[1]}x{shape[0]})")


def read_hints(path: str | os.PathLike, shape: tuple[int, int] | None = None) -> list[Hint]:
    """Read a hints JSON file (see :func:`parse_hints`); every error is one line naming the file."""
    return parse_hints(read_hints_json(path), str(path), shape)


def read_hints_json(path: str | os.PathLike) -> object:
    """A hints file's JSON, not yet checked (videos add keys to it); errors are one line naming the file."""
    path = Path(path)
    try:
        return parse_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HintError(f"{path}: no such hints file") from None
    except (OSError, ValueError) as exc:
        raise HintError(f"{path}: not a JSON hints file ({one_line(exc)})") from None


def parse_frame_hints(hints, where: str = "hints") -> dict[int, list[Hint]]:
    """Point hints for a video, grouped by the frame they start on (a photo takes those of frame 0).

    Each hint is a photo hint (:func:`parse_hints`) with an optional
    ``"frame": N`` (an integer >= 0, default 0). A path names a JSON file.

    Raises
    ------
    chromatize.hints.HintError
        One line naming the file and the entry.

    Examples
    --------
    >>> parse_frame_hints([{"x": 1, "y": 2, "ab": [10, 0], "frame": 3}])
    {3: [Hint(x=1.0, y=2.0, ab=(10.0, 0.0), size=1)]}
    """
    if isinstance(hints, dict) and hints and all(isinstance(k, int) and not isinstance(k, bool) for k in hints):
        return {k: as_hints(v) for k, v in hints.items()}  # grouped already
    if isinstance(hints, (str, os.PathLike)):
        where, hints = str(hints), read_hints_json(hints)
    if isinstance(hints, dict) and set(hints) == {"hints"}:
        hints = hints["hints"]
    items = list(hints) if isinstance(hints, (list, tuple)) else hints  # anything else: parse_hints says what
    frames = []
    if isinstance(items, list):
        items = [{"x": h.x, "y": h.y, "ab": list(h.ab), "size": h.size} if isinstance(h, Hint) else h for h in items]
        for i, h in enumerate(items):
            n = h.get("frame", 0) if isinstance(h, dict) else 0
            if isinstance(n, bool) or not isinstance(n, int) or n < 0:
                raise HintError(f"{where}: hint {i}: 'frame' must be an integer >= 0, got {n!r}")
            frames.append(n)
        items = [{k: v for k, v in h.items() if k != "frame"} if isinstance(h, dict) else h for h in items]
    out: dict[int, list[Hint]] = {}
    for n, hint in zip(frames, parse_hints(items, where)):
        out.setdefault(n, []).append(hint)
    return out


def hints_to_json(hints: list[Hint]) -> dict:
    """The JSON form that :func:`parse_hints` and ``chromatize colorize --hints`` read back."""
    return {"hints": [{"x": h.x, "y": h.y, "ab": [round(h.ab[0], 3), round(h.ab[1], 3)], "size": h.size}
                      for h in hints]}


def rasterize(hints: list[Hint], shape: tuple[int, int]) -> Guide:
    """Paint hints (later ones on top) into a Guide of ``shape`` (H, W); squares are clipped to the photo."""
    h, w = shape
    ab = np.zeros((h, w, 2), np.float32)
    mask = np.zeros((h, w), np.float32)
    for p in hints:
        half = (p.size - 1) / 2
        y0, x0 = int(round(p.y - half)), int(round(p.x - half))
        ys, xs = slice(max(0, y0), max(0, min(h, y0 + p.size))), slice(max(0, x0), max(0, min(w, x0 + p.size)))
        ab[ys, xs] = p.ab
        mask[ys, xs] = 1.0
    return Guide(ab, mask)


def scribble_guide(rgba: np.ndarray, shape: tuple[int, int], where: str = "scribbles",
                   min_alpha: int = 128) -> Guide:
    """A Guide from a scribble image: every pixel with alpha >= ``min_alpha`` is a hint of its colour.

    Raises
    ------
    HintError
        If the image is not RGBA of the photo's size.
    """
    if not isinstance(rgba, np.ndarray) or rgba.ndim != 3 or rgba.shape[2] != 4 or rgba.dtype != np.uint8:
        got = getattr(rgba, "shape", type(rgba).__name__)
        raise HintError(f"{where}: scribbles must be an RGBA uint8 image (H, W, 4), got {got}")
    if rgba.shape[:2] != tuple(shape):
        raise HintError(f"{where}: scribbles are {rgba.shape[1]}x{rgba.shape[0]}, the photo is {shape[1]}x{shape[0]}")
    mask = (rgba[..., 3] >= min_alpha).astype(np.float32)
    ab = rgb_to_lab(np.ascontiguousarray(rgba[..., :3]))[..., 1:] * mask[..., None]
    return Guide(ab.astype(np.float32), mask)


def merge_guides(first: Guide | None, second: Guide | None) -> Guide | None:
    """Both guides in one (``second`` wins where both give a colour)."""
    if first is None or second is None:
        return first if second is None else second
    m = second.mask[..., None]
    return Guide(first.ab * (1 - m) + second.ab * m, np.maximum(first.mask, second.mask))


def resize_guide(guide: Guide, shape: tuple[int, int]) -> Guide:
    """The guide at another size (H, W): each pixel gets the mean a*b* of the hinted pixels it covers.

    Downscaling averages (``INTER_AREA`` of ``ab * mask`` and of ``mask``), so a
    hint smaller than a working pixel still marks it; upscaling repeats
    (nearest), so hints stay sharp-edged squares.
    """
    if guide.shape == tuple(shape):
        return guide
    h, w = shape
    shrink = h <= guide.shape[0] and w <= guide.shape[1]
    interp = cv2.INTER_AREA if shrink else cv2.INTER_NEAREST
    m = cv2.resize(guide.mask, (w, h), interpolation=interp)
    s = cv2.resize(guide.ab * guide.mask[..., None], (w, h), interpolation=interp)
    hit = m > 1e-6
    ab = np.where(hit[..., None], s / np.maximum(m, 1e-6)[..., None], 0.0).astype(np.float32)
    return Guide(ab, hit.astype(np.float32))


def as_hints(hints, shape: tuple[int, int] | None = None) -> list[Hint]:
    """Hints in any accepted form, checked: a path to a JSON file, JSON-like data, or Hint objects.

    Parameters
    ----------
    hints : path, list of dict, dict ``{"hints": [...]}``, or list of Hint
    shape : (H, W), optional
        The photo's size: hints outside it are refused. None checks the format only.

    Raises
    ------
    HintError
        One line naming the file (or ``hints``) and the entry.
    """
    if isinstance(hints, (str, os.PathLike)):
        return read_hints(hints, shape)
    if isinstance(hints, (list, tuple)) and hints and all(isinstance(h, Hint) for h in hints):
        hints = [{"x": h.x, "y": h.y, "ab": list(h.ab), "size": h.size} for h in hints]
    return parse_hints(list(hints) if isinstance(hints, tuple) else hints, "hints", shape)


def read_scribbles(path: str | os.PathLike) -> np.ndarray:
    """A scribble image file as RGBA uint8 (H, W, 4).

    Raises
    ------
    HintError
        If the image has no transparency (every pixel would be a stroke).
    chromatize.io.ImageReadError
        If the file cannot be read.
    """
    photo = read_image(path)
    if photo.alpha is None:
        raise HintError(f"{path}: scribbles need transparency (an RGBA PNG whose opaque pixels are strokes)")
    return np.dstack([photo.rgb, photo.alpha])


def sweep_points(shape: tuple[int, int], n: int, rng: np.random.Generator, patch: int = 5) -> np.ndarray:
    """Top-left corners (row, col) of ``n`` squares, normal around the centre, as Zhang et al. 2017's test sweep.

    See ``chromatize.evaluate.sweep`` for the protocol.

    Returns
    -------
    ndarray of int, shape (n, 2)
    """
    spans = np.array([max(side - patch + 1, 1) for side in shape], np.float64)
    z = rng.normal(spans / 2, spans / 4, size=(n, 2))  # point by point: row, then column, as Zhang's loop
    return np.clip(z.astype(int), 0, np.maximum(np.array(shape) - patch, 0))


def sweep_hints(ab_true: np.ndarray, corners: np.ndarray, patch: int = 5) -> list[Hint]:
    """One hint per corner: the ``patch`` square there, with the mean true a*b* of that square.

    Parameters
    ----------
    ab_true : ndarray of float32, shape (H, W, 2)
        The ground truth's a*b*.
    corners : ndarray of int, shape (n, 2)
        Top-left (row, col) of each square, from :func:`sweep_points`.
    """
    hints = []
    for r, c in corners:
        square = ab_true[r : r + patch, c : c + patch].reshape(-1, 2)
        side = min(patch, ab_true.shape[0] - r, ab_true.shape[1] - c)
        a, b = square.mean(axis=0)
        # A square of odd side `side` centred at (c + (side - 1) / 2, r + (side - 1) / 2) covers exactly it.
        hints.append(Hint(c + (side - 1) / 2, r + (side - 1) / 2, (float(a), float(b)), int(side)))
    return hints


def simulate_hints(ab: np.ndarray, rng: np.random.Generator, p: float = 1 / 8, max_size: int = 9,
                   ab_norm: float = 100.0, counts: Sequence[int] | None = None) -> np.ndarray:
    """Simulated user hints for training, as Zhang et al. 2017 (colorization-pytorch) draw them.

    Per photo, the number of points is geometric: another point is added with
    probability ``1 - p`` (so with ``p = 1/8`` none at all one time in eight,
    about 7 on average). Each point is a square patch of side 1..``max_size``
    px, its centre drawn from a normal around the photo's centre (sd a quarter
    of the side, clipped), carrying the mean true a*b* of the patch.

    Parameters
    ----------
    ab : ndarray of float32, shape (B, 2, H, W)
        True a*b* (real Lab units) of the crops.
    rng : numpy.random.Generator
    counts : sequence of int, optional
        Exactly this many points for each photo, instead of the geometric draw.

    Returns
    -------
    hints : ndarray of float32, shape (B, 3, H, W)
        a*b* / ``ab_norm`` where hinted (0 elsewhere), then the 0/1 mask.
    """
    b, _, h, w = ab.shape
    out = np.zeros((b, 3, h, w), np.float32)
    for i in range(b):
        placed = 0
        while (rng.random() < 1 - p) if counts is None else placed < counts[i]:
            placed += 1
            size = int(rng.integers(1, max_size + 1))
            y = int(np.clip(rng.normal((h - size + 1) / 2, (h - size + 1) / 4), 0, h - size))
            x = int(np.clip(rng.normal((w - size + 1) / 2, (w - size + 1) / 4), 0, w - size))
            patch = ab[i, :, y : y + size, x : x + size]
            out[i, :2, y : y + size, x : x + size] = patch.mean(axis=(1, 2))[:, None, None] / ab_norm
            out[i, 2, y : y + size, x : x + size] = 1.0
    return out
