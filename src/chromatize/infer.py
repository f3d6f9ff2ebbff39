"""Running a colorizer on a photo of any size.

The model sees the photo's L at its working size; the predicted a*b* is
upsampled to the photo's size and merged with the photo's own full-resolution
L (the pre/post-processing pair of Zhang et al.). A colour input is colorized
from its own L; alpha is carried through unchanged.

Guidance (``docs/GUIDED.md``, :class:`chromatize.guidance.Guidance`): point hints and scribbles become a
Guide at the photo's size (:meth:`chromatize.guidance.Guidance.guide`), brought to the working
size and given to the model, which must accept hints. A reference photo's
colours move the prediction towards them (``chromatize.transfer``), with any
model. When the prediction is changed after the model (saturation,
reference), the hinted colours are put back and their change spread by
Levin's propagation, so these changes never override a hint.
"""

from __future__ import annotations

import os
import threading
import warnings

import cv2
import numpy as np

from .color import lab_to_rgb, merge_lab, rgb_to_lab
from .guidance import NO_GUIDANCE, Guidance
from .hints import Guide, resize_guide
from .io import Photo, as_photo
from .models import Colorizer, load_model
from .transfer import match_reference

__all__ = ["colorize", "colorize_photo", "predict_ab", "merge_full", "lightness", "keep_hints", "cached_model",
           "STRIP_ROWS"]

#: Rows converted at a time when merging at full resolution, so that a 24 MP
#: photo needs a few hundred MB of float buffers at most, not several GB.
STRIP_ROWS = 512
#: Columns upsampled at a time: OpenCV's remap takes maps narrower than 32767.
STRIP_COLS = 16384


def lightness(rgb: np.ndarray) -> np.ndarray:
    """L (0..100, float32, (H, W)) of an RGB uint8 photo, converted in strips."""
    h = rgb.shape[0]
    L = np.empty(rgb.shape[:2], np.float32)
    for y in range(0, h, STRIP_ROWS):
        L[y : y + STRIP_ROWS] = rgb_to_lab(rgb[y : y + STRIP_ROWS])[..., 0]
    return L


def predict_ab(model: Colorizer, L: np.ndarray, guidance: Guidance = NO_GUIDANCE,
               work_guide: Guide | None = None) -> np.ndarray:
    """a*b* at the model's working size for a full-resolution L (H, W).

    Parameters
    ----------
    model : Colorizer
    L : ndarray of float32, shape (H, W)
        Lightness in 0..100 at the photo's size.
    guidance : Guidance
        Working size, colour gain, hints and scribbles (at the photo's size;
        the model must accept them) and the reference's colours. A
        ``render_size`` above the photo's longer side is lowered to it.

    Returns
    -------
    ab : ndarray of float32, shape (h, w, 2) at ``model.work_shape``
    """
    h, w = L.shape
    render_size = guidance.render_size
    if render_size is not None:  # never more than the photo's own pixels: memory grows with its square, quality not
        render_size = max(8, min(int(render_size), max(h, w)))
    wh, ww = model.work_shape(h, w, render_size)
    small = L if (wh, ww) == (h, w) else cv2.resize(L, (ww, wh), interpolation=cv2.INTER_AREA)
    small = np.ascontiguousarray(small, dtype=np.float32)
    if work_guide is None:
        full = guidance.guide((h, w)) if guidance.steers_model else None
        work_guide = None if full is None else resize_guide(full, (wh, ww))
    g = None if work_guide is None or work_guide.empty else work_guide
    ab = model.predict_ab(small) if g is None else model.predict_ab(small, g)
    if ab.shape != (wh, ww, 2):
        raise RuntimeError(f"{model.name}: predicted a*b* of shape {ab.shape}, expected {(wh, ww, 2)}")
    changed = False
    if guidance.saturation is not None and guidance.saturation != 1:
        ab, changed = ab * np.float32(guidance.saturation), True
    if guidance.reference is not None:
        ab, changed = match_reference(small, ab, guidance.reference, guidance.reference_strength), True
    if g is not None and changed:
        ab = keep_hints(small, ab, g)
    return ab


