"""Model families and the registry that loads them by name or path.

Each family module exposes ``load(folder, config) -> Colorizer``. Families are
imported lazily so that loading one model never imports another's dependencies.
"""

from __future__ import annotations

import importlib
import os
from functools import lru_cache
from importlib import resources
from pathlib import Path

from .base import Colorizer, GrayBaseline, MeanABBaseline, ModelFormatError, ModelRunError, read_config

__all__ = ["load_model", "resolve_model_folder", "bundled_models", "bundled_model_dir", "Colorizer", "ModelFormatError",
           "ModelRunError", "DEFAULT_MODEL", "MODEL_FREE", "hint_models"]

#: family name in config.json -> module in this package.
FAMILIES = {"mlp": "chromatize.models.mlp", "cnn": "chromatize.models.cnn"}

#: The model used when none is named.
DEFAULT_MODEL = "cnn"
#: Names that load without a model folder: the gray baseline and Levin's propagation of hints.
MODEL_FREE = ["gray", "levin"]


def _weights_root() -> Path:
    return Path(str(resources.files("chromatize") / "weights"))


def bundled_models() -> list[str]:
    """Names of the models shipped in the package (sub-folders of ``weights/``)."""
    root = _weights_root()
    return sorted(p.name for p in root.iterdir() if (p / "config.json").is_file())


#: Families whose models take point hints and scribbles (``Colorizer.accepts_hints``).
HINT_FAMILIES = ("cnn",)


@lru_cache(maxsize=1)
def hint_models() -> tuple[str, ...]:
    """Names of the models that take hints: the bundled ones of a :data:`HINT_FAMILIES` family, and ``levin``
    (read once: the CLI's help texts name them)."""
    root = _weights_root()
    out = []
    for name in bundled_models():
        try:
            if read_config(root / name).get("family") in HINT_FAMILIES:
                out.append(name)
        except ModelFormatError:
            continue
    return (*out, "levin")


def bundled_model_dir(name: str = DEFAULT_MODEL) -> Path:
    """The folder of a bundled model (for fine-tuning from it).

    Raises
    ------
    ModelFormatError
        If no bundled model has that name.
    """
    folder = _weights_root() / name
    if not (folder / "config.json").is_file():
        raise ModelFormatError(f"{name}: not a bundled model ({', '.join(bundled_models())})")
    return folder


def load_model(name_or_path: str | os.PathLike | Colorizer | None = None) -> Colorizer:
    """Load a colorizer.

    Parameters
    ----------
    name_or_path : str, path, Colorizer or None
        ``None`` or ``"default"`` for the default bundled model; a bundled name
        (``"cnn"``, ``"mlp"``); the baseline ``"gray"``; the model-free
        ``"levin"`` (hints spread by Levin et al.'s propagation); a model folder
        (or its ``config.json``); or a training run's folder (its ``best/``
        model, named after the run). A ``Colorizer`` is returned as is.

    Raises
    ------
    ModelFormatError
        If the name is unknown or the folder is not a valid model.

    Examples
    --------
    >>> load_model("gray").name
    'gray'
    """
    if isinstance(name_or_path, Colorizer):
        return name_or_path
    text = "default" if name_or_path is None else str(name_or_path)
    folder = resolve_model_folder(text)
    if folder is None:
        if text == "gray":
            return GrayBaseline()
        from .levin import LevinColorizer  # imports scipy: only when asked for

        return LevinColorizer()
    named = Path(DEFAULT_MODEL if text == "default" else text)
    name = named.parent.name if named.name == "config.json" else named.name  # a run's folder: the run's name
    config = read_config(folder)
    family = config["family"]
    if not isinstance(family, str) or family not in FAMILIES:
        raise ModelFormatError(f"{folder}: unknown model family {family!r} (known: {', '.join(FAMILIES)})")
    module = importlib.import_module(FAMILIES[family])
    model = module.load(folder, config)
    # Tables and reports name a model as the user named it: the bundled name or the folder.
    model.name = name
    return model


def resolve_model_folder(name_or_path: str | os.PathLike) -> Path | None:
    """The model folder a name or path means (see :func:`load_model`); None for a model-free name.

    Raises
    ------
    ModelFormatError
        If the name is unknown and no such folder exists.
    """
    text = str(name_or_path)
    if text == "default":
        text = DEFAULT_MODEL
    if text in MODEL_FREE:
        return None
    folder = Path(text)
    if folder.name == "config.json":
        folder = folder.parent
    if not folder.exists():
        bundled = _weights_root() / text
        if os.sep in text or "/" in text or not (bundled / "config.json").is_file():
            known = ", ".join(bundled_models() + MODEL_FREE)
            raise ModelFormatError(f"{text}: no such model file or folder, and not a bundled model ({known})")
        folder = bundled
    if (folder / "best" / "config.json").is_file() and not (folder / "model.onnx").is_file():
        folder = folder / "best"  # a training run's folder: its best model
    return folder


def mean_baseline(model: Colorizer) -> MeanABBaseline:
    """The constant-tint baseline for a model: its training data's mean a*b*."""
    return MeanABBaseline(mean_ab=tuple(model.mean_ab))
