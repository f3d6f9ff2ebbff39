"""The typed contents of a CNN model folder's ``config.json``; no torch.

``config.json`` is read once, by :func:`read_cnn_config`, into a typed
:class:`CNNFolderConfig` (with its :class:`Decoding` and, for a folder with a
learned hint head, a :class:`HintHeadEntry`); an unknown key or a value of the
wrong type is a one-line :class:`~chromatize.models.base.ModelFormatError`
naming the file and the key. :data:`ARCHS` is the one registry of network
architectures (name -> the module and classes that build it in torch).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field

import numpy as np

from ...text import one_line
from ..base import MAX_RENDER_SIZE, ModelFormatError, check_number, check_section, read_mean_ab

__all__ = ["OUT_STRIDE", "GRID", "ARCHS", "Decoding", "HintHeadConfig", "HintHeadEntry", "CNNFolderConfig",
           "read_cnn_config", "folder_config", "parse_locality", "LOCALITY_KEYS"]

#: The architectures a CNN folder's ``arch`` may name: name -> (torch module, network class, its config class).
#: ``colornet`` is the from-scratch encoder-decoder of ``cnn-small``; ``effnet`` the EfficientNet-Lite0 U-Net.
ARCHS = {
    "colornet": ("chromatize.models.cnn.small_net", "ColorNet", "CNNConfig"),
    "effnet": ("chromatize.models.cnn.effnet_net", "EffUNet", "EffUNetConfig"),
}

#: The nets predict at 1/OUT_STRIDE of the working size.
OUT_STRIDE = 4
#: Width of the a*b* quantisation grid (real Lab units), as in Zhang et al.
GRID = 10.0


@dataclass(frozen=True)
class Decoding:
    """How a network's output becomes a*b* (see :func:`decode`), and at what size the net runs."""

    #: Longer side of the working size (rounded to multiples of the net's stride).
    render_size: int = 256
    #: Annealed-mean temperature in (0, 1] (classification models): lower = more vivid.
    temperature: float = 0.38
    #: Weight of the regression head in the result (0 = annealed mean only; 1 for a regression model).
    mix: float = 0.0
    #: Chroma gain applied last, as tuned on the training run's validation split.
    saturation: float = 1.0

    @classmethod
    def from_dict(cls, d: object, where: str = "decoding") -> "Decoding":
        """Build from a dict, checking keys and types.

        Raises
        ------
        ModelFormatError
            Naming ``where`` and the offending key.
        """
        check_section(d, cls, where, "decoding")
        out = {}
        if "render_size" in d:
            out["render_size"] = check_number(d["render_size"], int, where, "render_size", 8, MAX_RENDER_SIZE)
        if "temperature" in d:
            out["temperature"] = check_number(d["temperature"], float, where, "temperature", 0.0, 1.0, low_open=True)
        if "mix" in d:
            out["mix"] = check_number(d["mix"], float, where, "mix", 0.0, 1.0)
        if "saturation" in d:
            out["saturation"] = check_number(d["saturation"], float, where, "saturation", 0.0, 10.0)
        return cls(**out)


@dataclass(frozen=True)
class HintHeadConfig:
    """Settings of a hint head; saved in ``config.json`` under ``hint_head``."""

    feat_channels: int = 64  #: channels of the decoder features it reads (stride 4)
    heads: int = 4
    dim: int = 16  #: embedding channels per head
    l_width: int = 8  #: channels of the small full-size convolution on L
    sigmas: tuple = (8.0, 24.0, 64.0, 256.0)  #: initial reach of each head, px at the hint head's UNIT_SIZE
    alpha: float = 0.5  #: initial share of a hint's own colour (:func:`chromatize.models.cnn.hint_head.attend`), learned in 0..1

    def __post_init__(self):
        object.__setattr__(self, "sigmas", tuple(float(s) for s in self.sigmas))
        if len(self.sigmas) != self.heads:
            raise ValueError(f"sigmas must have one value per head ({self.heads}), got {len(self.sigmas)}")
        if isinstance(self.alpha, bool) or not isinstance(self.alpha, (int, float)) or not 0 <= self.alpha <= 1:
            raise ValueError(f"alpha must be a number in 0..1, got {self.alpha!r}")

    @classmethod
    def from_dict(cls, d: object, where: str = "hint_head") -> "HintHeadConfig":
        """Build from a saved dict, checking keys and types.

        Raises
        ------
        ModelFormatError
            Naming ``where`` and the offending key.
        """
        check_section(d, cls, where, "hint_head")
        for key in ("feat_channels", "heads", "dim", "l_width"):
            check_number(d.get(key, 1), int, where, f"hint_head {key}", 1, 4096)
        s = d.get("sigmas", [1.0] * d.get("heads", cls.heads))
        if not isinstance(s, (list, tuple)) or not all(isinstance(v, (int, float)) and v > 0 for v in s):
            raise ModelFormatError(f"{where}: hint_head 'sigmas' must be a list of positive numbers, got {s!r}")
        try:
            return cls(**d)
        except ValueError as exc:
            raise ModelFormatError(f"{where}: {one_line(exc)}") from None


