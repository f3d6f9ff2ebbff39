"""The report's colorizer: a 25 -> 16 -> 2 sigmoid MLP on 5x5 L neighbourhoods.

For each pixel the network reads the 25 values L8/255 of its average-padded
5x5 window (``chromatize.patches``) and predicts a*8/255 and b*8/255 with
sigmoid outputs. The training engines and the backpropagation equations are
in ``chromatize.models.mlp_engines``.

A model folder holds ``config.json`` (family ``"mlp"``, ``mean_ab``, the
``MLPConfig`` under ``"config"`` and a free-form ``"training"`` record) and
``weights.safetensors`` with ``W1`` (16, 25), ``b1`` (16,), ``W2`` (2, 16) and
``b2`` (2,) in float64.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Callable

import numpy as np

from ..color import AB_OFFSET8, L_MAX, SCALE8
from ..io.atomic import atomic_output
from ..patches import PATCH, extract_patches
from ..text import one_line
from .base import MAX_RENDER_SIZE, Colorizer, ModelFormatError, read_config, read_mean_ab, refuse_guide, write_config
from .mlp_engines import ENGINES, sigmoid

__all__ = ["MLPConfig", "MLPColorizer", "init_weights", "forward", "fit", "save", "load", "WEIGHT_NAMES"]

WEIGHT_NAMES = ("W1", "b1", "W2", "b2")
WEIGHTS_FILE = "weights.safetensors"


@dataclass
class MLPConfig:
    """Settings of the MLP and of its training; saved with the weights."""

    n_in: int = PATCH * PATCH  # inputs: the 5x5 L neighbourhood (fixed by the patches)
    n_hidden: int = 16  # hidden sigmoid units
    lr: float = 0.01  # SGD learning rate eta
    epochs: int = 1  # passes over the training photos
    size: int = 64  # photos are resized to size x size for training and prediction
    seed: int = 0  # seeds the weight initialisation and the image order
    engine: str = "fast"  # "reference" | "fast" (same algorithm) | "minibatch" (a different one)
    batch_size: int = 256  # pixels per update, minibatch engine only
    init_scale: float | None = None  # weights ~ U(-a, a); None: a = 1 / sqrt(fan_in)

    def check(self) -> "MLPConfig":
        """Raise ``ValueError`` naming the first bad setting; return self."""
        if self.n_in != PATCH * PATCH:
            raise ValueError(f"n_in must be {PATCH * PATCH} (5x5 patches), got {self.n_in}")
        for name in ("n_in", "n_hidden", "epochs", "size", "batch_size", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{name!r} must be an integer, got {value!r}")
        for name in ("lr",) + (("init_scale",) if self.init_scale is not None else ()):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{name!r} must be a number, got {value!r}")
        for name in ("n_hidden", "epochs", "size", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.size > MAX_RENDER_SIZE:  # memory grows with its square
            raise ValueError(f"size must be at most {MAX_RENDER_SIZE}, got {self.size}")
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr}")
        if self.engine not in ENGINES:
            raise ValueError(f"unknown engine {self.engine!r} (known: {', '.join(ENGINES)})")
        return self

    @classmethod
    def from_dict(cls, d: dict) -> "MLPConfig":
        """Build from a saved dict; unknown keys are an error."""
        known = {f.name for f in fields(cls)}
        extra = set(d) - known
        if extra:
            raise ValueError(f"unknown MLP settings: {', '.join(sorted(extra))}")
        return cls(**d)


def init_weights(config: MLPConfig, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Draw the initial weights from ``rng``: W1, then W2 uniform; biases zero.

    Returns
    -------
    dict
        ``W1`` (n_hidden, n_in), ``b1`` (n_hidden,), ``W2`` (2, n_hidden),
        ``b2`` (2,), C-contiguous float64.
    """
    a1 = config.init_scale or 1.0 / np.sqrt(config.n_in)
    a2 = config.init_scale or 1.0 / np.sqrt(config.n_hidden)
    return {
        "W1": rng.uniform(-a1, a1, (config.n_hidden, config.n_in)),
        "b1": np.zeros(config.n_hidden),
        "W2": rng.uniform(-a2, a2, (2, config.n_hidden)),
        "b2": np.zeros(2),
    }


def forward(weights: dict[str, np.ndarray], X: np.ndarray) -> np.ndarray:
    """Outputs for many pixels at once: equations (1)-(2), vectorised.

    Parameters
    ----------
    X : ndarray, shape (P, 25)
        Patches of L8/255.

    Returns
    -------
    y : ndarray, shape (P, 2)
        Predicted a*b*8/255, in 0..1.
    """
    h = sigmoid(X @ weights["W1"].T + weights["b1"])  # (P, 16)
    return sigmoid(h @ weights["W2"].T + weights["b2"])  # (P, 2)


