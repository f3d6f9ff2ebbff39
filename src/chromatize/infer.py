"""Running a colorizer on a photo of any size.

The model sees the photo's L at its working size; the predicted a*b* is
upsampled to the photo's size and merged with the photo's own full-resolution
L (the pre/post-processing pair of Zhang et al.). A colour input is colorized
from its own L; alpha is carried through unchanged.

Guidance (``docs/GUIDED.md``): point hints and scribbles become a Guide at
the photo's size (``chromatize.hints.load_guide``), brought to the working
size and given to the model, which must accept hints. A reference photo's
colours move the prediction towards them (``chromatize.transfer``), with any
model. When the prediction is changed after the model (saturation,
reference), the hinted colours are put back and their change spread by
Levin's propagation, so these changes never override a hint.
"""

from __future__ import annotations

import os
import warnings

import cv2
import numpy as np

from .color import lab_to_rgb, merge_lab, rgb_to_lab
from .hints import Guide, as_hints, load_guide, read_scribbles, resize_guide
from .io import Photo, as_photo
from .models import Colorizer, load_model
from .models.base import MAX_RENDER_SIZE, refuse_guide
from .transfer import STRENGTH, ColorStats, check_strength, match_reference, reference_stats

__all__ = ["colorize", "colorize_photo", "predict_ab", "merge_full", "lightness", "check_settings", "check_guidance", "keep_hints",
           "STRIP_ROWS"]

#: Rows converted at a time when merging at full resolution, so that a 24 MP
#: photo needs a few hundred MB of float buffers at most, not several GB.
STRIP_ROWS = 512
#: Columns upsampled at a time: OpenCV's remap takes maps narrower than 32767.
STRIP_COLS = 16384
#: Largest relative saturation accepted (a*b* multiplied by it).
MAX_SATURATION = 10.0


def check_settings(render_size: int | None = None, saturation: float | None = None) -> None:
    """Check the user-facing knobs; raise ``ValueError``/``TypeError`` saying what was received.

    ``render_size`` is a working size in pixels (8..MAX_RENDER_SIZE);
    ``saturation`` multiplies the model's own tuned colour gain (1 = as shipped, 0..10).
    """
    if render_size is not None:
        if isinstance(render_size, bool) or not isinstance(render_size, (int, np.integer)):
            raise TypeError(f"render_size must be an integer, got {type(render_size).__name__} {render_size!r}")
        if not 8 <= render_size <= MAX_RENDER_SIZE:
            raise ValueError(f"render_size must be between 8 and {MAX_RENDER_SIZE} pixels, got {render_size}")
    if saturation is not None:
        if isinstance(saturation, bool) or not isinstance(saturation, (int, float, np.floating, np.integer)):
            raise TypeError(f"saturation must be a number, got {type(saturation).__name__} {saturation!r}")
        if not 0 <= saturation <= MAX_SATURATION:
            raise ValueError(f"saturation must be between 0 and {MAX_SATURATION:g}, got {saturation}")


def lightness(rgb: np.ndarray) -> np.ndarray:
    """L (0..100, float32, (H, W)) of an RGB uint8 photo, converted in strips."""
    h = rgb.shape[0]
    L = np.empty(rgb.shape[:2], np.float32)
    for y in range(0, h, STRIP_ROWS):
        L[y : y + STRIP_ROWS] = rgb_to_lab(rgb[y : y + STRIP_ROWS])[..., 0]
    return L


def predict_ab(model: Colorizer, L: np.ndarray, render_size: int | None = None,
               saturation: float | None = None, *, guide: Guide | None = None,
               reference: ColorStats | None = None, reference_strength: float = STRENGTH) -> np.ndarray:
    """a*b* at the model's working size for a full-resolution L (H, W).

    Parameters
    ----------
    model : Colorizer
    L : ndarray of float32, shape (H, W)
        Lightness in 0..100 at the photo's size.
    render_size, saturation : optional
        See :func:`colorize`; ``saturation`` multiplies the prediction. A
        ``render_size`` above the photo's longer side is lowered to it.
    guide : chromatize.hints.Guide, optional
        Hints and scribbles at the photo's size (the model must accept hints).
    reference : chromatize.transfer.ColorStats, optional
        A reference photo's colours (``transfer.reference_stats``).
    reference_strength : float
        The share of the way to move towards them (0..1).

    Returns
    -------
    ab : ndarray of float32, shape (h, w, 2) at ``model.work_shape``
    """
    h, w = L.shape
    if render_size is not None:  # never more than the photo's own pixels: memory grows with its square, quality not
        render_size = max(8, min(int(render_size), max(h, w)))
    wh, ww = model.work_shape(h, w, render_size)
    small = L if (wh, ww) == (h, w) else cv2.resize(L, (ww, wh), interpolation=cv2.INTER_AREA)
    small = np.ascontiguousarray(small, dtype=np.float32)
    g = None if guide is None or guide.empty else resize_guide(guide, (wh, ww))
    ab = model.predict_ab(small) if g is None else model.predict_ab(small, g)
    if ab.shape != (wh, ww, 2):
        raise RuntimeError(f"{model.name}: predicted a*b* of shape {ab.shape}, expected {(wh, ww, 2)}")
    changed = False
    if saturation is not None and saturation != 1:
        ab, changed = ab * np.float32(saturation), True
    if reference is not None:
        ab, changed = match_reference(small, ab, reference, reference_strength), True
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


