"""The AuC of Zhang et al. (2016): the share of pixels whose a*b* error is within a threshold, over thresholds.

:func:`auc_ab` weighs every pixel equally; :func:`auc_ab_rebalanced` weighs
every true colour class (a*b* bin) equally.
"""

from __future__ import annotations

import numpy as np

from ..color import rgb_to_lab
from .fidelity import check_pair

__all__ = ["auc_from_errors", "auc_ab", "auc_ab_rebalanced"]

#: Largest a*b* error threshold of the AuC (Zhang et al. 2016 use 150).
AUC_MAX_THRESHOLD = 150
#: Side of the a*b* grid that defines colour classes for rebalancing (Zhang et al.: 10).
AB_BIN_SIZE = 10.0


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


def ab_error(lab_pred: np.ndarray, lab_true: np.ndarray) -> np.ndarray:
    """Per-pixel Euclidean distance of two real Lab arrays' a*b*."""
    d = lab_pred[..., 1:].astype(np.float64) - lab_true[..., 1:]
    return np.sqrt(np.sum(d * d, axis=-1))


def rebalance_weights(ab_true: np.ndarray, bin_size: float) -> np.ndarray:
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
    pred, true = check_pair(pred, true)
    return auc_from_errors(ab_error(rgb_to_lab(pred), rgb_to_lab(true)))


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
    pred, true = check_pair(pred, true)
    lab_true = rgb_to_lab(true)
    err = ab_error(rgb_to_lab(pred), lab_true)
    return auc_from_errors(err, rebalance_weights(lab_true[..., 1:], bin_size))
