"""A CNN training run: its settings (:class:`TrainConfig`), its state, its set-up and its checkpoints.

:func:`setup_run` reads the photos, splits them and builds (or loads, to
resume or fine-tune) the network and optimiser; :func:`save_checkpoint` saves
the run into its folder ``out`` (``config.json`` with the settings and the
:class:`RunState`, ``weights.safetensors``, ``optimizer.safetensors``), from
which ``resume`` continues. The loop that trains a run is in
:mod:`chromatize.train.cnn`, whose docstring describes the run folder.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import torch

from ..data import load_photos, mean_chroma, split_validation
from ..io import atomic_output, list_images
from ..models import bundled_model_dir
from ..models.cnn import CNNFolderConfig, Decoding, folder_config
from ..models.cnn.small_net import CNNConfig, ColorNet
from ..models.cnn.torch_io import load_torch, save_model
from .bins import color_stats, rebalance_weights
from .tune import RENDER_SIZE, ValidationSet

__all__ = ["TrainConfig", "RunState", "Run", "setup_run", "save_checkpoint"]


@dataclass
class TrainConfig:
    """Settings of a training run; saved in ``config.json`` under ``train``."""

    arch: str = "colornet"  #: "colornet" (from scratch) or "effnet" (pretrained EfficientNet-Lite0 encoder)
    loss: str = "classify"  #: "classify" (bins + regression head), or "l2" / "l1" (regression only)
    reg_loss: str = "l2"  #: loss of the regression head next to the bins: "l2" or "l1"
    epochs: int = 20  #: passes over the training photos (one crop each)
    steps: int = 0  #: total steps; 0 = derived from ``epochs``
    batch_size: int = 32
    crop: int = 128  #: training crop side (multiple of 16)
    long_side: int = 256  #: photos are resized so their longer side is this (as at inference)
    lr: float = 2e-3  #: peak learning rate (AdamW, warm-up then cosine decay)
    lr_encoder: float = 0.0  #: peak learning rate of a pretrained encoder (0 = ``lr``)
    pretrained: bool = True  #: start a pretrained encoder from its ImageNet weights (effnet)
    weight_decay: float = 1e-4
    warmup_steps: int = 150
    reg_weight: float = 1.0  #: weight of the regression head next to the cross entropy
    rebalance: float = 0.5  #: lambda of Zhang's class rebalancing (1 = none)
    seed: int = 0
    val_split: int = 200  #: photos held out for validation and decoding tuning
    val_quick: int = 100  #: of these, photos scored after each epoch (all are used for the final tuning)
    checkpoint_every: int = 200  #: steps between checkpoints
    time_budget_min: float = 0.0  #: stop (and finish the schedule) after this many minutes; 0 = no limit
    device: str = "auto"  #: "cpu", "cuda" or "auto"
    threads: int = 2  #: torch CPU threads
    widths: tuple = ()  #: the network's channel widths; () = the architecture's default
    tune_render_sizes: tuple = (256,)  #: working sizes tried when the decoding is tuned
    hints: bool = False  #: train with simulated point hints as extra inputs (Zhang et al. 2017; effnet)
    min_chroma: float = 0.0  #: drop training photos (not validation ones) whose mean a*b* chroma is below this
    init: str = ""  #: "" = random, "default" = the bundled model, or a model folder

    def __post_init__(self):
        self.widths = tuple(int(w) for w in self.widths)
        self.tune_render_sizes = tuple(int(s) for s in self.tune_render_sizes)
        if self.arch not in ("colornet", "effnet"):
            raise ValueError(f"arch must be 'colornet' or 'effnet', got {self.arch!r}")
        if self.loss not in ("classify", "l2", "l1") or self.reg_loss not in ("l2", "l1"):
            raise ValueError(f"loss must be classify, l2 or l1 and reg_loss l2 or l1, got {self.loss!r}, {self.reg_loss!r}")

    @property
    def regression_loss(self) -> str:
        """The loss of the regression head."""
        return self.reg_loss if self.loss == "classify" else self.loss

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        """Build from a saved dict; unknown keys are an error."""
        extra = set(d) - {f.name for f in fields(cls)}
        if extra:
            raise ValueError(f"unknown training settings: {', '.join(sorted(extra))}")
        return cls(**d)


@dataclass
class RunState:
    """Where a run is; saved with every checkpoint so that ``resume`` continues from it."""

    step: int = 0
    elapsed_s: float = 0.0  #: training time so far (resumed runs add to it)
    best_score: float = -1e9  #: selection score of ``out/best``
    epoch: int = 0
    #: class-rebalancing weights the run started with; a resumed run reuses them
    #: (recounting the photos by nearest bin would give other weights, and other steps)
    class_weights: list = field(default_factory=list)


@dataclass
class Run:
    """A training run in progress: settings, data, network, optimiser and state."""

    out: Path
    config: TrainConfig
    state: RunState
    model: torch.nn.Module
    opt: torch.optim.Optimizer
    folder: CNNFolderConfig  #: mean a*b*, bins and decoding saved beside the weights
    train: list[np.ndarray]
    val: ValidationSet
    device: torch.device
    centers: torch.Tensor  #: (Q, 2) bins, empty for a regression model
    class_w: torch.Tensor | None  #: (Q,) rebalancing weights
    steps_per_epoch: int
    total: int  #: planned steps (a time budget may end the run earlier)
    rank: int = 0  #: this process's share of each batch is share ``rank`` of ``world``
    world: int = 1  #: processes that share each batch (1: a one-process run)
    ddp: torch.nn.Module | None = None  #: ``model`` wrapped in DistributedDataParallel, in a distributed run

    @property
    def batch(self) -> int:
        """The global batch size (all processes together)."""
        return min(self.config.batch_size, len(self.train))

    @property
    def positions(self) -> range:
        """Positions, within the global batch, of the samples this process draws."""
        per = self.batch // self.world
        return range(self.rank * per, (self.rank + 1) * per)


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run with ``n`` torch CPU threads, restoring the caller's setting afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def _init_dir(init: str) -> Path:
    return bundled_model_dir("cnn") if init == "default" else Path(init)


def _saved_run(out: Path) -> dict | None:
    path = out / "config.json"
    if not path.is_file():
        return None
    saved = json.loads(path.read_text())
    return saved if "train" in saved and "state" in saved else None


def setup_run(data: Sequence[str | os.PathLike], out: str | os.PathLike, config: TrainConfig | None = None,
              *, resume: bool = False, overwrite: bool = False) -> Run:
    """Read the photos, split them, build (or load) the network and optimiser.

    Raises
    ------
    FileExistsError
        If ``out`` holds a run and neither ``resume`` nor ``overwrite`` is set.
    ValueError
        If there is no run to resume, too few photos, or bad settings.
    """
    out = Path(out)
    state = RunState()
    saved = _saved_run(out)
    if resume:
        if saved is None:
            raise ValueError(f"{out}: no training run to resume")
        config = TrainConfig.from_dict(saved["train"])
        state = RunState(**saved["state"])
    elif (out / "config.json").exists() and not overwrite:
        raise FileExistsError(f"{out}: holds a run already (use --resume to continue it or --overwrite)")
    config = config or TrainConfig()

    photos = load_photos(list_images(data, recursive=True), config.long_side)
    if len(photos) < 2:
        raise ValueError(f"found {len(photos)} readable photo(s) in {', '.join(map(str, data))}; need at least 2")
    n_val = min(config.val_split, len(photos) // 5) if config.val_split else 0
    val_idx, train_idx = split_validation(len(photos), n_val, config.seed)
    # gray photos leave the training side only, so that the validation split stays the same for any min_chroma
    train = [photos[i] for i in train_idx if not config.min_chroma or mean_chroma(photos[i]) >= config.min_chroma]
    val = ValidationSet([photos[i] for i in val_idx])

    device = _device(config.device)
    start = out if resume else (_init_dir(config.init) if config.init else None)
    if start is not None:
        model, start_cfg = load_torch(start)
        mean_ab, centers, counts = color_stats(train, start_cfg.centers)
    else:
        mean_ab, centers, counts = color_stats(train)
        if config.loss != "classify":
            centers = np.zeros((0, 2), np.float32)
        with torch.random.fork_rng(devices=[]):  # seeded initial weights, global state untouched
            torch.manual_seed(config.seed)
            model = new_net(config, len(centers))
    if model.config.n_out == 2:  # a regression network: no bins
        centers = np.zeros((0, 2), np.float32)
    if config.hints and not model.hint_channels:
        if config.arch != "effnet":
            raise ValueError("hint training (--hints) needs --arch effnet")
        from ..models.cnn.effnet_net import widen_input

        model = widen_input(model, 3)
    if config.crop % model.stride:
        raise ValueError(f"crop must be a multiple of {model.stride} for {config.arch}, got {config.crop}")
    model.to(device).train()
    class_w = torch.from_numpy(rebalance_weights(centers, counts, config.rebalance)).to(device) if len(centers) else None
    if class_w is not None and len(state.class_weights) == len(class_w):
        class_w = torch.tensor(state.class_weights, dtype=torch.float32, device=device)
    elif class_w is not None:
        state.class_weights = class_w.tolist()

    opt = torch.optim.AdamW(_param_groups(model, config))
    if resume and (out / "optimizer.safetensors").is_file():
        _load_optimizer(opt, out / "optimizer.safetensors")
    decoding = Decoding(render_size=RENDER_SIZE, temperature=0.38 if len(centers) else 1.0, mix=0.0 if len(centers) else 1.0)
    folder = folder_config(mean_ab, centers, decoding, stride=model.stride, hint_channels=model.hint_channels,
                           arch=model.arch)
    steps_per_epoch = max(1, len(train) // min(config.batch_size, len(train)))
    return Run(out=out, config=config, state=state, model=model, opt=opt, folder=folder, train=train, val=val,
               device=device, centers=torch.from_numpy(centers).to(device), class_w=class_w,
               steps_per_epoch=steps_per_epoch, total=config.steps or config.epochs * steps_per_epoch)


def new_net(config: TrainConfig, n_bins: int) -> torch.nn.Module:
    """A freshly initialised network for ``config`` (with ImageNet weights in a pretrained encoder)."""
    widths = {"widths": config.widths} if config.widths else {}
    if config.arch == "colornet":
        return ColorNet(CNNConfig(loss="classify" if n_bins else "l2", n_bins=n_bins, **widths))
    from ..models.cnn.effnet_encoder import load_pretrained_encoder
    from ..models.cnn.effnet_net import EffUNet, EffUNetConfig

    net = EffUNet(EffUNetConfig(n_bins=n_bins, **widths))
    if config.pretrained:
        load_pretrained_encoder(net.encoder)
    return net


def _param_groups(model: torch.nn.Module, config: TrainConfig) -> list[dict]:
    """AdamW groups, each with its ``base_lr`` (the schedule scales it): a pretrained encoder gets ``lr_encoder``."""
    if config.arch == "effnet":
        from ..models.cnn.effnet_net import param_groups

        groups = param_groups(model, config.lr_encoder or config.lr, config.lr, config.weight_decay)
    else:
        groups = [{"params": list(model.parameters()), "lr": config.lr, "weight_decay": config.weight_decay}]
    return [{**g, "base_lr": g["lr"]} for g in groups]


def save_checkpoint(run: Run, folder: Path | None = None) -> None:
    """Save the run (weights, optimiser, settings and state) into ``out``, or just the model into ``folder``."""
    if folder is None:
        extra = {"train": asdict(run.config), "state": asdict(run.state)}
        save_model(run.model, run.out, replace(run.folder, extra=extra))
        _save_optimizer(run.opt, run.out / "optimizer.safetensors")
    else:
        save_model(run.model, folder, run.folder)


def _save_optimizer(opt: torch.optim.Optimizer, path: Path) -> None:
    from safetensors.torch import save_file

    flat = {f"{i}.{k}": v.detach().cpu().reshape(-1) if v.ndim == 0 else v.detach().cpu().contiguous()
            for i, st in opt.state_dict()["state"].items() for k, v in st.items()}
    with atomic_output(path) as tmp:
        save_file(flat, str(tmp))


def _load_optimizer(opt: torch.optim.Optimizer, path: Path) -> None:
    from safetensors.torch import load_file

    flat = load_file(str(path))
    sd = opt.state_dict()
    state: dict = {}
    for key, v in flat.items():
        i, k = key.split(".", 1)
        state.setdefault(int(i), {})[k] = v.reshape(()) if k == "step" else v
    sd["state"] = state
    opt.load_state_dict(sd)
