"""Validation of a network colorizer during training, and tuning of its decoding.

Only the held-out split of the *training* photos is used here; the evaluation
sets are never seen. The selection score asks for all three of the project's
targets at once, each as a fraction of its goal (gain in RGB PSNR over the gray
photo / 1.5 dB, drop in mean CIEDE2000 / 1.5, colorfulness ratio / 0.7: the
semantic CNN's targets), and takes the smallest: a model is only as good as its
weakest figure.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from ..color import gray_to_rgb
from ..infer import colorize_photo, lightness, merge_full
from ..io import Photo
from ..metrics import compute_all
from ..models.cnn import Decoding, NetColorizer, decode
from ..guidance import Guidance

__all__ = ["ValidationSet", "validate", "tune_decoding", "selection_score", "RENDER_SIZE"]

#: Working size (longer side) used for validation, the CNN's default.
RENDER_SIZE = 256
_METRICS = ["psnr_rgb", "ciede2000_mean", "colorfulness", "colorfulness_true"]


@dataclass
class ValidationSet:
    """Held-out photos and the gray baseline's scores on them (computed once)."""

    photos: list[np.ndarray]
    sources: list[str] = field(default_factory=list)  #: the source of each photo (empty: not known)
    gray: list[dict] = field(init=False)

    def __post_init__(self):
        self.gray = [compute_all(gray_to_rgb(p), p, _METRICS) for p in self.photos]

    def __len__(self) -> int:
        return len(self.photos)

    def head(self, n: int) -> "ValidationSet":
        """The first ``n`` photos (all when ``n`` is 0), without rescoring gray."""
        if not n or n >= len(self.photos):
            return self
        out = object.__new__(ValidationSet)
        out.photos, out.gray, out.sources = self.photos[:n], self.gray[:n], self.sources[:n]
        return out


def selection_score(m: dict) -> float:
    """min(PSNR gain / 1.5 dB, CIEDE2000 drop / 1.5, colorfulness ratio / 0.7)."""
    return float(min(m["psnr_gain"] / 1.5, m["ciede_drop"] / 1.5, m["colorfulness_ratio"] / 0.7))


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


def validate(net: NetColorizer, val: ValidationSet, by_source: bool = False) -> dict:
    """Metrics of ``net`` on validation photos (colorized from their own L at RENDER_SIZE).

    With ``by_source`` (and sources known) the metrics of each source's photos
    are added under ``"sources"`` (source -> metrics, with ``n`` photos).
    """
    if not len(val):
        return {}
    scores = [compute_all(colorize_photo(Photo(p), net, Guidance(render_size=RENDER_SIZE)).rgb, p, _METRICS) for p in val.photos]
    out = _summarise(scores, val.gray)
    if by_source and val.sources:
        out["sources"] = {}
        for name in sorted(set(val.sources)):
            mine = [i for i, s in enumerate(val.sources) if s == name]
            m = _summarise([scores[i] for i in mine], [val.gray[i] for i in mine])
            out["sources"][name] = {"n": len(mine), **{k: round(v, 4) for k, v in m.items()}}
    return out


def tune_decoding(net: NetColorizer, val: ValidationSet,
                  temperatures=(0.2, 0.3, 0.38, 0.5, 0.7, 1.0), mixes=(0.0, 0.25, 0.5, 0.75),
                  saturations=(1.0, 1.05, 1.1, 1.15, 1.25, 1.4, 1.6), render_sizes=(RENDER_SIZE,)) -> tuple[Decoding, dict]:
    """Choose the decoding of ``net`` on validation photos, one knob at a time.

    A classification model gets its annealed-mean temperature, then the
    regression mix, then the saturation; a regression model its saturation.
    Each working size of ``render_sizes`` is tuned so, and the best kept.
    The network runs once per photo and size; only the decoding is repeated.

    Returns
    -------
    decoding : Decoding
        ``net.decoding`` with the chosen temperature, mix and saturation.
    metrics : dict
        Validation metrics at the chosen setting, with the ``grid`` of every setting tried.
    """
    results = [_tune_at(net, val, size, temperatures, mixes, saturations) for size in render_sizes]
    decoding, metrics = max(results, key=lambda r: r[1]["score"])
    if len(results) > 1:
        metrics["render_sizes"] = {str(s): round(r[1]["score"], 4) for s, r in zip(render_sizes, results)}
    return decoding, metrics


def _tune_at(net: NetColorizer, val: ValidationSet, size: int, temperatures, mixes, saturations) -> tuple[Decoding, dict]:
    cache = []
    for p in val.photos:
        L = lightness(p)
        wh, ww = net.work_shape(*L.shape, size)
        small = cv2.resize(L, (ww, wh), interpolation=cv2.INTER_AREA)
        cache.append((L, (wh, ww), net.raw(small)))

    def run(t: float, mix: float, sat: float = 1.0) -> dict:
        scores = []
        for (L, (wh, ww), raw), p in zip(cache, val.photos):
            ab = cv2.resize(decode(raw, net.centers, t, mix, sat), (ww, wh), interpolation=cv2.INTER_LINEAR)
            scores.append(compute_all(merge_full(L, ab), p, _METRICS))
        return _summarise(scores, val.gray)

    best = lambda grid: max(grid, key=lambda g: g[3]["score"])[:3]  # noqa: E731
    if net.centers is None:
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
    decoding = replace(net.decoding, render_size=int(size), temperature=float(t), mix=float(mix), saturation=float(sat))
    return decoding, {**m, "render_size": int(size), "grid": rows}
