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

``fidelity`` holds the metrics of closeness to the truth (and the shared input
check), ``colorful`` the colorfulness, ``auc`` the AuC of Zhang et al.; this
package adds the table of keys (``METRICS``) and ``compute_all``.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from ..color import rgb_to_lab, rgb_to_lab8
from .auc import AB_BIN_SIZE, ab_error, auc_ab, auc_ab_rebalanced, auc_from_errors, rebalance_weights
from .colorful import colorfulness, colorfulness_ratio, ratio
from .fidelity import ab_l2, ab_l2_lab8, check_pair, ciede2000, ciede2000_mean, psnr_rgb, ssim_rgb

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
    pred, true = check_pair(pred, true)
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
        "ab_l2": lambda: ab_l2_lab8(rgb_to_lab8(pred), rgb_to_lab8(true)),
        "auc_ab": lambda: auc_from_errors(ab_error(lab_p, lab_t)),
        "auc_ab_rebalanced": lambda: auc_from_errors(
            ab_error(lab_p, lab_t), rebalance_weights(lab_t[..., 1:], AB_BIN_SIZE)
        ),
        "colorfulness": lambda: cf_of("pred"),
        "colorfulness_true": lambda: cf_of("true"),
        "colorfulness_ratio": lambda: ratio(cf_of("pred"), cf_of("true")),
    }
    return {key: fns[key]() for key in METRICS if key in wanted}
