"""Zhang et al.'s a*b* bins and class rebalancing, and the colour statistics of training photos.

Training-only (numpy): the bins a classification model predicts over are
chosen here from its training photos and stored in its ``config.json``; the
runtime (``chromatize.models.cnn``) only reads them back.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..color import rgb_to_lab
from ..models.cnn import GRID

__all__ = ["ab_bins", "rebalance_weights", "color_stats"]


def ab_bins(ab: np.ndarray, min_count: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The a*b* bins that occur in training data.

    Parameters
    ----------
    ab : ndarray, shape (N, 2)
        a*b* samples in real Lab units.
    min_count : int
        A bin is kept when at least this many samples fall into it.

    Returns
    -------
    centers : ndarray of float32, shape (Q, 2)
        Centres of the kept bins on a ``GRID``-unit grid, sorted.
    counts : ndarray of int64, shape (Q,)
        Samples per kept bin.
    """
    ab = np.asarray(ab, np.float32).reshape(-1, 2)
    idx = np.rint(ab / GRID).astype(np.int64)
    keys, counts = np.unique(idx, axis=0, return_counts=True)
    keep = counts >= min_count
    return (keys[keep] * GRID).astype(np.float32), counts[keep]


def rebalance_weights(centers: np.ndarray, counts: np.ndarray, lam: float = 0.5, sigma: float = 5.0) -> np.ndarray:
    """Class-rebalancing weights of Zhang et al.: rarer colours weigh more.

    The empirical bin distribution is smoothed with a Gaussian of ``sigma``
    Lab units, mixed with the uniform one (``lam``), inverted and normalised so
    that its expectation under the empirical distribution is 1.

    Returns
    -------
    w : ndarray of float32, shape (Q,)
    """
    p = counts / counts.sum()
    d2 = ((centers[:, None, :] - centers[None, :, :]) ** 2).sum(-1)
    p_s = np.exp(-d2 / (2 * sigma**2)) @ p
    p_s /= p_s.sum()
    w = 1.0 / ((1 - lam) * p_s + lam / len(p))
    w /= (w * p).sum()
    return w.astype(np.float32)


def color_stats(photos: list[np.ndarray], centers: np.ndarray | None = None):
    """Mean a*b*, bin centres and counts of the training photos (at 1/8 size).

    With ``centers`` given (fine-tuning keeps the initial model's bins),
    samples are counted by nearest centre, plus one each so no bin is empty.
    """
    abs_ = [rgb_to_lab(cv2.resize(p, (max(1, p.shape[1] // 8), max(1, p.shape[0] // 8)),
                                  interpolation=cv2.INTER_AREA))[..., 1:].reshape(-1, 2) for p in photos]
    ab = np.concatenate(abs_)
    mean_ab = [float(v) for v in ab.mean(0)]
    if centers is None or len(centers) == 0:
        centers, counts = ab_bins(ab)
    else:
        near = np.argmin(((ab[:, None, :] - centers[None]) ** 2).sum(-1), axis=1)
        counts = np.bincount(near, minlength=len(centers)) + 1
    return mean_ab, centers, counts