@dataclass(frozen=True)
class HintHeadEntry:
    """The ``hint_head`` entry of a CNN ``config.json``: a trained hint head's settings and learned scalars."""

    config: HintHeadConfig
    #: The trained reach of each head (px at the hint head's UNIT_SIZE).
    sigmas: tuple[float, ...]
    #: The trained edge weights (lightness, a*, b*) of each head, shape (heads, 3).
    edge_weights: tuple[tuple[float, ...], ...]
    #: Reach of the refining Levin step; None: no such step.
    refine_reach: float | None = None
    #: The trained share of a hint's own colour (0 for heads trained before it existed).
    alpha: float = 0.0
    #: (gamma, sigma) of the hints' prior on the colour bins; None: none.
    bin_prior: tuple[float, float] | None = None
    #: (tau, kappa, sigma, rho0) of the hints' locality (:meth:`chromatize.models.cnn.hint_head.HintHead.key_locality`):
    #: a hint's weight falls as exp(-d / tau) with the geodesic distance d (px at UNIT_SIZE, each step costing
    #: 1 + kappa x the edge features' change), except where the network finds the hinted colour plausible
    #: (its probability within sigma a*b* units, over rho0). The fifth number, rival (0..1), is how far a farther
    #: hint still competes where a nearer one reaches: each hint's weight is the nearest hint's locality times
    #: (its own over the nearest's) ** rival; 1 (the default, and every head before it): each its own. None: no
    #: locality.
    locality: tuple[float, float, float, float, float] | None = None

    @classmethod
    def from_dict(cls, entry: object, where: str | os.PathLike) -> "HintHeadEntry":
        """Check a saved entry and return it typed.

        Raises
        ------
        ModelFormatError
            Naming ``where`` and the offending key.
        """
        where = str(where)
        if not isinstance(entry, dict) or not {"config", "sigmas", "edge_weights"} <= set(entry) <= {
                "config", "sigmas", "edge_weights", "refine_reach", "alpha", "bin_prior", "locality"}:
            raise ModelFormatError(f"{where}: 'hint_head' must be an object with 'config', 'sigmas', 'edge_weights' "
                                   "and optionally 'refine_reach', 'alpha', 'bin_prior' and 'locality'")
        config = HintHeadConfig.from_dict(entry["config"], where)
        sigmas = entry["sigmas"]
        if (not isinstance(sigmas, list) or len(sigmas) != config.heads
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in sigmas)):
            raise ModelFormatError(f"{where}: hint_head 'sigmas' must be {config.heads} positive numbers, "
                                   f"got {sigmas!r}")
        weights = entry["edge_weights"]
        try:
            ok = np.asarray(weights, np.float64).shape == (config.heads, 3) and np.all(np.asarray(weights) >= 0)
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ModelFormatError(f"{where}: hint_head 'edge_weights' must be {config.heads} lists of 3 numbers >= 0")
        reach = entry.get("refine_reach")
        if reach is not None:
            reach = check_number(reach, float, where, "refine_reach", 0.0, 1e6, low_open=True)
        return cls(config=config, sigmas=tuple(float(v) for v in sigmas),
                   edge_weights=tuple(tuple(float(v) for v in row) for row in weights), refine_reach=reach,
                   alpha=check_number(entry.get("alpha", 0.0), float, where, "alpha", 0.0, 1.0),
                   bin_prior=_read_pair(entry.get("bin_prior"), where, "bin_prior", ("gamma", "sigma")),
                   locality=parse_locality(entry.get("locality"), where))

    def to_dict(self) -> dict:
        """The entry as ``config.json`` holds it (optional keys only when set)."""
        out = {"config": asdict(self.config), "sigmas": list(self.sigmas),
               "edge_weights": [list(row) for row in self.edge_weights], "alpha": self.alpha}
        if self.refine_reach is not None:
            out["refine_reach"] = self.refine_reach
        if self.bin_prior is not None:
            out["bin_prior"] = {"gamma": self.bin_prior[0], "sigma": self.bin_prior[1]}
        if self.locality is not None:
            out["locality"] = dict(zip(LOCALITY_KEYS, self.locality))
        return out


#: The bounds of each number of the hint head's small entries: (low, high, low_open).
_PAIR_BOUNDS = {"gamma": (0.0, 100.0, False), "sigma": (0.0, 1000.0, True), "tau": (0.0, 1e6, True),
                "kappa": (0.0, 1e6, False), "rho0": (0.0, 1.0, True), "rival": (0.0, 1.0, False)}
#: The numbers of the hint head's ``locality`` entry, in order (``rival`` may be left out: 1).
LOCALITY_KEYS = ("tau", "kappa", "sigma", "rho0", "rival")


