"""A CNN training run: its state, its set-up and its checkpoints (its settings: :class:`~chromatize.train.config.TrainConfig`).

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
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import torch

from ..data import mean_chroma
from ..pool import load_pool
from ..sources import mix_weights
from ..io import atomic_output
from ..models import bundled_model_dir
from ..models.cnn import CNNFolderConfig, Decoding, folder_config
from ..models.cnn.small_net import CNNConfig, ColorNet
from ..models.cnn.torch_io import load_torch, save_model
from .bins import color_stats, rebalance_weights
from .config import TrainConfig
from .run_loop import LoopState
from .tune import RENDER_SIZE, ValidationSet

__all__ = ["RunState", "Run", "setup_run", "save_checkpoint"]


@dataclass
class RunState(LoopState):
    """Where a run is; saved with every checkpoint so that ``resume`` continues from it."""

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
    #: per training photo, its probability of being drawn (the mix's weights); None: epochs in a seeded order
    weights: np.ndarray | None = None
    holdout: ValidationSet = field(default_factory=lambda: ValidationSet([]))  #: whole folders never trained on
    init_dir: Path | None = None  #: the model a fine-tune started from (its hint head may be carried over)
    rank: int = 0  #: this process's share of each batch is share ``rank`` of ``world``
    world: int = 1  #: processes that share each batch (1: a one-process run)
    ddp: torch.nn.Module | None = None  #: ``model`` wrapped in DistributedDataParallel, in a distributed run

    @property
    def batch(self) -> int:
        """The global batch size (all processes together)."""
        return min(self.config.batch_size, len(self.train))

    @property
    def validate_every(self) -> int:
        """Steps between validations: ``val_every``, or an epoch but at least 100 steps."""
        return self.config.val_every or max(self.steps_per_epoch, 100)

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
    config, state = _run_settings(out, config, resume, overwrite)
    pool = load_pool(data, config.long_side, config.val_split, config.seed, mix=config.mix, holdout=config.holdout,
                     holdout_groups=config.holdout_groups, store=config.store or None)
    # gray photos leave the training side only, so that the validation split stays the same for any min_chroma
    keep = [i for i, p in enumerate(pool.train) if not config.min_chroma or mean_chroma(p) >= config.min_chroma]
    train = [pool.train[i] for i in keep]
    device = _device(config.device)
    init_dir = _init_dir(config.init) if config.init else None
    model, mean_ab, centers, counts, start_decoding = _start_model(config, train, out if resume else init_dir)
    model.to(device).train()
    class_w = _class_weights(centers, counts, config, state, device)
    opt = torch.optim.AdamW(_param_groups(model, config))
    if resume and (out / "optimizer.safetensors").is_file():
        _load_optimizer(opt, out / "optimizer.safetensors")
    decoding = start_decoding or Decoding(render_size=RENDER_SIZE, temperature=0.38 if len(centers) else 1.0,
                                          mix=0.0 if len(centers) else 1.0)
    folder = folder_config(mean_ab, centers, decoding, stride=model.stride, hint_channels=model.hint_channels,
                           arch=model.arch)
    steps_per_epoch = max(1, len(train) // min(config.batch_size, len(train)))
    return Run(out=out, config=config, state=state, model=model, opt=opt, folder=folder, train=train,
               val=ValidationSet(pool.val, pool.val_sources), device=device,
               centers=torch.from_numpy(centers).to(device), class_w=class_w, steps_per_epoch=steps_per_epoch,
               total=config.steps or config.epochs * steps_per_epoch,
               weights=mix_weights(config.mix, [pool.train_sources[i] for i in keep]),
               holdout=ValidationSet(pool.holdout, pool.holdout_sources), init_dir=init_dir)


def _run_settings(out: Path, config: TrainConfig | None, resume: bool, overwrite: bool) -> tuple[TrainConfig, RunState]:
    """The settings and the state a run starts with: a saved run's (``resume``), else ``config``'s and step 0."""
    saved = _saved_run(out)
    if resume:
        if saved is None:
            raise ValueError(f"{out}: no training run to resume")
        return TrainConfig.from_dict(saved["train"]), RunState(**saved["state"])
    if (out / "config.json").exists() and not overwrite:
        raise FileExistsError(f"{out}: holds a run already (use --resume to continue it or --overwrite)")
    return config or TrainConfig(), RunState()


def _start_model(config: TrainConfig, train: list[np.ndarray],
                 start: Path | None) -> tuple[torch.nn.Module, np.ndarray, np.ndarray, np.ndarray, Decoding | None]:
    """The network a run starts from (loaded from ``start``, or new and seeded) and the photos' colour statistics.

    Returns
    -------
    model, mean_ab, centers, counts, decoding
        ``centers`` (Q, 2) is empty for a regression network; ``counts`` are
        the training pixels nearest each bin; ``decoding`` is the start
        model's (None for a new network).
    """
    decoding = None
    if start is not None:
        model, start_cfg = load_torch(start)
        mean_ab, centers, counts = color_stats(train, start_cfg.centers)
        decoding = start_cfg.decoding
    else:
        mean_ab, centers, counts = color_stats(train)
        if config.loss != "classify":
            centers = np.zeros((0, 2), np.float32)
        with torch.random.fork_rng(devices=[]):  # seeded initial weights, global state untouched
            torch.manual_seed(config.seed)
            model = new_net(config, len(centers))
    if model.config.n_out == 2:  # a regression network: no bins
        centers = np.zeros((0, 2), np.float32)
    if config.hint_inputs and not model.hint_channels:
        if config.arch != "effnet":
            raise ValueError("hint training (--hint-inputs) needs --arch effnet")
        from ..models.cnn.effnet_net import widen_input

        model = widen_input(model, 3)
    if config.crop % model.stride:
        raise ValueError(f"crop must be a multiple of {model.stride} for {config.arch}, got {config.crop}")
    return model, mean_ab, centers, counts, decoding


def _class_weights(centers: np.ndarray, counts: np.ndarray, config: TrainConfig, state: RunState,
                   device: torch.device) -> torch.Tensor | None:
    """Zhang's rebalancing weights of the bins (None without bins); a resumed run's saved ones, else recorded in ``state``."""
    if not len(centers):
        return None
    class_w = torch.from_numpy(rebalance_weights(centers, counts, config.rebalance)).to(device)
    if len(state.class_weights) == len(class_w):
        return torch.tensor(state.class_weights, dtype=torch.float32, device=device)
    state.class_weights = class_w.tolist()
    return class_w


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
