"""Running a colorizer on a photo of any size.

The model sees the photo's L at its working size; the predicted a*b* is
upsampled to the photo's size and merged with the photo's own full-resolution
L (the pre/post-processing pair of Zhang et al.). A colour input is colorized
from its own L; alpha is carried through unchanged.
"""

from __future__ import annotations

import os

import cv2
import numpy as np

from .color import lab_to_rgb, merge_lab, rgb_to_lab
from .io import Photo, as_photo
from .models import Colorizer, load_model
from .models.base import MAX_RENDER_SIZE

__all__ = ["colorize", "colorize_photo", "predict_ab", "merge_full", "lightness", "check_settings", "STRIP_ROWS"]

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
               saturation: float | None = None) -> np.ndarray:
    """a*b* at the model's working size for a full-resolution L (H, W).

    ``saturation`` multiplies the model's prediction (1 or None = as the model is shipped).
    """
    h, w = L.shape
    wh, ww = model.work_shape(h, w, render_size)
    small = L if (wh, ww) == (h, w) else cv2.resize(L, (ww, wh), interpolation=cv2.INTER_AREA)
    ab = model.predict_ab(np.ascontiguousarray(small, dtype=np.float32))
    if ab.shape != (wh, ww, 2):
        raise RuntimeError(f"{model.name}: predicted a*b* of shape {ab.shape}, expected {(wh, ww, 2)}")
    if saturation is not None and saturation != 1:
        ab = ab * np.float32(saturation)
    return ab


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


def colorize_photo(photo: Photo, model: Colorizer, render_size: int | None = None,
                   saturation: float | None = None) -> Photo:
    """Colorize a decoded Photo; alpha is kept. See :func:`colorize` for the knobs."""
    check_settings(render_size, saturation)
    L = lightness(photo.rgb)
    ab = predict_ab(model, L, render_size, saturation)
    return Photo(merge_full(L, ab), photo.alpha)


def colorize(
    image: "str | os.PathLike | np.ndarray | Photo",
    model: "str | os.PathLike | Colorizer | None" = None,
    *,
    render_size: int | None = None,
    saturation: float | None = None,
) -> np.ndarray:
    """Colorize a photo.

    Parameters
    ----------
    image : path or ndarray
        A file, or an array (H, W) gray, (H, W, 3) RGB or (H, W, 4) RGBA;
        uint8, uint16 or float in 0..1. A colour photo is colorized from its
        own L (its colours are ignored).
    model : str, path, Colorizer or None
        A bundled name (``"cnn"``, ``"mlp"``, ``"gray"``), a model folder, a
        loaded model, or None for the default model.
    render_size : int, optional
        Working size of the model (see ``Colorizer.work_shape``), 8..4096 px.
    saturation : float, optional
        Colour gain relative to the model as shipped: 1 (or None) = as
        shipped, < 1 paler, > 1 more vivid. The model is not changed.

    Returns
    -------
    rgb : ndarray of uint8, shape (H, W, 3), or (H, W, 4) when the input has alpha

    Raises
    ------
    chromatize.io.ImageReadError
        If a path cannot be read.
    chromatize.models.ModelFormatError
        If the model cannot be loaded.
    ValueError, TypeError
        If the array, ``render_size`` or ``saturation`` is not acceptable (the message says what was received).

    Examples
    --------
    >>> import numpy as np, chromatize
    >>> out = chromatize.colorize(np.full((8, 8), 128, np.uint8), model="gray")
    >>> out.shape, out.dtype
    ((8, 8, 3), dtype('uint8'))
    """
    check_settings(render_size, saturation)
    photo = as_photo(image)
    out = colorize_photo(photo, load_model(model), render_size, saturation)
    if out.alpha is None:
        return out.rgb
    return np.concatenate([out.rgb, out.alpha[..., None]], axis=2)