def parse_locality(entry: object, where: str) -> tuple[float, float, float, float, float] | None:
    """A hint head's ``locality`` entry (a dict of :data:`LOCALITY_KEYS`) checked and typed; None stays None.

    Raises
    ------
    ModelFormatError
        Naming ``where`` and the offending key.
    """
    if isinstance(entry, dict) and "rival" not in entry:
        entry = {**entry, "rival": 1.0}  # saved before rival existed: each hint its own locality
    return _read_pair(entry, where, "locality", LOCALITY_KEYS)


def _read_pair(entry: object, where: str, name: str, keys: tuple[str, ...]) -> tuple[float, ...] | None:
    """The numbers of a hint-head entry such as ``bin_prior`` (gamma, sigma); None stays None."""
    if entry is None:
        return None
    if not isinstance(entry, dict) or set(entry) != set(keys):
        raise ModelFormatError(f"{where}: hint_head '{name}' must be an object with "
                               f"{', '.join(repr(k) for k in keys)}, got {entry!r}")
    return tuple(check_number(entry[k], float, where, f"{name} {k}", _PAIR_BOUNDS[k][0], _PAIR_BOUNDS[k][1],
                              low_open=_PAIR_BOUNDS[k][2]) for k in keys)


@dataclass
class CNNFolderConfig:
    """The typed contents of a CNN model folder's ``config.json``."""

    #: Mean a*b* of the training photos (the mean-tint baseline).
    mean_ab: tuple[float, float]
    #: a*b* bin centres (Q, 2) for a classification model; empty for regression.
    centers: np.ndarray
    #: The network's settings (its architecture's config dict, :data:`ARCHS`; only torch reads it).
    model: dict
    decoding: Decoding = field(default_factory=Decoding)
    #: Total downsampling of the net: working sizes are multiples of it.
    stride: int = 16
    #: Input channels after L: 3 for a hint-trained net (a*b* / AB_NORM, then the hint mask), else 0.
    hint_channels: int = 0
    name: str = "cnn"
    #: The network's architecture, a key of :data:`ARCHS`.
    arch: str = "colornet"
    #: The learned hint head, when the folder has one.
    hint_head: HintHeadEntry | None = None
    #: Anything else the file records (validation metrics, training settings and state, notices).
    extra: dict = field(default_factory=dict)


#: Keys a CNN config.json may hold besides those read into CNNFolderConfig.
_RECORD_KEYS = {"family", "format_version", "val_metrics", "train", "state", "notice", "train_hints", "val_hints"}


def read_cnn_config(config: dict, where: str | os.PathLike) -> CNNFolderConfig:
    """Check a CNN ``config.json`` (already parsed) and return it typed.

    Raises
    ------
    ModelFormatError
        On a missing or unknown key, or a value of the wrong type, naming ``where`` and the key.
    """
    where = str(where)
    known = {"mean_ab", "bins", "model", "decoding", "stride", "hint_channels", "name", "arch", "hint_head"} | _RECORD_KEYS
    for key in config:
        if key not in known:
            raise ModelFormatError(f"{where}: unknown key {key!r}")
    for key in ("mean_ab", "model"):
        if key not in config:
            raise ModelFormatError(f"{where}: CNN config has no {key!r}")
    mean_ab = read_mean_ab(config, where)
    bins = config.get("bins", [])
    try:
        centers = np.asarray(bins, np.float32).reshape(-1, 2)
    except (TypeError, ValueError):
        raise ModelFormatError(f"{where}: 'bins' must be a list of [a, b] pairs") from None
    if not isinstance(config["model"], dict):
        raise ModelFormatError(f"{where}: 'model' must be an object, got {type(config['model']).__name__}")
    head = HintHeadEntry.from_dict(config["hint_head"], where) if "hint_head" in config else None
    arch = config.get("arch", "colornet")
    if not isinstance(arch, str) or arch not in ARCHS:
        raise ModelFormatError(f"{where}: unknown 'arch' {arch!r} (known: {', '.join(ARCHS)})")
    name = config.get("name", "cnn")
    if not isinstance(name, str):
        raise ModelFormatError(f"{where}: 'name' must be a string, got {name!r}")
    return CNNFolderConfig(
        mean_ab=mean_ab,
        centers=centers,
        model=config["model"],
        decoding=Decoding.from_dict(config.get("decoding", {}), where),
        stride=check_number(config.get("stride", 16), int, where, "stride", 1, 1024),
        hint_channels=check_number(config.get("hint_channels", 0), int, where, "hint_channels", 0, 3),
        name=name,
        arch=arch,
        hint_head=head,
        extra={k: v for k, v in config.items() if k in _RECORD_KEYS},
    )


def folder_config(mean_ab, centers: np.ndarray, decoding: Decoding | None = None, stride: int = 16,
                  hint_channels: int = 0, arch: str = "colornet", **extra) -> CNNFolderConfig:
    """A CNNFolderConfig for a freshly trained network (``extra`` = records such as ``train``, ``state``)."""
    return CNNFolderConfig(mean_ab=tuple(float(v) for v in mean_ab),
                           centers=np.asarray(centers, np.float32).reshape(-1, 2), model={},
                           decoding=decoding or Decoding(), stride=stride, hint_channels=hint_channels, arch=arch,
                           extra=extra)
