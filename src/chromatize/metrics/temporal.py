"""Temporal metrics of a colorized video: colour flicker (warping error) and colour distribution consistency.

``warping_error`` is Lai et al.'s (2018) measure, taken on a*b*: how far frame
t's colours are from frame t+1's brought back onto t along the motion, over
the pixels whose motion passes the forward-backward test. The motion is
Farneback's flow on the frames' lightness (``chromatize.motion``), not the DIS
flow the video colorizer uses, so that a method is not judged by its own tool.

``cdc`` is the colour distribution consistency of Liu et al.'s TCVC (2021),
used by ColorMNet (2024) and NTIRE 2023: the Jensen-Shannon divergence
between the 256-bin histograms of each RGB channel of frames t and t+d,
averaged over channels, frames and d in (1, 2, 4). Lower is steadier.

:class:`VideoScores` gathers both, with PSNR and colourfulness per frame,
one frame at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..color import rgb_to_lab
from ..motion import consistent, farneback_flow, to_u8, warp
from .colorful import colorfulness
from .fidelity import check_pair, check_rgb, psnr_rgb

__all__ = ["warping_error", "rgb_histograms", "js_divergence", "cdc", "VideoScores"]

#: Frame distances of the CDC (TCVC and NTIRE 2023 average over these).
CDC_DILATIONS = (1, 2, 4)


def warping_error(frame: np.ndarray, following: np.ndarray, flow_frames: tuple[np.ndarray, np.ndarray] | None = None
                  ) -> tuple[float, int]:
    """Squared a*b* difference between ``frame`` and ``following`` warped back onto it, summed over tracked pixels.

    Parameters
    ----------
    frame, following : ndarray of uint8, shape (H, W, 3)
        Colorized frames t and t+1.
    flow_frames : (ndarray, ndarray) of uint8 (H, W), optional
        The frames to estimate the motion on (the original frames' lightness);
        default: the colorized frames' own lightness.

    Returns
    -------
    total : float
        Sum over tracked pixels of ``|ab_t - warp(ab_t+1)|^2`` (a*b* in real Lab units).
    count : int
        Tracked pixels; Lai et al.'s E_warp is ``total / count``, averaged over t.

    References
    ----------
    .. [1] W.-S. Lai et al., "Learning Blind Video Temporal Consistency", ECCV 2018.
    """
    frame, following = check_pair(frame, following)
    lab_t, lab_n = rgb_to_lab(frame), rgb_to_lab(following)
    g_t, g_n = flow_frames if flow_frames is not None else (to_u8(lab_t[..., 0]), to_u8(lab_n[..., 0]))
    to_next, to_prev = farneback_flow(g_t, g_n), farneback_flow(g_n, g_t)
    tracked = consistent(to_next, to_prev)
    diff = lab_t[..., 1:] - warp(np.ascontiguousarray(lab_n[..., 1:]), to_next)
    return float(np.sum(diff[tracked] ** 2)), int(tracked.sum())


def rgb_histograms(rgb: np.ndarray) -> np.ndarray:
    """Normalised 256-bin histograms of the R, G and B channels: (3, 256) float64, each row summing to 1."""
    rgb = check_rgb(rgb, "rgb")
    flat = rgb.reshape(-1, 3)
    return np.stack([np.bincount(flat[:, c], minlength=256) for c in range(3)]) / flat.shape[0]


def js_divergence(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Jensen-Shannon divergence (natural log) between distributions along the last axis."""
    m = (p + q) / 2

    def kl(a):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(a > 0, a * np.log(a / m), 0.0).sum(axis=-1)

    return 0.5 * kl(p) + 0.5 * kl(q)


def cdc(histograms: list[np.ndarray], dilations: tuple[int, ...] = CDC_DILATIONS) -> float:
    """Colour distribution consistency of a clip from its frames' :func:`rgb_histograms`.

    The mean over ``dilations`` of the mean over t of the mean over R, G, B of
    ``JS(hist_t, hist_{t+d})``; ``nan`` for fewer than two frames.

    References
    ----------
    .. [1] Y. Liu et al., "Temporally Consistent Video Colorization with Deep
       Feature Propagation and Self-regularization Learning", 2021 (TCVC).
    .. [2] Y. Yang et al., "ColorMNet: A Memory-based Deep Spatial-Temporal
       Feature Propagation Network for Video Colorization", ECCV 2024.
    """
    per = []
    for d in dilations:
        if len(histograms) > d:
            h = np.stack(histograms)  # (T, 3, 256)
            per.append(float(js_divergence(h[:-d], h[d:]).mean()))
    return float(np.mean(per)) if per else float("nan")


@dataclass
class VideoScores:
    """A colorized clip's scores against its colour original, gathered one frame at a time.

    Call :meth:`add` with each colorized frame and its original, in order;
    :meth:`summary` gives mean PSNR, mean colourfulness (and its ratio to the
    original's), the warping error on a*b* and the CDC.
    """

    psnr: list[float] = field(default_factory=list)
    colorful: list[float] = field(default_factory=list)
    colorful_true: list[float] = field(default_factory=list)
    histograms: list[np.ndarray] = field(default_factory=list)
    warp_pairs: list[float] = field(default_factory=list)
    _prev: tuple[np.ndarray, np.ndarray] | None = None

    def add(self, pred: np.ndarray, true: np.ndarray, *, new_shot: bool = False) -> None:
        """Score one frame; ``new_shot`` says it starts a new shot (no warping error across a cut)."""
        pred, true = check_pair(pred, true)
        self.psnr.append(psnr_rgb(pred, true))
        self.colorful.append(colorfulness(pred))
        self.colorful_true.append(colorfulness(true))
        self.histograms.append(rgb_histograms(pred))
        gray = to_u8(rgb_to_lab(true)[..., 0])
        if self._prev is not None and not new_shot:
            total, count = warping_error(self._prev[0], pred, (self._prev[1], gray))
            if count:
                self.warp_pairs.append(total / count)
        self._prev = (pred, gray)

    def summary(self) -> dict[str, float]:
        """``psnr``, ``colorfulness``, ``colorfulness_ratio``, ``warp_error`` (mean over pairs) and ``cdc``."""
        c_true = float(np.mean(self.colorful_true)) if self.colorful_true else float("nan")
        c = float(np.mean(self.colorful)) if self.colorful else float("nan")
        return {
            "psnr": float(np.mean(self.psnr)) if self.psnr else float("nan"),
            "colorfulness": c,
            "colorfulness_ratio": c / c_true if c_true > 0 else float("nan"),
            "warp_error": float(np.mean(self.warp_pairs)) if self.warp_pairs else float("nan"),
            "cdc": cdc(self.histograms),
        }