def keep_hints(L: np.ndarray, ab: np.ndarray, guide: Guide) -> np.ndarray:
    """``ab`` with the guide's colours put back, their change spread along L by Levin's propagation.

    All arrays at one size: L (h, w) in 0..100, ab (h, w, 2), guide (h, w).
    """
    from .models.levin import propagate  # scipy only when hints meet a changed prediction

    residual = ((guide.ab - ab) * guide.mask[..., None]).astype(np.float32)
    return (ab + propagate(L, Guide(residual, guide.mask))).astype(np.float32)


def merge_full(L: np.ndarray, ab_small: np.ndarray) -> np.ndarray:
    """Upsample a*b* to L's size and convert to RGB uint8, strip by strip."""
    h, w = L.shape
    sh, sw = ab_small.shape[:2]
    out = np.empty((h, w, 3), np.uint8)
    if (sh, sw) == (h, w):
        for y in range(0, h, STRIP_ROWS):
            out[y : y + STRIP_ROWS] = lab_to_rgb(merge_lab(L[y : y + STRIP_ROWS], ab_small[y : y + STRIP_ROWS]))
        return out
    # Bilinear upsampling with pixel centres aligned, done per tile of output
    # rows (and, for panoramas, columns) via remap, which matches
    # cv2.resize(INTER_LINEAR) without ever holding the full-resolution a*b*.
    xs_all = ((np.arange(w, dtype=np.float32) + 0.5) * (sw / w) - 0.5).astype(np.float32)
    for y in range(0, h, STRIP_ROWS):
        rows = np.arange(y, min(y + STRIP_ROWS, h), dtype=np.float32)
        ys = ((rows + 0.5) * (sh / h) - 0.5).astype(np.float32)
        for x in range(0, w, STRIP_COLS):
            xs = xs_all[x : x + STRIP_COLS]
            mx, my = np.meshgrid(xs, ys)
            ab = cv2.remap(ab_small, mx, my, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            tile = (slice(y, y + len(rows)), slice(x, x + len(xs)))
            out[tile] = lab_to_rgb(merge_lab(L[tile], ab))
    return out


def colorize_photo(photo: Photo, model: Colorizer, guidance: Guidance = NO_GUIDANCE) -> Photo:
    """Colorize a decoded Photo with a loaded model; alpha is kept. See :func:`colorize` for the guidance.

    Raises
    ------
    chromatize.hints.HintError
        If a hint lies outside the photo or the scribbles have another size.
    ValueError
        If hints or scribbles are given to a model that takes none.
    """
    guidance.check_model(model)
    L = lightness(photo.rgb)
    ab = predict_ab(model, L, guidance)
    return Photo(merge_full(L, ab), photo.alpha)


def _model_key(name: str) -> tuple:
    """What identifies a model folder's contents for :func:`cached_model` (its config's path and mtime)."""
    from .models import resolve_model_folder

    folder = resolve_model_folder(name)
    if folder is None:
        return (name,)  # a model-free name (gray, levin)
    config = folder / "config.json"
    if not config.is_file():
        return (str(folder.resolve()),)  # load_model says what is wrong with it
    return (str(config.resolve()), config.stat().st_mtime_ns)


_CACHE: dict[tuple, Colorizer] = {}
_CACHE_LOCK = threading.Lock()
#: Models kept loaded by :func:`cached_model` (the least recently loaded goes first).
CACHE_SIZE = 4


def cached_model(model: "str | os.PathLike | Colorizer | None") -> Colorizer:
    """:func:`chromatize.load_model`, but a name or folder is loaded once per process and reused.

    Thread-safe. A folder whose ``config.json`` changed (a new training run
    written over it) is loaded again. A Colorizer is returned as it is.
    """
    if isinstance(model, Colorizer):
        return model
    key = _model_key("default" if model is None else str(model))
    with _CACHE_LOCK:
        if key not in _CACHE:
            if len(_CACHE) >= CACHE_SIZE:
                _CACHE.pop(next(iter(_CACHE)))
            _CACHE[key] = load_model(model)
        return _CACHE[key]


def colorize(
    image: "str | os.PathLike | np.ndarray | Photo",
    model: "str | os.PathLike | Colorizer | None" = None,
    *,
    hints=None,
    scribbles=None,
    reference=None,
    reference_strength: float | None = None,
    render_size: int | None = None,
    saturation: float | None = None,
    guidance: Guidance | None = None,
) -> np.ndarray:
    """Colorize a photo, optionally guided by point hints, scribbles or a reference photo.

    Parameters
    ----------
    image : path or ndarray
        A file, or an array (H, W) gray, (H, W, 3) RGB or (H, W, 4) RGBA;
        uint8, uint16 or float in 0..1. A colour photo is colorized from its
        own L (its colours are ignored).
    model : str, path, Colorizer or None
        A bundled name (``"cnn"``, ``"mlp"``), a baseline (``"gray"``), the
        model-free ``"levin"`` (hints spread along lightness, gray without
        them), a model folder, a loaded model, or None for the default model.
        A name or folder is loaded once per process and kept (:func:`cached_model`).
    hints : list of dict, list of Hint, dict ``{"hints": [...]}``, path, optional
        Point hints in the photo's pixels, ``{"x": col, "y": row, "color":
        "#rrggbb"}`` or ``"ab": [a, b]``, optional ``"size"``; a path names a
        JSON file of them (:mod:`chromatize.hints`). Needs a model that takes hints.
    scribbles : ndarray of uint8 (H, W, 4), or path, optional
        An RGBA image of the photo's size (a PNG with transparency): opaque pixels are strokes.
    reference : path, ndarray or Photo, optional
        A colour photo whose colours guide the result, any model (:mod:`chromatize.transfer`).
    reference_strength : float, optional
        0..1, how far to move towards the reference (default 0.25; 1 = its band means).
    render_size : int, optional
        Working size (``Colorizer.work_shape``), 8..4096 px; at most the photo's longer side.
    saturation : float, optional
        Colour gain relative to the model as shipped: 1 (or None) = as
        shipped, < 1 paler, > 1 more vivid. The model is not changed.
    guidance : Guidance, optional
        All of the above, parsed once (:meth:`chromatize.Guidance.build`): pass it
        instead of the keywords when colorizing many photos the same way.

    Returns
    -------
    rgb : ndarray of uint8, shape (H, W, 3), or (H, W, 4) when the input has alpha

    Raises
    ------
    chromatize.io.ImageReadError
        If a path (the photo, scribbles, the reference) cannot be read.
    chromatize.hints.HintError
        If a hint or the scribbles are malformed (one line naming the file and the entry).
    chromatize.models.ModelFormatError
        If the model cannot be loaded.
    ValueError, TypeError
        If the array, ``render_size`` or ``saturation`` is not acceptable (the message says what was
        received), or hints or scribbles are given to a model without hint support.

    Examples
    --------
    >>> import numpy as np, chromatize
    >>> out = chromatize.colorize(np.full((8, 8), 128, np.uint8), model="gray")
    >>> out.shape, out.dtype
    ((8, 8, 3), dtype('uint8'))
    """
    guidance = Guidance.from_keywords(guidance, hints=hints, scribbles=scribbles, reference=reference,
                                      reference_strength=reference_strength, render_size=render_size,
                                      saturation=saturation)
    photo = as_photo(image)
    if photo.frames > 1:
        warnings.warn(f"{image}: has {photo.frames} frames or pages; colorized the first only", stacklevel=2)
    out = colorize_photo(photo, cached_model(model), guidance)
    if out.alpha is None:
        return out.rgb
    return np.concatenate([out.rgb, out.alpha[..., None]], axis=2)
