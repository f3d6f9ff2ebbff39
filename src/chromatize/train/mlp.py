"""Training the report's MLP from folders of photos into a model folder."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from ..data import load_images
from ..io import list_images
from ..models.mlp import MLPColorizer, MLPConfig, fit, save

__all__ = ["TrainResult", "train_mlp"]

#: progress(stage, done, total): stage is "loading" or "training"; done counts items of that stage.
Progress = Callable[[str, int, int], None]


@dataclass
class TrainResult:
    """What :func:`train_mlp` made.

    Attributes
    ----------
    model : MLPColorizer
    folder : Path or None
        Where the model was saved.
    losses : ndarray, shape (epochs, N)
        Mean ``||y - t||^2`` of each photo in visiting order (a loss curve).
    n_images : int
        Photos trained on.
    skipped : list of (Path, str)
        Files that could not be read, with the reason.
    """

    model: MLPColorizer
    folder: Path | None
    losses: np.ndarray
    n_images: int
    skipped: list[tuple[Path, str]] = field(default_factory=list)


def train_mlp(
    inputs: Iterable[str | os.PathLike],
    out: str | os.PathLike | None,
    config: MLPConfig | None = None,
    *,
    overwrite: bool = False,
    progress: Progress | None = None,
    name: str = "mlp",
) -> TrainResult:
    """Train the MLP on photos and save it.

    Parameters
    ----------
    inputs : iterable of path
        Image files and folders (searched recursively, so a folder with one
        sub-folder per category works).
    out : path or None
        Model folder to write (``config.json`` + ``weights.safetensors``);
        None to only return the model.
    config : MLPConfig, optional
        Defaults to the report's settings (64x64, lr 0.01, 1 epoch, seed 0).
    overwrite : bool
        Replace a model already in ``out``.
    progress : callable, optional
        ``progress(stage, done, total)`` after each photo loaded and trained on.
    name : str
        Name stored with the model.

    Returns
    -------
    TrainResult

    Raises
    ------
    FileExistsError
        If ``out`` holds a model and ``overwrite`` is false (checked first).
    ValueError
        If no photo could be read, or a setting is bad.

    Examples
    --------
    >>> from chromatize.train.mlp import train_mlp
    >>> from chromatize.models.mlp import MLPConfig
    >>> result = train_mlp(["photos/"], "my_mlp", MLPConfig(epochs=2))  # doctest: +SKIP
    """
    config = (config or MLPConfig()).check()
    if out is not None and (Path(out) / "config.json").exists() and not overwrite:
        raise FileExistsError(f"{out}: already holds a model (use overwrite to replace it)")
    inputs = [Path(p) for p in inputs]
    files = list_images(inputs, recursive=True)
    if not files:
        raise ValueError(f"no image files in {', '.join(map(str, inputs)) or 'the inputs'}")

    def stage(name: str, total: int):
        count = [0]

        def tick(k: int) -> None:
            count[0] += k
            if progress is not None:
                progress(name, count[0], total)

        return tick

    data = load_images(files, config.size, progress=stage("loading", len(files)))
    if not len(data):
        raise ValueError(f"none of the {len(files)} image file(s) could be read; first: {data.skipped[0][1]}")
    weights, losses = fit(data.L, data.ab, config, progress=stage("training", len(data) * config.epochs))
    model = MLPColorizer(weights, config, data.mean_ab(), name=name)
    folder = None
    if out is not None:
        training = {
            "inputs": [str(p) for p in inputs],
            "n_images": len(data),
            "n_skipped": len(data.skipped),
            "epoch_mean_loss": [float(v) for v in losses.mean(axis=1)],
            "loss": "mean over pixels of ||y - t||^2, a*b* 8-bit / 255",
        }
        folder = save(model, out, training=training, overwrite=overwrite)
    return TrainResult(model, folder, losses, len(data), list(data.skipped))
