"""Metrics of how close a prediction is to the truth: the report's a*b* L2, PSNR, SSIM and CIEDE2000.

Also the shared input check of every metric (:func:`check_pair`: two uint8
(H, W, 3) arrays of the same shape), which raises naming what it got.
"""

from __future__ import annotations

import numpy as np

from ..color import rgb_to_lab, rgb_to_lab8

__all__ = ["ab_l2", "psnr_rgb", "ssim_rgb", "ciede2000", "ciede2000_mean"]


def check_rgb(rgb: object, name: str) -> np.ndarray:
    """``rgb`` if it is a uint8 (H, W, 3) array, else raise naming ``name`` and what it got."""
    if not isinstance(rgb, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(rgb).__name__}")
    if rgb.dtype != np.uint8:
        raise TypeError(f"{name} must be uint8 RGB, got dtype {rgb.dtype}")
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.shape[0] < 1 or rgb.shape[1] < 1:
        raise ValueError(f"{name} must have shape (H, W, 3), got {rgb.shape}")
    return rgb


def check_pair(pred: object, true: object) -> tuple[np.ndarray, np.ndarray]:
    """The shared input check: two uint8 (H, W, 3) arrays of the same shape."""
    pred = check_rgb(pred, "pred")
    true = check_rgb(true, "true")
    if pred.shape != true.shape:
        raise ValueError(f"pred and true must have the same shape, got {pred.shape} and {true.shape}")
    return pred, true


# --- the report's L2 ------------------------------------------------------------------


def ab_l2(pred: np.ndarray, true: np.ndarray) -> float:
    """The report's L2 distance on a*b*.

    Both photos are converted with OpenCV's 8-bit Lab (``rgb_to_lab8``), a* and
    b* are scaled to 0..1 (divided by 255, the scaling of the report's sigmoid
    outputs), and the squared Euclidean a*b* distance is averaged over pixels:

    .. math:: \\frac{1}{N} \\sum_p (a_p - \\hat a_p)^2 + (b_p - \\hat b_p)^2

    The report's per-pixel training loss ``1/2 * sum of squares`` is half of this.

    Parameters
    ----------
    pred, true : ndarray of uint8, shape (H, W, 3)
        Predicted and ground-truth RGB.

    Returns
    -------
    float
        0 for identical a*b*; at most 2.

    Raises
    ------
    TypeError, ValueError
        If an input is not a uint8 (H, W, 3) array or the shapes differ.

    References
    ----------
    .. [1] OpenCV, ``cvtColor`` with ``COLOR_RGB2Lab`` on 8-bit images:
       L * 255/100, a* + 128, b* + 128.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.zeros((2, 2, 3), np.uint8)
    >>> ab_l2(x, x)
    0.0
    """
    pred, true = check_pair(pred, true)
    return ab_l2_lab8(rgb_to_lab8(pred), rgb_to_lab8(true))


def ab_l2_lab8(lab8_pred: np.ndarray, lab8_true: np.ndarray) -> float:
    """:func:`ab_l2` of photos already in 8-bit Lab (``rgb_to_lab8``)."""
    d = (lab8_pred[..., 1:].astype(np.float64) - lab8_true[..., 1:]) / 255.0
    return float(np.mean(np.sum(d * d, axis=-1)))


# --- RGB fidelity ---------------------------------------------------------------------


def psnr_rgb(pred: np.ndarray, true: np.ndarray) -> float:
    """Peak signal-to-noise ratio of the RGB images, in dB (data range 255).

    The mean squared error is taken over all pixels and the three channels.
    Identical images give ``inf``.

    Parameters
    ----------
    pred, true : ndarray of uint8, shape (H, W, 3)

    Returns
    -------
    float

    Raises
    ------
    TypeError, ValueError
        If an input is not a uint8 (H, W, 3) array or the shapes differ.

    References
    ----------
    .. [1] scikit-image, ``skimage.metrics.peak_signal_noise_ratio``.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.zeros((1, 1, 3), np.uint8); b = a + 1
    >>> round(psnr_rgb(a, b), 2)
    48.13
    """
    pred, true = check_pair(pred, true)
    from skimage.metrics import peak_signal_noise_ratio

    with np.errstate(divide="ignore"):
        return float(peak_signal_noise_ratio(true, pred, data_range=255))


