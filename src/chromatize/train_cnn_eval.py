"""Validation of the CNN during training, and tuning of its decoding.

Only the held-out split of the *training* photos is used here; the evaluation
sets are never seen. The selection score asks for all three of the project's
targets at once, each as a fraction of its goal (gain in RGB PSNR over the gray
photo / 0.8 dB, drop in mean CIEDE2000 / 0.5, colorfulness ratio / 0.6), and
takes the smallest: a model is only as good as its weakest figure.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from .color import gray_to_rgb
from .infer import _merge_full, lightness
from .metrics import compute_all
from .models.base import Colorizer
from .models.cnn_onnx import L_CENT, L_NORM, decode, round_shape

__all__ = ["TorchCNN", "validate", "tune_decoding", "selection_score", "RENDER_SIZE"]

#: Working size (longer side) used for validation, the CNN's default.
RENDER_SIZE = 256
_METRICS = ["psnr_rgb", "ciede2000_mean", "colorfulness", "colorfulness_true"]
_GRAY_CACHE: dict[tuple, tuple] = {}


class TorchCNN(Colorizer):
    """The torch network wrapped as a Colorizer (same decoding as the ONNX one)."""

    name = "cnn-torch"

    def __init__(self, model, centers: np.ndarray, temperature: float, mix: float, device="cpu", saturation: float = 1.0):
        self.model, self.centers, self.device = model, centers, device
        self.temperature, self.mix, self.saturation = temperature, mix, saturation

    #: Default working size (longer side).
    render_size = RENDER_SIZE

    def work_shape(self, h, w, render_size=None):
        return round_shape(h, w, render_size or self.render_size)

    def raw(self, L: np.ndarray) -> np.ndarray:
        x = torch.from_numpy((L.astype(np.float32) - L_CENT) / L_NORM)[None, None].to(self.device)
        with torch.no_grad():
            return self.model(x)[0].float().cpu().numpy()

    def predict_ab(self, L):
        ab = decode(self.raw(L), self.centers if len(self.centers) else None, self.temperature, self.mix, self.saturation)
        return cv2.resize(ab, (L.shape[1], L.shape[0]), interpolation=cv2.INTER_LINEAR)


def _gray_scores(photos: list[np.ndarray]) -> list[dict]:
    # keyed by the arrays' ids; the cache keeps the arrays alive so that an id is never reused
    key = tuple(id(p) for p in photos)
    if key not in _GRAY_CACHE:
        _GRAY_CACHE[key] = (list(photos), [compute_all(gray_to_rgb(p), p, _METRICS) for p in photos])
    return _GRAY_CACHE[key][1]


def selection_score(m: dict) -> float:
    """min(PSNR gain / 0.8 dB, CIEDE2000 drop / 0.5, colorfulness ratio / 0.6)."""
    return float(min(m["psnr_gain"] / 0.8, m["ciede_drop"] / 0.5, m["colorfulness_ratio"] / 0.6))


def _summarise(scores: list[dict], gray: list[dict]) -> dict:
    mean = {k: float(np.mean([s[k] for s in scores])) for k in _METRICS}
    g = {k: float(np.mean([s[k] for s in gray])) for k in _METRICS}
    m = {
        "psnr_rgb": mean["psnr_rgb"], "ciede2000_mean": mean["ciede2000_mean"],
        "psnr_gain": mean["psnr_rgb"] - g["psnr_rgb"], "ciede_drop": g["ciede2000_mean"] - mean["ciede2000_mean"],
        # mean of per-image ratios, as the evaluation tables report it
        "colorfulness_ratio": float(np.nanmean([s["colorfulness"] / s["colorfulness_true"] if s["colorfulness_true"] > 0
                                                else np.nan for s in scores])),
    }
    m["score"] = selection_score(m)
    return m


def validate(net: TorchCNN, photos: list[np.ndarray]) -> dict:
    """Metrics of ``net`` on validation photos (colorized from their own L at RENDER_SIZE)."""
    from .infer import colorize_photo
    from .io import Photo

    scores = [compute_all(colorize_photo(Photo(p), net, RENDER_SIZE).rgb, p, _METRICS) for p in photos]
    return _summarise(scores, _gray_scores(photos))


def tune_decoding(model, centers: np.ndarray, photos: list[np.ndarray], device="cpu",
                  temperatures=(0.2, 0.3, 0.38, 0.5, 0.7, 1.0), mixes=(0.0, 0.25, 0.5, 0.75),
                  saturations=(1.0, 1.05, 1.1, 1.15, 1.25, 1.4, 1.6)):
    """Choose the decoding on validation photos, one knob at a time.

    A classification model gets its annealed-mean temperature, then the
    regression mix, then the saturation; a regression model its saturation.

    Returns
    -------
    temperature, mix, saturation : float
    metrics : dict
        Validation metrics at the chosen setting, with the ``grid`` of every
        setting tried.
    """
    net = TorchCNN(model, centers, 0.38, 0.0, device)
    cache = []
    for p in photos:
        L = lightness(p)
        wh, ww = net.work_shape(*L.shape)
        small = cv2.resize(L, (ww, wh), interpolation=cv2.INTER_AREA)
        cache.append((L, (wh, ww), net.raw(small)))
    gray = _gray_scores(photos)

    def run(t: float, mix: float, sat: float = 1.0) -> dict:
        scores = []
        for (L, (wh, ww), raw), p in zip(cache, photos):
            ab = decode(raw, centers if len(centers) else None, t, mix, sat)
            ab = cv2.resize(ab, (ww, wh), interpolation=cv2.INTER_LINEAR)
            scores.append(compute_all(_merge_full(L, ab), p, _METRICS))
        return _summarise(scores, gray)

    best = lambda grid: max(grid, key=lambda g: g[3]["score"])[:3]  # noqa: E731
    if len(centers) == 0:
        grid = [(1.0, 1.0, s, run(1.0, 1.0, s)) for s in saturations]
    else:
        grid = [(t, 0.0, 1.0, run(t, 0.0)) for t in temperatures]
        t_best = best(grid)[0]
        grid += [(t_best, mix, 1.0, run(t_best, mix)) for mix in mixes if mix > 0]
        t_best, mix_best, _ = best(grid)
        grid += [(t_best, mix_best, s, run(t_best, mix_best, s)) for s in saturations if s != 1.0]
    t, mix, sat = best(grid)
    m = next(g[3] for g in grid if g[:3] == (t, mix, sat))
    rows = [{"temperature": a, "mix": b, "saturation": c, **{k: round(v, 4) for k, v in r.items()}}
            for a, b, c, r in grid]
    return float(t), float(mix), float(sat), {**m, "grid": rows}
