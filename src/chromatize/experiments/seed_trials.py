"""The report's two experiments ("seed trials"), as one library call.

Trial 1
    Train on beach photos only (one epoch); test on held-out photos of every
    category (the report looked at beach and forest).
Trial 2
    Train on photos of all categories, shuffled, one epoch, learning rate
    0.01, once per seed; the spread of the test loss over seeds puts a number
    on the instability the report describes.

Every model kind is trained on the same photos with the same seeds and scored
the same way. :data:`KINDS` maps names to trainers (``trials.Trainer``) or to
``"module:function"`` strings imported only when used, so a family with heavy
dependencies (the CNN needs torch) can join with one line.
"""

from __future__ import annotations

import importlib
import os
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Callable, Sequence

from ..data import ImageSet, list_categories, load_images
from ..models.base import Colorizer, GrayBaseline, MeanABBaseline
from .figures import write_seed_trials_report
from .trials import Trained, Trainer, Trial, TrialSettings, make_trials, photo_losses, summary

__all__ = ["KINDS", "run_seed_trials", "trainer"]


def _train_mlp(train: ImageSet, seed: int, settings: TrialSettings, progress=None, engine: str = "fast") -> Trained:
    from ..models.mlp import MLPColorizer, MLPConfig, fit

    cfg = MLPConfig(lr=settings.lr, epochs=settings.epochs, size=settings.size, seed=seed, engine=engine)
    weights, losses = fit(train.L, train.ab, cfg, progress=progress)
    return Trained(MLPColorizer(weights, cfg, train.mean_ab()), losses.ravel())


def _train_mlp_minibatch(train: ImageSet, seed: int, settings: TrialSettings, progress=None) -> Trained:
    return _train_mlp(train, seed, settings, progress, engine="minibatch")


#: What the test loss of ``results.json`` is.
LOSS_TEXT = "mean over pixels of ||y - t||^2, a*b* in OpenCV 8-bit units / 255 (the training loss x 2)"

#: kind name -> trainer, or "module:function" naming one.
KINDS: dict[str, Trainer | str] = {
    "mlp": _train_mlp,  # the report's per-pixel SGD (fast engine)
    "mlp-minibatch": _train_mlp_minibatch,  # the same net, shuffled mini-batches (not the report's)
    "cnn": "chromatize.experiments.cnn_kind:train_trial",  # the CNN (needs torch), fixed number of steps
}


def trainer(kind: str) -> Trainer:
    if kind not in KINDS:
        raise ValueError(f"unknown model kind {kind!r} (known: {', '.join(KINDS)})")
    t = KINDS[kind]
    if isinstance(t, str):
        module, _, attr = t.partition(":")
        t = getattr(importlib.import_module(module), attr)
    return t


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
    trainers = {k: trainer(k) for k in kinds}
    categories = list_categories(data_dir)
    data = {c: load_images(paths, settings.size, categories=[c] * len(paths)) for c, paths in categories.items()}
    trials = make_trials(data, settings)
    results: dict = {
        "settings": {**asdict(settings), "seeds": [int(s) for s in settings.seeds]}, "kinds": list(kinds),
        "data_dir": str(data_dir), "command": command, "loss": LOSS_TEXT,
        "categories": {c: {"files": len(categories[c]), "read": len(d), "skipped": [str(p) for p, _ in d.skipped]}
                       for c, d in data.items()},
        "trials": {},
    }
    models: dict[tuple[str, str, int], Colorizer] = {}
    total, done = len(trials) * len(kinds) * len(settings.seeds), 0

    def tick() -> None:  # after each training run
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    for trial in trials:
        results["trials"][trial.name] = _run_trial(trial, trainers, settings, data_dir, models, tick)
    staging = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}."))
    try:
        write_seed_trials_report(staging, results, trials, models, settings)
        _swap_in(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return results


def _run_trial(trial: Trial, trainers: dict[str, Trainer], settings: TrialSettings, data_dir: str | os.PathLike,
               models: dict[tuple[str, str, int], Colorizer], tick: Callable[[], None]) -> dict:
    """One trial's part of ``results.json``: its photos, the baselines' and every kind's test loss per seed.

    Each trained model is added to ``models`` under (trial, kind, seed); ``tick`` is called after each run.
    """
    tr: dict = {"title": trial.title, "train": [_rel(p, data_dir) for p in trial.train.paths],
                "test": {c: [_rel(p, data_dir) for p in s.paths] for c, s in trial.test.items()},
                "kinds": {}, "baselines": {}}
    for name, model in (("gray", GrayBaseline()), ("mean-ab", MeanABBaseline(mean_ab=trial.train.mean_ab()))):
        tr["baselines"][name] = {c: float(photo_losses(model, s).mean()) for c, s in trial.test.items()}
    for kind, fit in trainers.items():
        runs = {}
        for seed in settings.seeds:
            trained = fit(trial.train, int(seed), settings, None)
            models[(trial.name, kind, seed)] = trained.model
            runs[str(seed)] = {
                "test_loss": {c: float(photo_losses(trained.model, s).mean()) for c, s in trial.test.items()},
                "train_loss": None if trained.losses is None else [float(v) for v in trained.losses],
            }
            tick()
        tr["kinds"][kind] = {
            "seeds": runs,
            "test_loss": {c: summary([r["test_loss"][c] for r in runs.values()]) for c in trial.test},
        }
    return tr


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