def fit(
    L: np.ndarray,
    ab: np.ndarray,
    config: MLPConfig,
    *,
    weights: dict[str, np.ndarray] | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Train the MLP on prepared photos.

    The generator ``numpy.random.default_rng(config.seed)`` first draws the
    initial weights (unless ``weights`` are given), then one image order per
    epoch (a permutation), then, for the minibatch engine, the pixel orders.

    Parameters
    ----------
    L : ndarray, shape (N, S, S)
        Inputs L8/255 (see ``chromatize.data``).
    ab : ndarray, shape (N, S, S, 2)
        Targets a*b*8/255.
    config : MLPConfig
    weights : dict, optional
        Start from these (copied) instead of a fresh initialisation.
    progress : callable, optional
        Called with 1 after each image of each epoch.

    Returns
    -------
    weights : dict of ndarray
    losses : ndarray, shape (epochs, N)
        Mean ``||y - t||^2`` of each image, in the order it was visited.
    """
    config.check()
    if len(L) == 0:
        raise ValueError("no training photos")
    rng = np.random.default_rng(config.seed)
    w = init_weights(config, rng) if weights is None else {k: np.array(v, np.float64) for k, v in weights.items()}
    epoch = ENGINES[config.engine]
    losses = np.empty((config.epochs, len(L)))
    for e in range(config.epochs):
        order = rng.permutation(len(L))
        losses[e] = epoch(w, L, ab, order, config.lr, progress, rng=rng, batch_size=config.batch_size)
    return w, losses


class MLPColorizer(Colorizer):
    """The trained MLP as a ``Colorizer``: works at ``size`` x ``size``.

    Parameters
    ----------
    weights : dict of ndarray
    config : MLPConfig
    mean_ab : (float, float)
        Mean a*b* of the training photos, real units.
    name : str
    """

    def __init__(self, weights: dict[str, np.ndarray], config: MLPConfig, mean_ab=(0.0, 0.0), name: str = "mlp"):
        _check_weights(weights, config, "weights")
        self.weights = {k: np.ascontiguousarray(weights[k], np.float64) for k in WEIGHT_NAMES}
        self.config = config
        self.mean_ab = (float(mean_ab[0]), float(mean_ab[1]))
        self.name = name

    def work_shape(self, h: int, w: int, render_size: int | None = None) -> tuple[int, int]:
        """Always a square: ``render_size`` x ``render_size``, default ``config.size``."""
        s = int(render_size or self.config.size)
        return s, s

    def predict_ab(self, L: np.ndarray, guide=None) -> np.ndarray:
        """Predict real a*b* (h, w, 2) float32 from L (h, w) in 0..100 (the MLP takes no hints)."""
        refuse_guide(self, guide)
        if L.ndim != 2:
            raise ValueError(f"L must have shape (h, w), got {L.shape}")
        X = extract_patches(np.asarray(L, np.float64) / L_MAX)  # L/100 == L8/255
        y = forward(self.weights, X)  # (h*w, 2) in 0..1
        return (y * SCALE8 - AB_OFFSET8).reshape(L.shape + (2,)).astype(np.float32)


def _check_weights(weights: dict, config: MLPConfig, where: str) -> None:
    """Raise ModelFormatError unless the four arrays are there with the config's shapes."""
    shapes = {"W1": (config.n_hidden, config.n_in), "b1": (config.n_hidden,), "W2": (2, config.n_hidden), "b2": (2,)}
    missing = [k for k in WEIGHT_NAMES if k not in weights]
    if missing:
        raise ModelFormatError(f"{where}: missing weight(s) {', '.join(missing)}")
    for k, shape in shapes.items():
        a = np.asarray(weights[k])
        if a.shape != shape:
            raise ModelFormatError(f"{where}: {k} has shape {a.shape}, config needs {shape}")
        if not np.issubdtype(a.dtype, np.floating) or not np.all(np.isfinite(a)):
            raise ModelFormatError(f"{where}: {k} must be finite floats (dtype {a.dtype})")


def save(model: MLPColorizer, folder: str | os.PathLike, *, training: dict | None = None, overwrite: bool = False) -> Path:
    """Write a model folder: ``weights.safetensors`` then ``config.json``, each atomically.

    Raises
    ------
    FileExistsError
        If the folder already holds a model and ``overwrite`` is false.
    """
    from safetensors.numpy import save_file

    folder = Path(folder)
    if (folder / "config.json").exists() and not overwrite:
        raise FileExistsError(f"{folder}: already holds a model (use overwrite to replace it)")
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_output(folder / WEIGHTS_FILE) as tmp:
        save_file({k: model.weights[k] for k in WEIGHT_NAMES}, str(tmp), metadata={"family": "mlp"})
    write_config(folder, {
        "family": "mlp",
        "name": model.name,
        "mean_ab": list(model.mean_ab),
        "config": asdict(model.config),
        "training": training or {},
    })
    return folder


def load(folder: str | os.PathLike, config: dict | None = None) -> MLPColorizer:
    """Load a model folder written by :func:`save` (the registry's entry point).

    Raises
    ------
    ModelFormatError
        If the config or weights are missing, unreadable or of the wrong shape.
    """
    from safetensors.numpy import load_file

    folder = Path(folder)
    if config is None:
        config = read_config(folder, family="mlp")
    try:
        if not isinstance(config.get("config", {}), dict):
            raise ValueError("'config' must be an object")
        cfg = MLPConfig.from_dict(dict(config.get("config", {}))).check()
    except (TypeError, ValueError) as exc:
        raise ModelFormatError(f"{folder / 'config.json'}: bad MLP config ({exc})") from None
    mean_ab = read_mean_ab(config, folder / "config.json")
    path = folder / WEIGHTS_FILE
    if not path.is_file():
        raise ModelFormatError(f"{path}: weights file missing")
    try:
        weights = load_file(str(path))
    except Exception as exc:  # safetensors raises its own error types for corrupt files
        raise ModelFormatError(f"{path}: cannot read weights ({one_line(exc)})") from None
    _check_weights(weights, cfg, str(path))
    return MLPColorizer(weights, cfg, mean_ab, name=str(config.get("name", "mlp")))
