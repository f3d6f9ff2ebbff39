"""Colour conversion: RGB <-> CIE Lab, L / a*b* split and merge.

Every conversion goes through OpenCV, so that training, inference, metrics and
experiments all see the same numbers.

Two Lab encodings are used, and the names say which:

* *real* Lab (``rgb_to_lab`` / ``lab_to_rgb``): float32, L in 0..100,
  a*, b* roughly -128..127 (D65, sRGB). Models take and return these units.
* *8-bit* Lab (``rgb_to_lab8``): OpenCV's uint8 encoding that the original
  report used, L scaled to 0..255 and a*, b* offset by 128.

The normalisation constants live here and nowhere else.
"""

from __future__ import annotations

import warnings

import cv2
import numpy as np

__all__ = [
    "L_MAX",
    "AB_OFFSET8",
    "SCALE8",
    "L_CENT",
    "L_NORM",
    "AB_NORM",
    "normalise_L",
    "rgb_to_lab",
    "lab_to_rgb",
    "rgb_to_lab8",
    "split_lab",
    "merge_lab",
    "gray_to_rgb",
]

#: Upper end of real L (lower end is 0).
L_MAX = 100.0
#: Offset OpenCV adds to a*, b* in its 8-bit Lab encoding.
AB_OFFSET8 = 128.0
#: 8-bit Lab values are divided by this to give the report's 0..1 inputs and targets.
SCALE8 = 255.0
#: The networks see normalised lightness (L - L_CENT) / L_NORM, about -1..1.
L_CENT = 50.0
L_NORM = 50.0
#: The networks' regression heads predict a*b* / AB_NORM.
AB_NORM = 100.0


def normalise_L(L):
    """Real L (0..100) -> the networks' input, (L - L_CENT) / L_NORM.

    Works on numpy arrays and torch tensors alike (plain arithmetic).
    """
    return (L - L_CENT) / L_NORM


def _check_rgb(rgb: np.ndarray, name: str = "rgb") -> np.ndarray:
    """Return ``rgb`` as a C-contiguous (H, W, 3) array or raise naming what was received."""
    if not isinstance(rgb, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(rgb).__name__}")
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"{name} must have shape (H, W, 3), got {rgb.shape}")
    if rgb.dtype not in (np.uint8, np.float32, np.float64):
        raise TypeError(f"{name} must be uint8 or float, got dtype {rgb.dtype}")
    return np.ascontiguousarray(rgb)


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """Convert sRGB to real CIE Lab (D65).

    Parameters
    ----------
    rgb : ndarray, shape (H, W, 3)
        uint8 in 0..255, or float in 0..1.

    Returns
    -------
    lab : ndarray of float32, shape (H, W, 3)
        L in 0..100, a*, b* about -128..127.

    Raises
    ------
    TypeError, ValueError
        If ``rgb`` is not an (H, W, 3) uint8 or float array.

    Examples
    --------
    >>> import numpy as np
    >>> lab = rgb_to_lab(np.full((1, 1, 3), 255, np.uint8))
    >>> round(float(lab[0, 0, 0]), 1)
    100.0
    """
    rgb = _check_rgb(rgb)
    if rgb.dtype == np.uint8:
        f = rgb.astype(np.float32) / 255.0
    else:
        f = rgb.astype(np.float32)
    return cv2.cvtColor(f, cv2.COLOR_RGB2Lab)


def lab_to_rgb(lab: np.ndarray, *, clip: bool = True) -> np.ndarray:
    """Convert real CIE Lab back to sRGB uint8.

    Parameters
    ----------
    lab : ndarray, shape (H, W, 3)
        L in 0..100, a*, b* in real units.
    clip : bool
        Lab colours outside the sRGB gamut are clipped to 0..255 (the only way
        to store them in 8 bits). With ``clip=False`` a ``RuntimeWarning`` with
        the count of out-of-gamut pixels is issued as well.

    Returns
    -------
    rgb : ndarray of uint8, shape (H, W, 3)
    """
    lab = _check_rgb(np.asarray(lab, dtype=np.float32), "lab")
    rgb = cv2.cvtColor(lab, cv2.COLOR_Lab2RGB)  # OpenCV clips to 0..1 itself
    if not clip:
        # Out of gamut = the clipped colour no longer converts back to the same Lab.
        err = np.abs(cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab) - lab).max(axis=2)
        n = int(np.count_nonzero(err > 1.0))
        if n:
            warnings.warn(f"{n} Lab pixels out of the sRGB gamut were clipped", RuntimeWarning, stacklevel=2)
    return np.clip(np.rint(rgb * 255.0), 0, 255).astype(np.uint8)


def rgb_to_lab8(rgb: np.ndarray) -> np.ndarray:
    """OpenCV's 8-bit Lab, as the report used: L, a*, b* each uint8 in 0..255.

    L is scaled by 255/100; a* and b* are offset by 128.
    """
    rgb = _check_rgb(rgb)
    if rgb.dtype != np.uint8:
        raise TypeError(f"rgb_to_lab8 needs uint8 RGB, got dtype {rgb.dtype}")
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab)


def split_lab(lab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split (H, W, 3) Lab into L (H, W) and a*b* (H, W, 2)."""
    return lab[..., 0], lab[..., 1:]


def merge_lab(L: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """Join L (H, W) and a*b* (H, W, 2) into (H, W, 3) float32 Lab."""
    if L.shape != ab.shape[:2] or ab.ndim != 3 or ab.shape[2] != 2:
        raise ValueError(f"L {L.shape} and ab {ab.shape} do not match: need (H, W) and (H, W, 2)")
    return np.concatenate([L[..., None], ab], axis=2).astype(np.float32, copy=False)


def gray_to_rgb(rgb: np.ndarray) -> np.ndarray:
    """The gray version of a photo: its own L with a*b* = 0, as uint8 RGB."""
    L, _ = split_lab(rgb_to_lab(rgb))
    return lab_to_rgb(merge_lab(L, np.zeros(L.shape + (2,), np.float32)))
