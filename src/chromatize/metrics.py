"""Image-quality metrics for colorization, each on a predicted and a true photo.

Every metric takes uint8 RGB arrays of shape (H, W, 3) (``pred`` first, then
``true``) and returns a Python float. Lab values come from
``chromatize.color`` (OpenCV, D65 sRGB), so metrics see the same colours as
training and inference.

========================  =================================================  ==========
key / function            what                                               better
========================  =================================================  ==========
``ab_l2``                 the report's L2 on a*b* (8-bit Lab scaled 0..1)    lower
``psnr_rgb``              PSNR of RGB, data range 255 (dB)                   higher
``ssim_rgb``              SSIM of RGB, 7x7 window, per channel, averaged     higher
``ciede2000_mean``        mean CIEDE2000 colour difference                   lower
``colorfulness``          Hasler & Suesstrunk colorfulness of ``pred``       (info)
``colorfulness_ratio``    colorfulness(pred) / colorfulness(true)            near 1
``auc_ab``                Zhang et al. AuC of a*b* error, thresholds 0..150  higher
``auc_ab_rebalanced``     the same, each true a*b* bin weighted equally      higher
========================  =================================================  ==========

``compute_all`` computes all of them at once (converting to Lab only once).
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from .color import rgb_to_lab, rgb_to_lab8

__all__ = [
    "METRICS",
    "ab_l2",
    "psnr_rgb",
    "ssim_rgb",
    "ciede2000",
    "ciede2000_mean",
    "colorfulness",
    "colorfulness_ratio",
    "auc_from_errors",
    "auc_ab",
    "auc_ab_rebalanced",
    "compute_all",
]

#: Largest a*b* error threshold of the AuC (Zhang et al. 2016 use 150).
AUC_MAX_THRESHOLD = 150
#: Side of the a*b* grid that defines colour classes for rebalancing (Zhang et al.: 10).
AB_BIN_SIZE = 10.0

#: Every key of ``compute_all``: (short label for tables, which way is better).
#: "higher" / "lower" / "one" (closest to 1 is best) / "info" (no direction).
METRICS: dict[str, tuple[str, str]] = {
    "psnr_rgb": ("PSNR dB", "higher"),
    "ssim_rgb": ("SSIM", "higher"),
    "ciede2000_mean": ("dE2000", "lower"),
    "ab_l2": ("ab L2", "lower"),
    "auc_ab": ("AuC", "higher"),
    "auc_ab_rebalanced": ("AuC rb", "higher"),
    "colorfulness": ("colorful", "info"),
    "colorfulness_true": ("colorful GT", "info"),
    "colorfulness_ratio": ("colorful ratio", "one"),
}


def _check_rgb(rgb: object, name: str) -> np.ndarray:
    if not isinstance(rgb, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(rgb).__name__}")
    if rgb.dtype != np.uint8:
        raise TypeError(f"{name} must be uint8 RGB, got dtype {rgb.dtype}")
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.shape[0] < 1 or rgb.shape[1] < 1:
        raise ValueError(f"{name} must have shape (H, W, 3), got {rgb.shape}")
    return rgb


def _check_pair(pred: object, true: object) -> tuple[np.ndarray, np.ndarray]:
    """The shared input check: two uint8 (H, W, 3) arrays of the same shape."""
    pred = _check_rgb(pred, "pred")
    true = _check_rgb(true, "true")
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
    pred, true = _check_pair(pred, true)
    return _ab_l2_lab8(rgb_to_lab8(pred), rgb_to_lab8(true))


def _ab_l2_lab8(lab8_pred: np.ndarray, lab8_true: np.ndarray) -> float:
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
    pred, true = _check_pair(pred, true)
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
    pred, true = _check_pair(pred, true)
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
    pred, true = _check_pair(pred, true)
    return float(np.mean(ciede2000(rgb_to_lab(true), rgb_to_lab(pred))))


# --- colorfulness ---------------------------------------------------------------------


def colorfulness(rgb: np.ndarray) -> float:
    """Colorfulness of Hasler and Suesstrunk (2003).

    With the signed opponent channels ``rg = R - G`` and ``yb = (R + G)/2 - B``
    (R, G, B in 0..255), means and (population) standard deviations over the
    pixels:

    .. math:: M = \\sqrt{\\sigma_{rg}^2 + \\sigma_{yb}^2} + 0.3 \\sqrt{\\mu_{rg}^2 + \\mu_{yb}^2}

    Parameters
    ----------
    rgb : ndarray of uint8, shape (H, W, 3)

    Returns
    -------
    float
        0 for a gray image; natural photos score about 15 (dull) to 110+.

    Raises
    ------
    TypeError, ValueError
        If ``rgb`` is not a uint8 (H, W, 3) array.

    References
    ----------
    .. [1] D. Hasler and S. Suesstrunk, "Measuring colourfulness in natural
       images", Proc. SPIE 5007, Human Vision and Electronic Imaging VIII,
       87-95, 2003.

    Examples
    --------
    >>> import numpy as np
    >>> colorfulness(np.full((4, 4, 3), 77, np.uint8))
    0.0
    """
    rgb = _check_rgb(rgb, "rgb").astype(np.float64)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    rg = r - g
    yb = 0.5 * (r + g) - b
    sigma = np.hypot(rg.std(), yb.std())
    mu = np.hypot(rg.mean(), yb.mean())
    return float(sigma + 0.3 * mu)


def colorfulness_ratio(pred: np.ndarray, true: np.ndarray) -> float:
    """``colorfulness(pred) / colorfulness(true)``: 1 is as vivid as the truth.

    Returns ``nan`` when the truth is gray (colorfulness 0); averages over
    photos should then use ``nanmean``.

    Raises
    ------
    TypeError, ValueError
        If an input is not a uint8 (H, W, 3) array or the shapes differ.

    References
    ----------
    .. [1] D. Hasler and S. Suesstrunk, Proc. SPIE 5007, 87-95, 2003.
    """
    pred, true = _check_pair(pred, true)
    return _ratio(colorfulness(pred), colorfulness(true))


def _ratio(c_pred: float, c_true: float) -> float:
    return c_pred / c_true if c_true > 0 else float("nan")


# --- AuC of Zhang et al. --------------------------------------------------------------


def auc_from_errors(err: np.ndarray, weights: np.ndarray | None = None, max_threshold: int = AUC_MAX_THRESHOLD) -> float:
    """Area under the cumulative curve of a*b* errors, normalised to 0..1.

    For each integer threshold ``t = 0, 1, ..., max_threshold`` the (weighted)
    fraction of pixels with error ``<= t`` is taken; the AuC is the mean of
    these ``max_threshold + 1`` fractions. A pixel of error ``d`` is within
    ``max_threshold + 1 - ceil(d)`` of the thresholds (none past the last), so
    this needs no loop over thresholds.

    Parameters
    ----------
    err : ndarray
        Per-pixel a*b* Euclidean errors (real Lab units), any shape.
    weights : ndarray, optional
        Non-negative per-pixel weights of ``err``'s shape (default: equal).
    max_threshold : int
        Last threshold (150 in Zhang et al. 2016).

    Returns
    -------
    float in 0..1

    Examples
    --------
    >>> import numpy as np
    >>> round(auc_from_errors(np.full(4, 37.5)), 6)  # thresholds 38..150 pass
    0.748344
    """
    err = np.asarray(err, np.float64)
    n_t = max_threshold + 1
    passed = np.clip(n_t - np.ceil(err), 0, n_t) / n_t
    if weights is None:
        return float(passed.mean())
    weights = np.asarray(weights, np.float64)
    if weights.shape != err.shape:
        raise ValueError(f"weights must have the shape of err {err.shape}, got {weights.shape}")
    return float(np.sum(passed * weights) / np.sum(weights))


def _ab_error(lab_pred: np.ndarray, lab_true: np.ndarray) -> np.ndarray:
    d = lab_pred[..., 1:].astype(np.float64) - lab_true[..., 1:]
    return np.sqrt(np.sum(d * d, axis=-1))


def _rebalance_weights(ab_true: np.ndarray, bin_size: float) -> np.ndarray:
    """1 / (pixels in the same a*b* bin), bins of side ``bin_size`` centred on multiples of it."""
    q = np.rint(ab_true.reshape(-1, 2) / bin_size).astype(np.int64)
    q -= q.min(axis=0)
    key = q[:, 0] * (int(q[:, 1].max()) + 1) + q[:, 1]  # one integer per (a, b) bin
    counts = np.bincount(key)
    return (1.0 / counts[key]).reshape(ab_true.shape[:-1])


def auc_ab(pred: np.ndarray, true: np.ndarray) -> float:
    """Raw accuracy AuC of Zhang et al. (2016) on a*b*.

    The per-pixel error is the Euclidean distance between predicted and true
    a*b* in real Lab units (``rgb_to_lab``); the AuC is the fraction of pixels
    within a threshold, averaged over thresholds 0, 1, ..., 150 (see
    ``auc_from_errors``).

    Parameters
    ----------
    pred, true : ndarray of uint8, shape (H, W, 3)

    Returns
    -------
    float in 0..1
        1 for identical a*b*.

    Raises
    ------
    TypeError, ValueError
        If an input is not a uint8 (H, W, 3) array or the shapes differ.

    References
    ----------
    .. [1] R. Zhang, P. Isola and A. A. Efros, "Colorful Image Colorization",
       ECCV 2016, section 3.1 ("AuC").
    """
    pred, true = _check_pair(pred, true)
    return auc_from_errors(_ab_error(rgb_to_lab(pred), rgb_to_lab(true)))


def auc_ab_rebalanced(pred: np.ndarray, true: np.ndarray, *, bin_size: float = AB_BIN_SIZE) -> float:
    """Class-rebalanced AuC: every true colour class counts equally.

    True a*b* values are binned on a grid of side ``bin_size`` (10, Zhang et
    al.'s quantisation) and each pixel is weighted by the inverse of its bin's
    pixel count, so the result is the mean over the occupied colour bins of
    each bin's AuC. Rare, saturated colours then count as much as the common
    near-gray ones that a dull prediction gets right. Zhang et al. take the
    class frequencies over the whole test set; here they are taken per photo,
    so that the figure is defined for a single photo and averages over photos.

    Parameters
    ----------
    pred, true : ndarray of uint8, shape (H, W, 3)
    bin_size : float
        Side of the a*b* bins, in real Lab units.

    Returns
    -------
    float in 0..1

    Raises
    ------
    TypeError, ValueError
        If an input is not a uint8 (H, W, 3) array or the shapes differ.

    References
    ----------
    .. [1] R. Zhang, P. Isola and A. A. Efros, "Colorful Image Colorization",
       ECCV 2016, section 3.1 ("AuC", class-rebalanced variant).
    """
    pred, true = _check_pair(pred, true)
    lab_true = rgb_to_lab(true)
    err = _ab_error(rgb_to_lab(pred), lab_true)
    return auc_from_errors(err, _rebalance_weights(lab_true[..., 1:], bin_size))


# --- all at once ----------------------------------------------------------------------


def compute_all(pred: np.ndarray, true: np.ndarray, metrics: Iterable[str] | None = None) -> dict[str, float]:
    """Every metric of ``METRICS`` for one pair, converting to Lab once.

    Parameters
    ----------
    pred, true : ndarray of uint8, shape (H, W, 3)
    metrics : iterable of str, optional
        Keys of ``METRICS`` to compute (default: all). Skipping ``ssim_rgb`` and
        ``ciede2000_mean``, the slowest, makes validation during training quicker.

    Returns
    -------
    dict
        Metric key -> float, in the order of ``METRICS``.

    Raises
    ------
    TypeError, ValueError
        If an input is not a uint8 (H, W, 3) array, the shapes differ, or a
        metric name is unknown.
    """
    pred, true = _check_pair(pred, true)
    wanted = list(METRICS) if metrics is None else list(metrics)
    unknown = [m for m in wanted if m not in METRICS]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; known: {', '.join(METRICS)}")
    lab_p, lab_t = rgb_to_lab(pred), rgb_to_lab(true)
    cf: dict[str, float] = {}  # colorfulness of each side, computed at most once

    def cf_of(side: str) -> float:
        if side not in cf:
            cf[side] = colorfulness(pred if side == "pred" else true)
        return cf[side]

    fns = {
        "psnr_rgb": lambda: psnr_rgb(pred, true),
        "ssim_rgb": lambda: ssim_rgb(pred, true),
        "ciede2000_mean": lambda: float(np.mean(ciede2000(lab_t, lab_p))),
        "ab_l2": lambda: _ab_l2_lab8(rgb_to_lab8(pred), rgb_to_lab8(true)),
        "auc_ab": lambda: auc_from_errors(_ab_error(lab_p, lab_t)),
        "auc_ab_rebalanced": lambda: auc_from_errors(
            _ab_error(lab_p, lab_t), _rebalance_weights(lab_t[..., 1:], AB_BIN_SIZE)
        ),
        "colorfulness": lambda: cf_of("pred"),
        "colorfulness_true": lambda: cf_of("true"),
        "colorfulness_ratio": lambda: _ratio(cf_of("pred"), cf_of("true")),
    }
    return {key: fns[key]() for key in METRICS if key in wanted}
