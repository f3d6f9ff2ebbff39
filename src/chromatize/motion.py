"""Motion between video frames: optical flow, warping, the forward-backward occlusion test and scene cuts.

Flows are ``(H, W, 2)`` float32 arrays of (dx, dy) in pixels; a *backward*
flow ``f`` from frame t to frame t-1 says where each pixel of t was in t-1,
so ``warp(prev, f)`` brings frame t-1 (or anything aligned with it) onto
frame t. Two estimators are offered: OpenCV's DIS (Kroeger et al. 2016), fast,
used by the video colorizer; and Farneback's (2003), used only to *measure*
flicker, so that a method is never judged by the flow it was built on.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

__all__ = ["to_u8", "DisFlow", "farneback_flow", "warp", "consistent", "histogram_distance"]


def to_u8(L: np.ndarray) -> np.ndarray:
    """Lightness (0..100, float, (H, W)) as the uint8 image (0..255) the flow estimators take."""
    return np.clip(L * 2.55 + 0.5, 0, 255).astype(np.uint8)


class DisFlow:
    """OpenCV's DIS optical flow with a fixed preset, reused from frame to frame.

    Parameters
    ----------
    preset : int
        ``cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST``, ``_FAST`` (default) or ``_MEDIUM``.
    """

    def __init__(self, preset: int = cv2.DISOPTICAL_FLOW_PRESET_FAST):
        self._dis = cv2.DISOpticalFlow_create(preset)

    def __call__(self, frame: np.ndarray, other: np.ndarray) -> np.ndarray:
        """Flow (H, W, 2) from ``frame`` to ``other`` (both uint8 (H, W)): ``frame[p] ~ other[p + flow[p]]``."""
        return self._dis.calc(frame, other, None)


def farneback_flow(frame: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Farneback's dense flow (H, W, 2) from ``frame`` to ``other`` (uint8 (H, W)), OpenCV's usual settings."""
    return cv2.calcOpticalFlowFarneback(frame, other, None, pyr_scale=0.5, levels=4, winsize=15, iterations=3,
                                        poly_n=5, poly_sigma=1.2, flags=0)


@functools.lru_cache(maxsize=4)
def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates (x, y) of an (h, w) frame, kept for the next frame of the same size."""
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    xs.flags.writeable = ys.flags.writeable = False
    return xs, ys


def warp(image: np.ndarray, flow: np.ndarray, *, nearest: bool = False) -> np.ndarray:
    """``image`` sampled at ``p + flow[p]``: brings a frame (or a map aligned with it) along a backward flow.

    Parameters
    ----------
    image : ndarray, shape (H, W) or (H, W, C)
    flow : ndarray of float32, shape (H, W, 2)
    nearest : bool
        Nearest-neighbour sampling (masks, hint maps) instead of bilinear.

    Returns
    -------
    ndarray like ``image``; samples outside it repeat the border.
    """
    h, w = flow.shape[:2]
    xs, ys = _grid(h, w)
    interp = cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR
    return cv2.remap(image, xs + flow[..., 0], ys + flow[..., 1], interp, borderMode=cv2.BORDER_REPLICATE)


def consistent(back: np.ndarray, forward: np.ndarray, *, alpha: float = 0.01, beta: float = 0.5) -> np.ndarray:
    """Pixels of frame t whose motion is trusted, by the forward-backward test (Sundaram et al. 2010).

    ``back`` is the flow from t to t-1, ``forward`` the flow from t-1 to t. A
    pixel passes when following ``back`` and then ``forward`` brings it home:
    ``|b + f(p + b)|^2 < alpha (|b|^2 + |f(p + b)|^2) + beta``, and when
    ``p + b`` lies inside the frame. Failing pixels are occluded, disoccluded
    or mistracked.

    Returns
    -------
    ndarray of bool, shape (H, W)
    """
    h, w = back.shape[:2]
    f = warp(forward, back)
    err = np.sum((back + f) ** 2, axis=2)
    ok = err < alpha * (np.sum(back ** 2, axis=2) + np.sum(f ** 2, axis=2)) + beta
    xs, ys = _grid(h, w)
    x, y = xs + back[..., 0], ys + back[..., 1]
    return ok & (x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)


def histogram_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Total variation distance (0..1) between the 32-bin histograms of two uint8 frames: a scene-cut test."""
    ha = np.bincount((a >> 3).ravel(), minlength=32) / a.size
    hb = np.bincount((b >> 3).ravel(), minlength=32) / b.size
    return float(0.5 * np.abs(ha - hb).sum())
