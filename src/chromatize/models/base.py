"""What every colorizer looks like, how model folders are stored, and the two baselines.

A model folder holds ``config.json`` (with at least ``family``, ``format_version``
and ``mean_ab``) and its weights (``weights.safetensors``, and for families run
by ONNX Runtime also ``model.onnx``). Nothing is pickled.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..io.atomic import atomic_write_text
from ..text import one_line

__all__ = [
    "FORMAT_VERSION",
    "MAX_RENDER_SIZE",
    "ModelFormatError",
    "Colorizer",
    "GrayBaseline",
    "MeanABBaseline",
    "read_config",
    "read_mean_ab",
    "check_section",
    "refuse_guide",
    "write_config",
]

FORMAT_VERSION = 1
#: Largest working size (longer side) accepted anywhere: memory grows with its square.
MAX_RENDER_SIZE = 4096


class ModelFormatError(ValueError):
    """A model folder is missing a file, or its config or weights are wrong."""


class Colorizer:
    """Base class: predicts a*b* from L at a working size.

    Subclasses set ``name`` and ``mean_ab`` and implement ``work_shape`` and
    ``predict_ab``. ``chromatize.infer`` does the rest (resizing, merging the
    full-resolution L, alpha).
    """

    #: Short name shown in tables and reports.
    name: str = "colorizer"
    #: Mean a*b* of the training data (real Lab units), for the mean baseline.
    mean_ab: tuple[float, float] = (0.0, 0.0)
    #: Whether ``predict_ab`` takes a ``guide`` (point hints, scribbles).
    accepts_hints: bool = False

    def work_shape(self, h: int, w: int, render_size: int | None = None) -> tuple[int, int]:
        """The (height, width) at which the model sees a photo of size (h, w).

        ``render_size`` overrides the model's own working size (its meaning is
        the family's: the square side for the MLP, the longer side for the CNN).
        """
        raise NotImplementedError

    def predict_ab(self, L: np.ndarray, guide=None) -> np.ndarray:
        """Predict a*b*.

        Parameters
        ----------
        L : ndarray of float32, shape (h, w)
            Lightness in 0..100, already at ``work_shape``.
        guide : chromatize.hints.Guide, optional
            User colours at the working size; only for models with
            ``accepts_hints`` (the others raise ``ValueError``).

        Returns
        -------
        ab : ndarray of float32, shape (h, w, 2)
            a*, b* in real Lab units.
        """
        raise NotImplementedError

    def bin_outputs(self, L: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """The predicted distribution over a*b* bins, for a model that has one (the colour picker offers it).

        Parameters
        ----------
        L : ndarray of float32, shape (h, w)
            Lightness in 0..100, already at ``work_shape``.

        Returns
        -------
        (ab, logits, centers) or None
            The decoded a*b* (h', w', 2) and the bin logits (h', w', Q) at the
            network's output size, and the bin centres (Q, 2); None for a model
            without bins (this default).
        """
        return None

    def set_threads(self, threads: int) -> None:
        """Use ``threads`` intra-op threads from now on (a model that runs a thread pool); no output changes."""


def refuse_guide(model: Colorizer, guide) -> None:
    """Raise ``ValueError`` if a model without hint support is given a guide."""
    if guide is not None:
        raise ValueError(f"model {model.name!r} takes no hints or scribbles "
                         "(use the CNN or model 'levin'; a reference photo works with any model)")


@dataclass
class GrayBaseline(Colorizer):
    """a*b* = 0 everywhere: the photo's own gray version."""

    name: str = "gray"
    mean_ab: tuple[float, float] = (0.0, 0.0)

    def work_shape(self, h: int, w: int, render_size: int | None = None) -> tuple[int, int]:
        return h, w

    def predict_ab(self, L: np.ndarray, guide=None) -> np.ndarray:
        refuse_guide(self, guide)
        return np.zeros(L.shape + (2,), np.float32)


