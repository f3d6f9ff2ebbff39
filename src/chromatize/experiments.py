"""The report's two experiments ("seed trials"), as one library call.

Trial 1
    Train on beach photos only (one epoch); test on held-out photos of every
    category (the report looked at beach and forest).
Trial 2
    Train on photos of all categories, shuffled, one epoch, learning rate
    0.01, once per seed; the spread of the test loss over seeds puts a number
    on the instability the report describes.

Every model kind is trained on the same photos with the same seeds and scored
the same way. A kind is a *trainer* ``(train: ImageSet, seed, settings,
progress) -> Trained``; :data:`KINDS` maps names to trainers or to
``"module:function"`` strings (imported only when used), so a family with
heavy dependencies can join with one line.

The split is drawn once from ``settings.split_seed``: per category, a fixed
set of test photos, the rest being the pool the training photos come from.
The training seeds only change the model's initial weights and visiting
order.
"""

from __future__ import annotations

import importlib
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Sequence

import cv2
import numpy as np

from .color import AB_OFFSET8, L_MAX, SCALE8
from .data import ImageSet, list_categories, load_images, seeded_split
from .infer import predict_ab
from .models.base import Colorizer, GrayBaseline, MeanABBaseline

__all__ = ["TrialSettings", "Trained", "KINDS", "run_seed_trials", "photo_losses", "make_trials"]


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


def _train_mlp(train: ImageSet, seed: int, settings: TrialSettings, progress=None, engine: str = "fast") -> Trained:
    from .models.mlp import MLPColorizer, MLPConfig, fit

    cfg = MLPConfig(lr=settings.lr, epochs=settings.epochs, size=settings.size, seed=seed, engine=engine)
    weights, losses = fit(train.L, train.ab, cfg, progress=progress)
    return Trained(MLPColorizer(weights, cfg, train.mean_ab()), losses.ravel())


def _train_mlp_minibatch(train: ImageSet, seed: int, settings: TrialSettings, progress=None) -> Trained:
    return _train_mlp(train, seed, settings, progress, engine="minibatch")


#: kind name -> trainer, or "module:function" naming one.
KINDS: dict[str, Trainer | str] = {
    "mlp": _train_mlp,  # the report's per-pixel SGD (fast engine)
    "mlp-minibatch": _train_mlp_minibatch,  # the same net, shuffled mini-batches (not the report's)
    "cnn": "chromatize.train_cnn_trials:train_trial",  # the CNN (needs torch), fixed number of steps
}


def _trainer(kind: str) -> Trainer:
    if kind not in KINDS:
        raise ValueError(f"unknown model kind {kind!r} (known: {', '.join(KINDS)})")
    t = KINDS[kind]
    if isinstance(t, str):
        module, _, attr = t.partition(":")
        t = getattr(importlib.import_module(module), attr)
    return t


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


def _summary(values: Sequence[float]) -> dict[str, float]:
    v = np.asarray(values, dtype=np.float64)
    return {"mean": float(v.mean()), "std": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
            "min": float(v.min()), "max": float(v.max())}


def run_seed_trials(
    data_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    settings: TrialSettings | None = None,
    *,
    kinds: Sequence[str] = ("mlp",),
    overwrite: bool = False,
    command: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Run both trials for every kind and seed; write figures, reports and results.

    Parameters
    ----------
    data_dir : path
        A folder with one sub-folder of photos per category.
    out_dir : path
        Output folder, written as a whole: built next to it, then renamed into
        place. It gets ``results.json``, ``report.md``, ``report.html`` (figures
        embedded) and the PNG figures.
    settings : TrialSettings, optional
    kinds : sequence of str
        Model kinds from :data:`KINDS`. The gray and mean-a*b* baselines are
        always scored too.
    overwrite : bool
        Replace an earlier seed-trials folder (one holding ``results.json``).
    command : str, optional
        The command line, recorded in the reports.
    progress : callable, optional
        ``progress(done, total)`` after each training run.

    Returns
    -------
    dict
        The content of ``results.json``.

    Raises
    ------
    FileExistsError
        If ``out_dir`` exists, is not empty, and ``overwrite`` is false or it
        does not look like a seed-trials folder.
    ValueError, FileNotFoundError
        For a bad data folder or settings.
    """
    settings = settings or TrialSettings()
    out_dir = Path(out_dir)
    _check_out(out_dir, overwrite)
    if not settings.seeds:
        raise ValueError("give at least one seed")
    trainers = {k: _trainer(k) for k in kinds}
    categories = list_categories(data_dir)
    data = {c: load_images(paths, settings.size, categories=[c] * len(paths)) for c, paths in categories.items()}
    trials = make_trials(data, settings)

    results: dict = {
        "settings": {**asdict(settings), "seeds": [int(s) for s in settings.seeds]}, "kinds": list(kinds), "data_dir": str(data_dir), "command": command,
        "loss": "mean over pixels of ||y - t||^2, a*b* in OpenCV 8-bit units / 255 (the training loss x 2)",
        "categories": {c: {"files": len(categories[c]), "read": len(d), "skipped": [str(p) for p, _ in d.skipped]}
                       for c, d in data.items()},
        "trials": {},
    }
    models: dict[tuple[str, str, int], Colorizer] = {}
    total, done = len(trials) * len(kinds) * len(settings.seeds), 0
    for trial in trials:
        tr: dict = {"title": trial.title, "train": [_rel(p, data_dir) for p in trial.train.paths],
                    "test": {c: [_rel(p, data_dir) for p in s.paths] for c, s in trial.test.items()},
                    "kinds": {}, "baselines": {}}
        for name, model in (("gray", GrayBaseline()), ("mean-ab", MeanABBaseline(mean_ab=trial.train.mean_ab()))):
            tr["baselines"][name] = {c: float(photo_losses(model, s).mean()) for c, s in trial.test.items()}
        for kind, trainer in trainers.items():
            runs = {}
            for seed in settings.seeds:
                trained = trainer(trial.train, int(seed), settings, None)
                models[(trial.name, kind, seed)] = trained.model
                runs[str(seed)] = {
                    "test_loss": {c: float(photo_losses(trained.model, s).mean()) for c, s in trial.test.items()},
                    "train_loss": None if trained.losses is None else [float(v) for v in trained.losses],
                }
                done += 1
                if progress is not None:
                    progress(done, total)
            tr["kinds"][kind] = {
                "seeds": runs,
                "test_loss": {c: _summary([r["test_loss"][c] for r in runs.values()]) for c in trial.test},
            }
        results["trials"][trial.name] = tr

    from .experiment_report import write_seed_trials_report

    staging = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}."))
    try:
        write_seed_trials_report(staging, results, trials, models, settings)
        _swap_in(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return results


def _rel(path: Path, root: str | os.PathLike) -> str:
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return str(path)


def _check_out(out_dir: Path, overwrite: bool) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise FileExistsError(f"{out_dir}: exists and is not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        if not overwrite:
            raise FileExistsError(f"{out_dir}: folder exists and is not empty (use overwrite to replace it)")
        if not (out_dir / "results.json").is_file():
            raise FileExistsError(f"{out_dir}: not a seed-trials folder (no results.json); refusing to replace it")
    out_dir.parent.mkdir(parents=True, exist_ok=True)


def _swap_in(staging: Path, out_dir: Path) -> None:
    """Rename the finished ``staging`` folder to ``out_dir``, replacing an old one."""
    os.chmod(staging, 0o755)
    if out_dir.exists():
        old = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.old."))
        os.rmdir(old)
        os.rename(out_dir, old)
        os.rename(staging, out_dir)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(staging, out_dir)