def check_guidance(model: Colorizer, hints=None, scribbles=None, reference=None,
                   reference_strength: float | None = None) -> dict:
    """Check, once, the guidance that does not depend on the photo; for a batch that applies it to many.

    A hints file is read and parsed, a scribble file read and checked for
    transparency, the reference read and its colours summarised; the model
    must accept hints if hints or scribbles are given. Whether hints fall
    inside a photo and scribbles match its size is checked per photo.

    Returns
    -------
    dict
        The keywords ``hints``, ``scribbles``, ``reference`` (as
        :class:`chromatize.transfer.ColorStats`) and ``reference_strength``
        for :func:`colorize_photo`.

    Raises
    ------
    chromatize.hints.HintError, chromatize.io.ImageReadError
        One line naming the file and the entry.
    ValueError
        If the model takes no hints.
    """
    given = bool(as_hints(hints)) if hints is not None else False  # the format; the bounds per photo
    if isinstance(scribbles, (str, os.PathLike)):
        read_scribbles(scribbles)  # readable, with transparency; the size per photo
    if not model.accepts_hints and (given or scribbles is not None):
        refuse_guide(model, hints if given else scribbles)
    if reference_strength is not None:
        check_strength(reference_strength)
    return {"hints": hints, "scribbles": scribbles, "reference": _reference_stats(reference),
            "reference_strength": reference_strength}


def _reference_stats(reference) -> ColorStats | None:
    """A reference (path, array, Photo, or ColorStats already) as its ColorStats; None stays None."""
    if reference is None or isinstance(reference, ColorStats):
        return reference
    return reference_stats(as_photo(reference).rgb)


def colorize_photo(photo: Photo, model: Colorizer, render_size: int | None = None,
                   saturation: float | None = None, *, hints=None, scribbles=None, reference=None,
                   reference_strength: float | None = None) -> Photo:
    """Colorize a decoded Photo; alpha is kept. See :func:`colorize` for the knobs.

    Hints, scribbles and the reference are checked (and read, when paths)
    before any colorizing; ``reference`` may also be the
    :class:`chromatize.transfer.ColorStats` that :func:`check_guidance` returns.
    """
    check_settings(render_size, saturation)
    strength = STRENGTH if reference_strength is None else check_strength(reference_strength)
    guide = load_guide(photo.rgb.shape[:2], hints, scribbles)
    if not model.accepts_hints:
        refuse_guide(model, guide)
    stats = _reference_stats(reference)
    L = lightness(photo.rgb)
    ab = predict_ab(model, L, render_size, saturation, guide=guide, reference=stats, reference_strength=strength)
    return Photo(merge_full(L, ab), photo.alpha)


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
    hints : list of dict, list of Hint, dict ``{"hints": [...]}``, path, optional
        Point hints, coordinates in the input photo's pixels:
        ``{"x": col, "y": row, "color": "#rrggbb"}`` or ``"ab": [a, b]``, with
        an optional ``"size"`` (side of the square in pixels); a path names a
        JSON file of them (``chromatize.hints``). Needs a model that accepts
        hints (the CNN, ``"levin"``).
    scribbles : ndarray of uint8 (H, W, 4), or path, optional
        Strokes: an RGBA image of the photo's size (or a PNG file with
        transparency) whose opaque pixels give colours. Same models as hints.
    reference : path, ndarray or Photo, optional
        A colour photo whose colours guide the result (any model): the
        prediction's a*b* is moved towards the reference's mean a*b* per band
        of lightness (``chromatize.transfer``).
    reference_strength : float, optional
        0..1, how far to move towards the reference (default 0.25; 1 = its band means).
    render_size : int, optional
        Working size of the model (see ``Colorizer.work_shape``), 8..4096 px,
        and never more than the photo's longer side (a larger value is
        lowered to it: the output has the photo's pixels, and the memory a
        model needs grows with the square of its working size).
    saturation : float, optional
        Colour gain relative to the model as shipped: 1 (or None) = as
        shipped, < 1 paler, > 1 more vivid. The model is not changed.

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
    chromatize.models.ModelRunError
        If a loaded network fails to run (one line naming its file, not ONNX Runtime's raw error).
    MemoryError
        If the working size needs more memory than this machine gives.
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
    check_settings(render_size, saturation)
    photo = as_photo(image)
    if photo.frames > 1:
        warnings.warn(f"{image}: has {photo.frames} frames or pages; colorized the first only", stacklevel=2)
    out = colorize_photo(photo, load_model(model), render_size, saturation, hints=hints, scribbles=scribbles,
                         reference=reference, reference_strength=reference_strength)
    if out.alpha is None:
        return out.rgb
    return np.concatenate([out.rgb, out.alpha[..., None]], axis=2)