@dataclass
class MeanABBaseline(Colorizer):
    """A constant tint: the mean a*b* of a model's training data."""

    mean_ab: tuple[float, float] = (0.0, 0.0)
    name: str = field(default="mean-ab")

    def work_shape(self, h: int, w: int, render_size: int | None = None) -> tuple[int, int]:
        return h, w

    def predict_ab(self, L: np.ndarray, guide=None) -> np.ndarray:
        refuse_guide(self, guide)
        ab = np.empty(L.shape + (2,), np.float32)
        ab[...] = np.asarray(self.mean_ab, np.float32)
        return ab


def onnx_session(path: str | os.PathLike, threads: int = 2, providers=("CPUExecutionProvider",)):
    """An ONNX Runtime session on ``threads`` intra-op threads that sleep, not spin, between runs.

    By default ORT's worker threads busy-wait for more work after a run; a
    colorizer's own numpy and OpenCV work follows every run on the same
    cores, and the spinning threads slowed it down (512x512 end to end on 2
    cores: 56 -> 30 ms without hints, 89 -> 66 ms with 10 point hints).

    Raises
    ------
    ModelFormatError
        If the file is not a valid ONNX model.
    """
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(str(path), opts, providers=list(providers))
    except Exception as exc:  # ORT raises its own exception types
        raise ModelFormatError(f"{path}: not a valid ONNX model ({one_line(exc)})") from None


def read_config(folder: str | os.PathLike, family: str | None = None) -> dict:
    """Read and check ``config.json`` of a model folder.

    Raises
    ------
    ModelFormatError
        If the file is missing, not JSON, of another format version or family.
    """
    path = Path(folder) / "config.json"
    if not path.is_file():
        raise ModelFormatError(f"{folder}: not a model folder (no config.json)")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # ValueError covers JSONDecodeError and UnicodeDecodeError
        raise ModelFormatError(f"{path}: cannot read config ({one_line(exc)})") from None
    if not isinstance(config, dict) or "family" not in config:
        raise ModelFormatError(f"{path}: config has no 'family'")
    if config.get("format_version") != FORMAT_VERSION:
        raise ModelFormatError(
            f"{path}: format_version {config.get('format_version')!r}, expected {FORMAT_VERSION}"
        )
    if family is not None and config["family"] != family:
        raise ModelFormatError(f"{path}: family {config['family']!r}, expected {family!r}")
    return config


def read_mean_ab(config: dict, where: str | os.PathLike) -> tuple[float, float]:
    """The ``mean_ab`` entry of a config as two finite floats.

    Raises
    ------
    ModelFormatError
        Naming ``where`` and the key, if it is missing or not two numbers.
    """
    value = config.get("mean_ab")
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v) for v in value)):
        raise ModelFormatError(f"{where}: 'mean_ab' must be a list of 2 numbers, got {value!r}")
    return float(value[0]), float(value[1])


def write_config(folder: str | os.PathLike, config: dict) -> None:
    """Write ``config.json`` atomically into ``folder`` (created if needed)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    config = {"format_version": FORMAT_VERSION, **config}
    atomic_write_text(folder / "config.json", json.dumps(config, indent=2, sort_keys=True))


def check_number(value, kind: type, where: str, key: str, low: float, high: float, low_open: bool = False):
    """``value`` as ``kind`` if it is one (bools are not numbers) and within range, else ModelFormatError."""
    ok_type = int if kind is int else (int, float)
    if isinstance(value, bool) or not isinstance(value, ok_type) or not math.isfinite(value):
        raise ModelFormatError(f"{where}: {key!r} must be {'an integer' if kind is int else 'a number'}, got {value!r}")
    if value < low or value > high or (low_open and value == low):
        raise ModelFormatError(f"{where}: {key!r} = {value!r} is out of range ({low}..{high})")
    return kind(value)


def check_section(d: object, cls: type, where: str, section: str) -> dict:
    """``d`` if it is a dict whose keys are all fields of the dataclass ``cls``, else ModelFormatError.

    ``section`` names the config entry in the message (``'decoding'``, ``'hint_head'``).
    """
    from dataclasses import fields

    if not isinstance(d, dict):
        raise ModelFormatError(f"{where}: {section!r} must be an object, got {type(d).__name__}")
    known = {f.name for f in fields(cls)}
    for key in d:
        if key not in known:
            raise ModelFormatError(f"{where}: unknown {section} key {key!r} (known: {', '.join(sorted(known))})")
    return d
