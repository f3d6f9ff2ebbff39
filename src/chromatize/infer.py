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

__all__ = ["colorize", "colorize_photo", "predict_ab", "STRIP_ROWS"]

#: Rows converted at a time when merging at full resolution, so that a 24 MP
#: photo needs a few hundred MB of float buffers at most, not several GB.
STRIP_ROWS = 512


def lightness(rgb: np.ndarray) -> np.ndarray:
    """L (0..100, float32, (H, W)) of an RGB uint8 photo, converted in strips."""
    h = rgb.shape[0]
    L = np.empty(rgb.shape[:2], np.float32)
    for y in range(0, h, STRIP_ROWS):
        L[y : y + STRIP_ROWS] = rgb_to_lab(rgb[y : y + STRIP_ROWS])[..., 0]
    return L


def predict_ab(model: Colorizer, L: np.ndarray, render_size: int | None = None) -> np.ndarray:
    """a*b* at the model's working size for a full-resolution L (H, W)."""
    h, w = L.shape
    wh, ww = model.work_shape(h, w, render_size)
    small = L if (wh, ww) == (h, w) else cv2.resize(L, (ww, wh), interpolation=cv2.INTER_AREA)
    ab = model.predict_ab(np.ascontiguousarray(small, dtype=np.float32))
    if ab.shape != (wh, ww, 2):
        raise RuntimeError(f"{model.name}: predicted a*b* of shape {ab.shape}, expected {(wh, ww, 2)}")
    return ab


def _merge_full(L: np.ndarray, ab_small: np.ndarray) -> np.ndarray:
    """Upsample a*b* to L's size and convert to RGB uint8, strip by strip."""
    h, w = L.shape
    sh, sw = ab_small.shape[:2]
    out = np.empty((h, w, 3), np.uint8)
    if (sh, sw) == (h, w):
        for y in range(0, h, STRIP_ROWS):
            out[y : y + STRIP_ROWS] = lab_to_rgb(merge_lab(L[y : y + STRIP_ROWS], ab_small[y : y + STRIP_ROWS]))
        return out
    # Bilinear upsampling with pixel centres aligned, done per strip of output
    # rows via remap, which matches cv2.resize(INTER_LINEAR) without ever
    # holding the full-resolution a*b* in memory.
    xs = ((np.arange(w, dtype=np.float32) + 0.5) * (sw / w) - 0.5).astype(np.float32)
    for y in range(0, h, STRIP_ROWS):
        rows = np.arange(y, min(y + STRIP_ROWS, h), dtype=np.float32)
        ys = ((rows + 0.5) * (sh / h) - 0.5).astype(np.float32)
        mx, my = np.meshgrid(xs, ys)
        ab = cv2.remap(ab_small, mx, my, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        out[y : y + len(rows)] = lab_to_rgb(merge_lab(L[y : y + len(rows)], ab))
    return out


def colorize_photo(photo: Photo, model: Colorizer, render_size: int | None = None) -> Photo:
    """Colorize a decoded Photo; alpha is kept."""
    L = lightness(photo.rgb)
    ab = predict_ab(model, L, render_size)
    return Photo(_merge_full(L, ab), photo.alpha)


def colorize(
    image: "str | os.PathLike | np.ndarray | Photo",
    model: "str | os.PathLike | Colorizer | None" = None,
    *,
    render_size: int | None = None,
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
        Working size of the model (see ``Colorizer.work_shape``).

    Returns
    -------
    rgb : ndarray of uint8, shape (H, W, 3), or (H, W, 4) when the input has alpha

    Raises
    ------
    chromatize.io.ImageReadError
        If a path cannot be read.
    chromatize.models.ModelFormatError
        If the model cannot be loaded.

    Examples
    --------
    >>> import numpy as np, chromatize
    >>> out = chromatize.colorize(np.full((8, 8), 128, np.uint8), model="gray")
    >>> out.shape, out.dtype
    ((8, 8, 3), dtype('uint8'))
    """
    photo = as_photo(image)
    out = colorize_photo(photo, load_model(model), render_size)
    if out.alpha is None:
        return out.rgb
    return np.concatenate([out.rgb, out.alpha[..., None]], axis=2)
