"""Where training photos come from: sources, their sampling weights, a split stratified by source, whole
folders held out, and the guard that keeps evaluation sets out of training.

A **source** is an input folder, or each first-level sub-folder of one
(``train_pool/caltech101``, ``scenes/beach``); a **group** is a photo's own
folder, or, for a file named ``<category>__<name>`` (as
``train_pool/caltech101/`` names its photos), that folder and the category
(``train_pool/caltech101/accordion``). Names are paths relative to the
common parent of the inputs, with ``/``. All randomness comes from seeds
passed in.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from .io import list_images

__all__ = ["EVALUATION_SETS", "SourceList", "check_training_data", "list_sources", "mix_weights", "matches",
           "split_by_source", "seeded_split"]

#: Folder names of the evaluation sets: never training data (``bsds500/val`` holds cbsd68, so it counts too).
EVALUATION_SETS = ("kodak24", "cbsd68", "mcmaster", "set5", "set14", "sun_hays80")


def _evaluation_set_in(parts: Sequence[str]) -> str | None:
    low = [p.lower() for p in parts]
    for i, p in enumerate(low):
        if p in EVALUATION_SETS:
            return p
        if p == "val" and i and low[i - 1] == "bsds500":
            return "bsds500/val"
    return None


def check_training_data(paths: Sequence[str | os.PathLike]) -> None:
    """Raise ``ValueError`` (one line) if a path lies in an evaluation set's folder (:data:`EVALUATION_SETS`)."""
    for p in paths:
        name = _evaluation_set_in(Path(os.path.abspath(p)).parts)
        if name:
            raise ValueError(f"{p}: {name} is an evaluation set; chromatize does not train, tune or select on "
                             f"evaluation sets ({', '.join(EVALUATION_SETS)}, bsds500/val)")


@dataclass
class SourceList:
    """Image files with the source and the group of each (module docstring)."""

    files: list[Path]
    sources: list[str]
    groups: list[str]


def list_sources(data: Sequence[str | os.PathLike]) -> SourceList:
    """The image files of ``data`` (files or folders, searched recursively), each with its source and group.

    Raises
    ------
    ValueError
        If an input lies in an evaluation set (:func:`check_training_data`).
    """
    inputs = [Path(d) for d in data]
    check_training_data(inputs)
    parents = [os.path.abspath(p.parent) for p in inputs]
    base = Path(os.path.commonpath(parents)) if parents else Path(".")
    out = SourceList([], [], [])
    for d in inputs:
        name = Path(os.path.abspath(d)).relative_to(base).as_posix()
        for f in list_images([d], recursive=True):
            rel = f.relative_to(d).parts if d.is_dir() else (f.name,)
            if _evaluation_set_in(rel[:-1]):
                check_training_data([f])
            out.files.append(f)
            out.sources.append(name if len(rel) == 1 else f"{name}/{rel[0]}")
            category = [f.name.split("__")[0]] if "__" in f.name else []
            out.groups.append("/".join([name, *rel[:-1], *category]))
    return out


def matches(pattern: str, name: str) -> bool:
    """Whether the folder path ``pattern`` (``caltech101/accordion``) is a run of ``name``'s components."""
    p, n = pattern.strip("/").split("/"), name.split("/")
    return any(n[i : i + len(p)] == p for i in range(len(n) - len(p) + 1))


def mix_weights(mix: str, sources: Sequence[str]) -> np.ndarray | None:
    """Per-photo sampling probabilities of a training mix, or None for "as they come" (``mix`` "").

    Parameters
    ----------
    mix : str
        ``""``: every photo equally often; ``"equal"``: every source the same
        share of each batch; ``"sqrt"``: shares proportional to the square
        root of a source's photo count; ``"name=w,name=w"``: those sources get
        weight ``w`` (a name matches a source by :func:`matches`), the others 1.
    sources : sequence of str
        The source of each photo.

    Raises
    ------
    ValueError
        If ``mix`` is malformed, names no source, or gives every photo weight 0.
    """
    if not mix:
        return None
    names, idx, counts = np.unique(np.asarray(sources), return_inverse=True, return_counts=True)
    if mix == "equal":
        w = np.ones(len(names))
    elif mix == "sqrt":
        w = np.sqrt(counts)
    else:
        w = np.ones(len(names))
        for item in mix.split(","):
            key, _, val = item.partition("=")
            hit = [i for i, n in enumerate(names) if matches(key.strip(), n)]
            try:
                weight = float(val)
            except ValueError:
                raise ValueError(f"mix: {item!r} is not name=weight (or use 'equal' or 'sqrt')") from None
            if not hit or weight < 0:
                raise ValueError(f"mix: {item!r} names no source or has a negative weight; sources: {', '.join(names)}")
            w[hit] = weight
    if not w.sum():
        raise ValueError(f"mix {mix!r} gives every source weight 0")
    p = (w / w.sum() / counts)[idx]  # each source's share, spread over its photos
    return p / p.sum()


