"""The seed trials' building blocks: settings, trials, the trainer protocol, the report's loss.

A model kind is a *trainer* ``(train: ImageSet, seed, settings, progress) ->
Trained``; ``chromatize.experiments.seed_trials.KINDS`` names them. The split
is drawn once from ``settings.split_seed``: per category, a fixed set of test
photos, the rest being the pool the training photos come from. The training
seeds only change the model's initial weights and visiting order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import cv2
import numpy as np

from ..color import AB_OFFSET8, L_MAX, SCALE8
from ..data import ImageSet, seeded_split
from ..infer import predict_ab
from ..models.base import Colorizer

__all__ = ["TrialSettings", "Trained", "Trainer", "Trial", "photo_losses", "make_trials", "summary"]


@dataclass
class TrialSettings:
    """Settings of the seed trials; saved in ``results.json``."""

    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)  # one training run per seed and kind
    n_train: int = 53  # training photos per trial (trial 2: split evenly over the categories)
    n_test: int = 50  # held-out test photos per category
    size: int = 64  # photos are resized to size x size
    epochs: int = 1  # passes over the training photos
    lr: float = 0.01  # learning rate
    split_seed: int = 0  # seeds the choice of test and training photos
    trial1_category: str = "beach"  # the only category trial 1 trains on
    grid_photos: int = 2  # test photos per category shown in each grid


@dataclass
class Trained:
    """A trained model and its training loss per photo (a 1-D curve, or None)."""

    model: Colorizer
    losses: np.ndarray | None = None


Trainer = Callable[[ImageSet, int, TrialSettings, Callable[[int], None] | None], Trained]


def photo_losses(model: Colorizer, photos: ImageSet) -> np.ndarray:
    """The report's L2 on a*b* of each photo, from the model's raw a*b*.

    Each photo's L (L8 * 100/255, so the MLP sees exactly its training input)
    goes through ``chromatize.infer.predict_ab``; a prediction at another
    working size is resized back (``INTER_AREA``). The loss is the mean over
    pixels of ``||y - t||^2`` with a*b* in 8-bit units / 255, as in training
    (``chromatize.metrics.ab_l2`` without the round trip through RGB).

    Returns
    -------
    ndarray of float64, shape (len(photos),)
    """
    out = np.empty(len(photos))
    for i in range(len(photos)):
        L = (photos.L[i] * (L_MAX)).astype(np.float32)  # L8/255 * 100
        ab = predict_ab(model, L)
        if ab.shape[:2] != L.shape:
            ab = cv2.resize(ab, L.shape[::-1], interpolation=cv2.INTER_AREA)
        y = (ab.astype(np.float64) + AB_OFFSET8) / SCALE8
        out[i] = np.mean(np.sum((y - photos.ab[i]) ** 2, axis=-1))
    return out


@dataclass
class Trial:
    """One trial: its training photos and the test photos of every category."""

    name: str
    title: str
    train: ImageSet
    test: dict[str, ImageSet]


def make_trials(data: dict[str, ImageSet], settings: TrialSettings) -> list[Trial]:
    """Split loaded categories into the two trials (seeded by ``settings.split_seed``)."""
    rng = np.random.default_rng(settings.split_seed)
    cats = sorted(data)
    if settings.trial1_category not in data:
        raise ValueError(f"trial 1 trains on {settings.trial1_category!r}, which is not among the categories {cats}")
    test, pool = {}, {}
    for c in cats:
        t, rest = seeded_split(len(data[c]), min(settings.n_test, len(data[c])), rng)
        test[c], pool[c] = data[c].subset(t), data[c].subset(rest)
    c1 = settings.trial1_category
    if len(pool[c1]) < settings.n_train:
        raise ValueError(f"{c1}: {len(pool[c1])} photos left after the test split, trial 1 needs {settings.n_train}")
    share = [settings.n_train // len(cats) + (i < settings.n_train % len(cats)) for i in range(len(cats))]
    parts = []
    for c, k in zip(cats, share):
        if len(pool[c]) < k:
            raise ValueError(f"{c}: {len(pool[c])} photos left after the test split, trial 2 needs {k}")
        parts.append(pool[c].subset(np.arange(k)))
    mixed = _concat(parts)
    return [
        Trial("trial1", f"Trial 1: train on {c1} only", pool[c1].subset(np.arange(settings.n_train)), test),
        Trial("trial2", "Trial 2: train on all categories, shuffled", mixed, test),
    ]


def _concat(parts: Sequence[ImageSet]) -> ImageSet:
    return ImageSet(
        [p for s in parts for p in s.paths], np.concatenate([s.rgb for s in parts]),
        np.concatenate([s.L for s in parts]), np.concatenate([s.ab for s in parts]),
        [c for s in parts for c in s.categories],
    )


def summary(values: Sequence[float]) -> dict[str, float]:
    v = np.asarray(values, dtype=np.float64)
    return {"mean": float(v.mean()), "std": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
            "min": float(v.min()), "max": float(v.max())}


