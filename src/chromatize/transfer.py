"""Colours from a reference photo: its a*b* by lightness band, and a prediction moved towards them.

A *reference* is another colour photo whose colours should guide the result
(a photo of the same kind of scene, say). Its statistics are the mean a*b* in
each of :data:`BANDS` overlapping bands of lightness (triangular weights
over L, centres evenly spaced in 0..100), so that bright parts can borrow the
reference's sky and dark parts its foliage. A band the photo barely covers is
pulled towards the photo's overall mean by a pseudo-count of :data:`PRIOR`
times an average band's weight.

:func:`match_reference` shifts each pixel of a prediction by the difference
between the reference's band means and the prediction's own, at the pixel's
lightness, times ``strength``. ``strength`` = 1 gives the prediction the
reference's mean colour in every band; the default :data:`STRENGTH` was
chosen on pairs of photos of the same kind from ``scenes/`` (tuning data)
and measured on another set by ``bench/reference_gain.py`` (figures in
``docs/GUIDED.md``): a different photo says only roughly what colours a
scene has, so a full shift overrides too much of what the model saw.

This is a global colour transfer in the spirit of Reinhard et al. (2001),
on a*b* only (lightness always comes from the photo) and per lightness band.

References
----------
.. [1] E. Reinhard, M. Ashikhmin, B. Gooch, P. Shirley, "Color Transfer
   between Images", IEEE Computer Graphics and Applications 21(5), 2001.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .color import rgb_to_lab
from .io import thumbnail

__all__ = ["BANDS", "PRIOR", "STRENGTH", "STATS_SIZE", "ColorStats", "band_weights", "color_stats",
           "reference_stats", "match_reference", "check_strength"]

#: Lightness bands (centres 0, 100/(BANDS-1), ..., 100).
BANDS = 8
#: Pseudo-count, as a fraction of an average band's weight, pulling a sparse band to the overall mean.
PRIOR = 0.05
#: Default share of the shift towards the reference (0 = none, 1 = the reference's band means).
STRENGTH = 0.25
#: Longer side a reference is reduced to before its statistics are taken (they barely change above it).
STATS_SIZE = 256


@dataclass(frozen=True)
class ColorStats:
    """Mean a*b* per lightness band of a photo.

    Attributes
    ----------
    means : ndarray of float32, shape (BANDS, 2)
        a*, b* (real Lab units) per band, sparse bands pulled to ``overall``.
    overall : ndarray of float32, shape (2,)
        The photo's mean a*b*.
    """

    means: np.ndarray
    overall: np.ndarray


def band_weights(L: np.ndarray, bands: int = BANDS) -> np.ndarray:
    """Triangular weights of each pixel in each lightness band.

    Parameters
    ----------
    L : ndarray of float, shape (...)
        Lightness in 0..100.
    bands : int
        Number of bands (>= 2).

    Returns
    -------
    ndarray of float32, shape (..., bands)
        Non-negative, summing to 1 over the bands for L in 0..100.
    """
    centres = np.linspace(0.0, 100.0, bands, dtype=np.float32)
    step = centres[1] - centres[0]
    L = np.clip(np.asarray(L, np.float32), 0, 100)
    return np.clip(1 - np.abs(L[..., None] - centres) / step, 0, 1)


def color_stats(L: np.ndarray, ab: np.ndarray, bands: int = BANDS, prior: float = PRIOR) -> ColorStats:
    """Mean a*b* per lightness band.

    Parameters
    ----------
    L : ndarray of float32, shape (h, w)
        Lightness in 0..100.
    ab : ndarray of float32, shape (h, w, 2)
        a*b* in real Lab units.

    Returns
    -------
    ColorStats
    """
    if L.shape != ab.shape[:2] or ab.ndim != 3 or ab.shape[2] != 2:
        raise ValueError(f"L (h, w) and ab (h, w, 2) do not match: got {L.shape} and {ab.shape}")
    w = band_weights(L.reshape(-1), bands).astype(np.float64)  # (n, bands)
    a = ab.reshape(-1, 2).astype(np.float64)
    overall = a.mean(axis=0)
    pseudo = prior * len(a) / bands
    weight = w.sum(axis=0) + pseudo
    means = np.where(weight[:, None] > 0, (w.T @ a + pseudo * overall) / np.maximum(weight, 1e-12)[:, None], overall)
    return ColorStats(means.astype(np.float32), overall.astype(np.float32))


def reference_stats(rgb: np.ndarray) -> ColorStats:
    """The :class:`ColorStats` of a reference photo (RGB uint8 (H, W, 3)), taken at :data:`STATS_SIZE`.

    Raises
    ------
    ValueError, TypeError
        If ``rgb`` is not an RGB uint8 image.
    """
    lab = rgb_to_lab(thumbnail(rgb, STATS_SIZE))
    return color_stats(lab[..., 0], lab[..., 1:])


def check_strength(strength: float) -> float:
    """``strength`` as a float in 0..1, else ``ValueError``/``TypeError`` saying what was received."""
    if isinstance(strength, bool) or not isinstance(strength, (int, float, np.floating, np.integer)):
        raise TypeError(f"reference strength must be a number, got {type(strength).__name__} {strength!r}")
    if not 0 <= strength <= 1:
        raise ValueError(f"reference strength must be between 0 and 1, got {strength}")
    return float(strength)


def match_reference(L: np.ndarray, ab: np.ndarray, reference: ColorStats, strength: float = STRENGTH) -> np.ndarray:
    """Move predicted a*b* towards a reference's colours, band by band of lightness.

    Parameters
    ----------
    L : ndarray of float32, shape (h, w)
        The photo's lightness (0..100) at the prediction's size.
    ab : ndarray of float32, shape (h, w, 2)
        The prediction (real Lab units).
    reference : ColorStats
        From :func:`reference_stats`.
    strength : float
        0..1: the share of the difference in band means that is added.

    Returns
    -------
    ab : ndarray of float32, shape (h, w, 2)

    Examples
    --------
    >>> import numpy as np
    >>> L = np.full((4, 4), 60, np.float32)
    >>> ref = color_stats(L, np.full((4, 4, 2), 20, np.float32))
    >>> match_reference(L, np.zeros((4, 4, 2), np.float32), ref, strength=0.5)[0, 0].round(3)
    array([10., 10.], dtype=float32)
    """
    strength = check_strength(strength)
    own = color_stats(L, ab, len(reference.means))
    shift = band_weights(L, len(reference.means)) @ (reference.means - own.means)  # (h, w, 2)
    return (ab + np.float32(strength) * shift).astype(np.float32)