def _take(idx: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.permutation(idx)[:n]


def _interleave(chosen: dict[str, np.ndarray]) -> np.ndarray:
    """The photos of every key, ordered so that any first k hold each key in proportion (photo j of a
    key with n photos at position (j + 0.5) / n)."""
    items = [((j + 0.5) / len(v), k, int(i)) for k, v in chosen.items() for j, i in enumerate(v)]
    return np.array([i for *_, i in sorted(items)], dtype=np.int64)


def seeded_split(n: int, n_test: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle ``range(n)`` and cut it into a test part and the rest.

    Parameters
    ----------
    n : int
        Number of items.
    n_test : int
        Size of the test part, 0 <= n_test <= n.
    rng : numpy.random.Generator

    Returns
    -------
    test, rest : ndarray of int64
        Disjoint indices; ``rest`` keeps the shuffled order, so taking its
        first k items is a seeded random choice of k.
    """
    if not 0 <= n_test <= n:
        raise ValueError(f"cannot take {n_test} test items out of {n}")
    order = rng.permutation(n)
    return order[:n_test], order[n_test:]


def split_by_source(src: SourceList, val_split: int, seed: int, mix: str = "", holdout: Sequence[str] = (),
                    holdout_groups: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices of the training, validation and held-out photos of ``src``.

    Held out: the photos whose group matches a pattern of ``holdout``
    (:func:`matches`) and ``holdout_groups`` whole groups drawn with
    ``default_rng([seed, 3])`` from the sources that have several; never
    trained on. At most ``val_split`` of them are returned, each group in
    proportion. The validation photos are ``min(val_split, n // 5)`` of the
    rest, spread over the sources by the mix's weights (at most a fifth of a
    source; one at least from a source of 5 or more), drawn with
    ``default_rng([seed, 4])`` and ordered so that any first k are in
    proportion. Without a mix or held-out photos this is
    :func:`seeded_split` with ``default_rng(seed)``, the
    split of earlier runs.
    """
    n = len(src.files)
    groups, sources = np.asarray(src.groups), np.asarray(src.sources)
    held = np.array([any(matches(p, g) for p in holdout) for g in groups], bool) if n else np.zeros(0, bool)
    multi = sorted({g for g, s in zip(groups, sources) if len(set(groups[sources == s])) > 1})
    if holdout_groups:
        drawn = np.random.default_rng([seed, 3]).permutation(len(multi))[:holdout_groups]
        held |= np.isin(groups, [multi[i] for i in drawn])
    rest = np.flatnonzero(~held)
    if not mix and not held.any():
        val_idx, train_idx = seeded_split(n, min(val_split, n // 5) if val_split else 0, np.random.default_rng(seed))
        return train_idx, val_idx, np.zeros(0, np.int64)
    rng = np.random.default_rng([seed, 4])
    n_val = min(val_split, len(rest) // 5) if val_split else 0
    names = sorted(set(sources[rest]))
    share = mix_weights(mix or "", list(sources[rest]))
    share = np.ones(len(rest)) / len(rest) if share is None else share
    val: dict[str, np.ndarray] = {}
    for s in names:
        mine = rest[sources[rest] == s]
        k = min(len(mine) // 5, max(int(len(mine) >= 5), round(n_val * share[sources[rest] == s].sum()))) if n_val else 0
        val[s] = _take(mine, k, rng)
    val_idx = _interleave(val)
    train_idx = np.setdiff1d(rest, val_idx)
    held_idx = np.flatnonzero(held)
    cap = min(val_split, len(held_idx)) / max(len(held_idx), 1)
    by_group = {g: _take(held_idx[groups[held_idx] == g], max(1, round(cap * np.sum(groups[held_idx] == g))), rng)
                for g in sorted(set(groups[held_idx]))}
    return train_idx, val_idx, _interleave(by_group)[:val_split]
