"""What old scans do to a gray photo: blur, fading, grain, JPEG and a sepia tone, as functions of its lightness.

Each degradation takes the lightness L (0..100) of a photo and returns the L
a scan of a worn print would give. They work on the sRGB gray value of L
(``gray = L_to_gray(L)``, 0..1), where a print's tone and a scanner's noise
live, and convert back. At strength 1 they are the old-scan protocol of
issue 24 (``bench/old_scans.py``, at longer side 512):

========  ===========================================================================
kind      at strength 1
========  ===========================================================================
blur      Gaussian blur, sigma 1.5 px (times ``px_scale``)
fade      contrast 0.55 around mid-gray, then blacks lifted by 0.08
grain     Gaussian noise, sigma 8/255, from the ``rng`` passed in
jpeg      JPEG at quality 25 (OpenCV's encoder, 8-bit gray)
sepia     a brown duotone (shadows :data:`SEPIA_DARK`, highlights :data:`SEPIA_LIGHT`)
          applied to the gray, then read back from the toned print's lightness
========  ===========================================================================

Training draws a kind and a strength per crop (:func:`random_degradation`);
all randomness comes from the ``numpy.random.Generator`` passed in.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["KINDS", "SEPIA_DARK", "SEPIA_LIGHT", "L_to_gray", "gray_to_L", "degrade_L", "random_degradation"]

#: The degradations, in the order the old-scan table lists them.
KINDS = ("blur", "fade", "grain", "jpeg", "sepia")
#: The sepia tone's colour at black and at white (sRGB, 0..1): dark brown to cream paper.
SEPIA_DARK = (40 / 255, 26 / 255, 13 / 255)
SEPIA_LIGHT = (255 / 255, 244 / 255, 224 / 255)
_KAPPA, _EPS = 24389 / 27, 216 / 24389  # CIE constants of L*
_LUMA = np.float32([0.2126, 0.7152, 0.0722])  # sRGB's luminance weights (Y of D65)


def L_to_gray(L: np.ndarray) -> np.ndarray:
    """The sRGB gray value (0..1, float32) whose CIE lightness is ``L`` (0..100)."""
    L = np.clip(np.asarray(L, np.float32), 0, 100)
    Y = np.where(L > 8, ((L + 16) / 116) ** 3, L / _KAPPA)
    return np.where(Y <= 0.0031308, 12.92 * Y, 1.055 * np.power(Y, 1 / 2.4) - 0.055).astype(np.float32)


def _linear(g: np.ndarray) -> np.ndarray:
    """sRGB values (0..1) to linear light."""
    g = np.clip(np.asarray(g, np.float32), 0, 1)
    return np.where(g <= 0.04045, g / 12.92, ((g + 0.055) / 1.055) ** 2.4)


def _L_of_Y(Y: np.ndarray) -> np.ndarray:
    return np.where(Y > _EPS, 116 * np.cbrt(Y) - 16, _KAPPA * Y).astype(np.float32)


def gray_to_L(gray: np.ndarray) -> np.ndarray:
    """CIE lightness (0..100, float32) of the sRGB gray value ``gray`` (0..1); inverse of :func:`L_to_gray`."""
    return _L_of_Y(_linear(gray))


def _check(L: np.ndarray, kind: str, strength: float) -> None:
    if not isinstance(L, np.ndarray) or L.ndim != 2:
        raise ValueError(f"L must be an (H, W) array, got {getattr(L, 'shape', type(L).__name__)}")
    if kind not in KINDS:
        raise ValueError(f"unknown degradation {kind!r}; known: {', '.join(KINDS)}")
    if not 0 <= strength <= 3:
        raise ValueError(f"strength must be in 0..3, got {strength}")


def degrade_L(L: np.ndarray, kind: str, rng: np.random.Generator, strength: float = 1.0,
              px_scale: float = 1.0) -> np.ndarray:
    """Lightness ``L`` as an old scan of kind ``kind`` would give it (module docstring).

    Parameters
    ----------
    L : ndarray, shape (H, W)
        Lightness, 0..100.
    kind : str
        One of :data:`KINDS`.
    rng : numpy.random.Generator
        The grain's noise (the other kinds draw nothing).
    strength : float
        1 is the protocol's setting; 0 leaves ``L`` as it is (blur sigma,
        fading, grain sigma and the sepia tone scale with it; JPEG quality is
        ``100 - 75 * strength``, at least 5).
    px_scale : float
        Pixels of this photo per pixel of the protocol's 512-px photo (the
        blur sigma is multiplied by it): 0.5 for a photo at longer side 256.

    Returns
    -------
    ndarray of float32, shape (H, W)
        Degraded lightness, 0..100.

    Raises
    ------
    ValueError
        If ``L`` is not 2-D, ``kind`` is unknown or ``strength`` is outside 0..3.

    Examples
    --------
    >>> import numpy as np
    >>> L = np.full((8, 8), 50.0, np.float32)
    >>> out = degrade_L(L, "fade", np.random.default_rng(0))
    >>> bool(out.mean() > 50)
    True
    """
    _check(L, kind, strength)
    g = L_to_gray(L)  # (H, W), 0..1
    if kind == "blur":
        sigma = 1.5 * strength * px_scale
        g = cv2.GaussianBlur(g, (0, 0), sigma) if sigma > 0 else g
    elif kind == "fade":
        lift = 0.08 * strength
        g = lift + (1 - lift) * np.clip(0.5 + (1 - 0.45 * strength) * (g - 0.5), 0, 1)
    elif kind == "grain":
        g = g + rng.normal(0.0, 8 / 255 * strength, g.shape).astype(np.float32)
    elif kind == "jpeg":
        quality = int(max(5, round(100 - 75 * strength)))
        ok, buf = cv2.imencode(".jpg", np.rint(np.clip(g, 0, 1) * 255).astype(np.uint8),
                               [cv2.IMWRITE_JPEG_QUALITY, quality])
        g = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE).astype(np.float32) / 255
    else:  # sepia: a duotone print, then its lightness
        dark, light = np.float32(SEPIA_DARK), np.float32(SEPIA_LIGHT)
        w = min(float(strength), 1.0)
        g = np.clip(g, 0, 1)[..., None]
        toned = w * (dark + (light - dark) * g) + (1 - w) * g  # (H, W, 3) sRGB
        return _L_of_Y(_linear(toned) @ _LUMA)  # the print's lightness (D65 luminance)
    return gray_to_L(g)


def random_degradation(L: np.ndarray, rng: np.random.Generator, px_scale: float = 1.0,
                       strengths: tuple[float, float] = (0.5, 1.5)) -> tuple[np.ndarray, str]:
    """``L`` degraded by a kind drawn from :data:`KINDS` at a strength drawn from ``strengths`` (uniform).

    Returns
    -------
    L : ndarray of float32, shape (H, W)
    kind : str
    """
    kind = KINDS[int(rng.integers(len(KINDS)))]
    strength = float(rng.uniform(*strengths))
    return degrade_L(L, kind, rng, strength, px_scale), kind
