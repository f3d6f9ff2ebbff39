"""The photos of a training run, by source: training, validation and held-out photos (:func:`load_pool`).

It joins :mod:`chromatize.sources` (which photo comes from where, the mix,
the split) with the photos themselves, decoded in memory
(:func:`chromatize.data.load_photos`) or memory-mapped from a photo store
(:mod:`chromatize.photo_store`): the same pixels either way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from .data import load_photo
from .photo_store import open_store
from .sources import SourceList, list_sources, split_by_source

__all__ = ["TrainingPool", "load_pool"]


@dataclass
class TrainingPool:
    """The photos of a run (uint8 (H, W, 3) arrays) and the source of each."""

    train: list[np.ndarray]
    val: list[np.ndarray]
    holdout: list[np.ndarray]  #: whole folders never trained on (the second check)
    train_sources: list[str]
    val_sources: list[str]
    holdout_sources: list[str]  #: the held-out photos' groups (their own folders)
    val_files: list[str] = field(default_factory=list)  #: the validation photos' files (to read at another size)


def load_pool(data: Sequence[str | os.PathLike], long_side: int, val_split: int, seed: int, *, mix: str = "",
              holdout: Sequence[str] = (), holdout_groups: int = 0, store: str | os.PathLike | None = None) -> TrainingPool:
    """Read (or map) the photos of ``data`` and split them (:func:`chromatize.sources.split_by_source`).

    Unreadable photos are left out before the split. Without a mix or held-out
    folders the split is :func:`chromatize.sources.seeded_split`'s with ``default_rng(seed)``: ``train cnn`` and
    ``train hints``, given the same data and seed, hold out the same photos.

    Raises
    ------
    ValueError
        If fewer than 2 photos can be read, an input is an evaluation set, or the mix is malformed.
    """
    src = list_sources(data)
    photos = open_store(src.files, long_side, store) if store else [load_photo(f, long_side) for f in src.files]
    keep = [i for i, p in enumerate(photos) if p is not None]
    if len(keep) < 2:
        raise ValueError(f"found {len(keep)} readable photo(s) in {', '.join(map(str, data))}; need at least 2")
    src = SourceList([src.files[i] for i in keep], [src.sources[i] for i in keep], [src.groups[i] for i in keep])
    photos = [photos[i] for i in keep]
    tr, va, ho = split_by_source(src, val_split, seed, mix, holdout, holdout_groups)
    return TrainingPool([photos[i] for i in tr], [photos[i] for i in va], [photos[i] for i in ho],
                        [src.sources[i] for i in tr], [src.sources[i] for i in va], [src.groups[i] for i in ho],
                        [str(src.files[i]) for i in va])