def ssim_rgb(pred: np.ndarray, true: np.ndarray) -> float:
    """Structural similarity of the RGB images (mean over the three channels).

    scikit-image's defaults: a 7x7 uniform window (smaller, odd, for images
    under 7 pixels on a side), data range 255, ``channel_axis=2``.

    Parameters
    ----------
    pred, true : ndarray of uint8, shape (H, W, 3)
        Each side at least 3 pixels.

    Returns
    -------
    float
        1 for identical images.

    Raises
    ------
    TypeError, ValueError
        If an input is not a uint8 (H, W, 3) array, the shapes differ, or a
        side is under 3 pixels.

    References
    ----------
    .. [1] Z. Wang, A. C. Bovik, H. R. Sheikh and E. P. Simoncelli, "Image
       quality assessment: from error visibility to structural similarity",
       IEEE Trans. Image Processing 13(4), 600-612, 2004.
    .. [2] scikit-image, ``skimage.metrics.structural_similarity``.
    """
    pred, true = check_pair(pred, true)
    from skimage.metrics import structural_similarity

    side = min(pred.shape[:2])
    if side < 3:
        raise ValueError(f"ssim_rgb needs images of at least 3x3 pixels, got shape {pred.shape}")
    win = min(7, side if side % 2 else side - 1)
    return float(structural_similarity(true, pred, data_range=255, channel_axis=2, win_size=win))


# --- CIEDE2000 ------------------------------------------------------------------------


def ciede2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 colour difference of real Lab colours, element by element.

    Parameters
    ----------
    lab1, lab2 : array_like, shape (..., 3)
        Real CIE Lab (L 0..100, a*, b* about -128..127), broadcastable.

    Returns
    -------
    ndarray of float64, shape (...)

    References
    ----------
    .. [1] G. Sharma, W. Wu and E. N. Dalal, "The CIEDE2000 color-difference
       formula: implementation notes, supplementary test data, and
       mathematical observations", Color Research and Application 30(1),
       21-30, 2005.
    .. [2] scikit-image, ``skimage.color.deltaE_ciede2000`` (kL = kC = kH = 1).

    Examples
    --------
    >>> round(float(ciede2000([50, 2.6772, -79.7751], [50, 0, -82.7485])), 4)
    2.0425
    """
    from skimage.color import deltaE_ciede2000

    lab1 = np.asarray(lab1, np.float64)
    lab2 = np.asarray(lab2, np.float64)
    if lab1.shape[-1:] != (3,) or lab2.shape[-1:] != (3,):
        raise ValueError(f"Lab arrays must have a last axis of 3, got {lab1.shape} and {lab2.shape}")
    return np.asarray(deltaE_ciede2000(lab1, lab2, channel_axis=-1), np.float64)


def ciede2000_mean(pred: np.ndarray, true: np.ndarray) -> float:
    """Mean CIEDE2000 difference over pixels, Lab from ``chromatize.color.rgb_to_lab``.

    Parameters
    ----------
    pred, true : ndarray of uint8, shape (H, W, 3)

    Returns
    -------
    float
        0 for identical images; about 1 is a just-noticeable difference.

    Raises
    ------
    TypeError, ValueError
        If an input is not a uint8 (H, W, 3) array or the shapes differ.

    References
    ----------
    .. [1] G. Sharma, W. Wu and E. N. Dalal, Color Research and Application
       30(1), 21-30, 2005.
    """
    pred, true = check_pair(pred, true)
    return float(np.mean(ciede2000(rgb_to_lab(true), rgb_to_lab(pred))))
