"""5x5 neighbourhoods of the L plane, with the report's "average padding".

The report's MLP sees, for every pixel, the 25 L values of the 5x5 window
centred on it. Near the borders the window reaches outside the photo; the
report fills those places with the photo's mean L ("average padding"), which
is what :func:`average_pad` does.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["PATCH", "RADIUS", "average_pad", "extract_patches"]

#: Side of the square neighbourhood.
PATCH = 5
#: Pixels of padding on every side (PATCH // 2).
RADIUS = PATCH // 2


def _check_plane(L: np.ndarray) -> np.ndarray:
    if not isinstance(L, np.ndarray):
        raise TypeError(f"L must be a numpy array, got {type(L).__name__}")
    if L.ndim != 2 or L.shape[0] < 1 or L.shape[1] < 1:
        raise ValueError(f"L must have shape (H, W) with H, W >= 1, got {L.shape}")
    if not np.issubdtype(L.dtype, np.floating):
        raise TypeError(f"L must be a float array, got dtype {L.dtype}")
    return L


def average_pad(L: np.ndarray, radius: int = RADIUS) -> np.ndarray:
    """Pad an L plane by ``radius`` pixels filled with its own mean.

    Parameters
    ----------
    L : ndarray of float, shape (H, W)
        Lightness in any units (the MLP uses L/255 of OpenCV's 8-bit Lab).
    radius : int
        Width of the border, 2 for 5x5 patches.

    Returns
    -------
    padded : ndarray, shape (H + 2 radius, W + 2 radius), same dtype as ``L``

    Examples
    --------
    >>> import numpy as np
    >>> average_pad(np.array([[0.0, 1.0]]), radius=1)
    array([[0.5, 0.5, 0.5, 0.5],
           [0.5, 0. , 1. , 0.5],
           [0.5, 0.5, 0.5, 0.5]])
    """
    L = _check_plane(L)
    h, w = L.shape
    out = np.full((h + 2 * radius, w + 2 * radius), L.mean(dtype=np.float64), dtype=L.dtype)
    out[radius : radius + h, radius : radius + w] = L
    return out


def extract_patches(L: np.ndarray, size: int = PATCH) -> np.ndarray:
    """The ``size`` x ``size`` neighbourhood of every pixel, average-padded.

    Parameters
    ----------
    L : ndarray of float, shape (H, W)
    size : int
        Odd window side (5 in the report).

    Returns
    -------
    patches : ndarray, shape (H * W, size * size), same dtype as ``L``
        Row ``y * W + x`` holds the window centred on pixel (y, x), read row
        by row: element ``dy * size + dx`` is ``padded[y + dy, x + dx]``.

    Examples
    --------
    >>> import numpy as np
    >>> extract_patches(np.arange(4.0).reshape(2, 2)).shape
    (4, 25)
    """
    if size < 1 or size % 2 != 1:
        raise ValueError(f"patch size must be odd and positive, got {size}")
    padded = average_pad(L, size // 2)
    h, w = L.shape
    windows = sliding_window_view(padded, (size, size))  # (H, W, size, size), a view
    return np.ascontiguousarray(windows.reshape(h * w, size * size))
