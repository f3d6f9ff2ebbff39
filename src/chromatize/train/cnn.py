"""Training the CNN colorizer: set-up, step, validation, checkpoints, resume.

A run writes into one folder ``out``: ``config.json`` (the model and training
configs plus the loop's :class:`RunState`), ``weights.safetensors``,
``optimizer.safetensors`` and ``log.jsonl`` (one line per validation);
``out/best/`` holds the model that scored best on the held-out split, with its
decoding tuned and ``model.onnx`` exported. ``chromatize colorize --model out``
and ``load_model(out)`` use ``out/best``.

All randomness comes from the seed: the split, the epoch order
(``default_rng([seed, epoch])``) and, for each sample ``i`` of a batch, its
crop, flip and simulated hints (``default_rng([seed, 1, step, i])``), so that
a resumed run draws the same batches as an uninterrupted one, and a process of
a distributed run (:mod:`chromatize.train.distributed`) can draw just its
share of the batch: the union of the shares is the one-process batch.
"""

from __future__ import annotations

import json
import os
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np
import torch

from ..data import load_photos, mean_chroma, random_crops, simulate_hints, split_validation
from ..io import atomic_output, list_images
from ..models import bundled_model_dir
from ..models.cnn import OUT_STRIDE, CNNFolderConfig, Decoding
from ..models.cnn_torch import (
    CNNConfig, ColorNet, TorchCNN, export_onnx, folder_config, load_torch, loss_fn, save_model,
)
from ..color import AB_NORM, normalise_L
from .bins import color_stats, rebalance_weights
from .tune import RENDER_SIZE, ValidationSet, tune_decoding, validate

__all__ = ["TrainConfig", "RunState", "Run", "setup_run", "draw_batch", "train_step", "save_checkpoint", "validate_run",
           "finish_run", "train_cnn"]


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
    if model.config.n_bins == 0 or getattr(model.config, "loss", "") == "l2":
        centers = np.zeros((0, 2), np.float32)
    if config.hints and not getattr(model.config, "extra_in", 0):
        if config.arch != "effnet":
            raise ValueError("hint training (--hints) needs --arch effnet")
        from ..models.effnet_torch import widen_input

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
    folder = folder_config(mean_ab, centers, decoding, stride=model.stride,
                           hint_channels=getattr(model.config, "extra_in", 0))
    steps_per_epoch = max(1, len(train) // min(config.batch_size, len(train)))
    return Run(out=out, config=config, state=state, model=model, opt=opt, folder=folder, train=train, val=val,
               device=device, centers=torch.from_numpy(centers).to(device), class_w=class_w,
               steps_per_epoch=steps_per_epoch, total=config.steps or config.epochs * steps_per_epoch)


def new_net(config: TrainConfig, n_bins: int) -> torch.nn.Module:
    """A freshly initialised network for ``config`` (with ImageNet weights in a pretrained encoder)."""
    widths = {"widths": config.widths} if config.widths else {}
    if config.arch == "colornet":
        return ColorNet(CNNConfig(loss="classify" if n_bins else "l2", n_bins=n_bins, **widths))
    from ..models.effnet_torch import EffUNet, EffUNetConfig, load_pretrained_encoder

    net = EffUNet(EffUNetConfig(n_bins=n_bins, **widths))
    if config.pretrained:
        load_pretrained_encoder(net.encoder)
    return net


def _param_groups(model: torch.nn.Module, config: TrainConfig) -> list[dict]:
    """AdamW groups, each with its ``base_lr`` (the schedule scales it): a pretrained encoder gets ``lr_encoder``."""
    if config.arch == "effnet":
        from ..models.effnet_torch import param_groups

        groups = param_groups(model, config.lr_encoder or config.lr, config.lr, config.weight_decay)
    else:
        groups = [{"params": list(model.parameters()), "lr": config.lr, "weight_decay": config.weight_decay}]
    return [{**g, "base_lr": g["lr"]} for g in groups]


def progress_fraction(run: Run) -> float:
    """How far the schedule is: the larger of steps done / planned and time used / budget."""
    budget = run.config.time_budget_min * 60.0
    return max(run.state.step / run.total, run.state.elapsed_s / budget if budget else 0.0)


def draw_batch(run: Run, step: int, positions: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """The samples at ``positions`` of batch ``step``: network inputs and target a*b*.

    Sample ``i`` of a batch is photo ``i`` of the step's slice of the epoch
    order, cropped, flipped and hinted with its own generator
    ``default_rng([seed, 1, step, i])``, so any subset of positions can be drawn
    on its own and gives the same samples as the whole batch.

    Returns
    -------
    x : ndarray of float32, shape (len(positions), 1 or 4, crop, crop)
        Normalised L, then the hint channels in a hint-trained run.
    ab : ndarray of float32, shape (len(positions), 2, crop / 4, crop / 4)
        Target a*b*, real Lab units.
    """
    cfg = run.config
    epoch, k = divmod(step, run.steps_per_epoch)
    perm = np.random.default_rng([cfg.seed, epoch]).permutation(len(run.train))
    idx = perm[k * run.batch : (k + 1) * run.batch]
    xs, abs_ = [], []
    for i in positions:
        rng = np.random.default_rng([cfg.seed, 1, step, i])
        L, ab, ab_full = random_crops(run.train, [idx[i]], cfg.crop, rng, OUT_STRIDE, full_ab=True)
        x = normalise_L(L)  # (1, 1, c, c)
        if run.folder.hint_channels:
            x = np.concatenate([x, simulate_hints(ab_full, rng, ab_norm=AB_NORM)], axis=1)  # (1, 4, c, c)
        xs.append(x)
        abs_.append(ab)
    return np.concatenate(xs), np.concatenate(abs_)


def train_step(run: Run) -> tuple[float, float]:
    """One optimiser step on the next batch (this process's share of it); returns (loss, learning rate)."""
    cfg, step = run.config, run.state.step
    x, ab = draw_batch(run, step, run.positions)  # (b, 1 or 4, c, c), (b, 2, c/4, c/4)
    frac = progress_fraction(run)
    scale = min(1.0, (step + 1) / cfg.warmup_steps) * (0.02 + 0.98 * 0.5 * (1 + np.cos(np.pi * min(frac, 1.0))))
    for g in run.opt.param_groups:
        g["lr"] = g["base_lr"] * scale
    net = run.model if run.ddp is None else run.ddp  # DDP averages the gradients over the processes
    out = net(torch.from_numpy(x).to(run.device))  # (b, n_out, c/4, c/4)
    loss = loss_fn(out, torch.from_numpy(ab).to(run.device), run.centers, run.class_w, cfg.reg_weight,
                   cfg.regression_loss)
    run.opt.zero_grad(set_to_none=True)
    loss.backward()
    run.opt.step()
    run.state.step = step + 1
    return loss.item(), cfg.lr * scale


def save_checkpoint(run: Run, folder: Path | None = None) -> None:
    """Save the run (weights, optimiser, settings and state) into ``out``, or just the model into ``folder``."""
    if folder is None:
        extra = {"train": asdict(run.config), "state": asdict(run.state)}
        save_model(run.model, run.out, replace(run.folder, extra=extra))
        _save_optimizer(run.opt, run.out / "optimizer.safetensors")
    else:
        save_model(run.model, folder, run.folder)


def validate_run(run: Run) -> dict:
    """Score the current network on the quick validation photos and keep it in ``out/best`` if it is the best."""
    run.model.eval()
    metrics = validate(TorchCNN(run.model, run.folder, run.device), run.val.head(run.config.val_quick))
    run.model.train()
    st = run.state
    line = {"step": st.step, "epoch": st.epoch, "elapsed_s": round(st.elapsed_s, 1), **metrics}
    run.out.mkdir(parents=True, exist_ok=True)
    with open(run.out / "log.jsonl", "a") as f:
        f.write(json.dumps(line) + "\n")
    score = metrics.get("score", 0.0)
    if score > st.best_score or not (run.out / "best" / "config.json").is_file():
        st.best_score = score
        save_checkpoint(run, run.out / "best")
    return metrics


def finish_best(folder: Path, val: ValidationSet, device: torch.device, render_sizes=(RENDER_SIZE,)) -> dict:
    """Tune the decoding of the model in ``folder`` on the validation photos and export it to ONNX."""
    model, cfg = load_torch(folder)
    model.to(device).eval()
    metrics = {}
    if len(val):
        decoding, metrics = tune_decoding(TorchCNN(model, cfg, device), val, render_sizes=render_sizes)
        cfg = replace(cfg, decoding=decoding)
    cfg = replace(cfg, extra={**cfg.extra, "val_metrics": metrics})
    save_model(model.cpu(), folder, cfg)
    export_onnx(model, folder / "model.onnx")
    return metrics


def train_cnn(
    data: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    config: TrainConfig | None = None,
    *,
    resume: bool = False,
    overwrite: bool = False,
    progress: Callable[[dict], None] | None = None,
) -> dict:
    """Train (or resume, or fine-tune) the CNN colorizer, in this process.

    Several processes started by torchrun train together with
    :func:`chromatize.train.distributed.train_cnn_distributed` instead (the CLI
    picks it when ``WORLD_SIZE`` is set).

    Parameters
    ----------
    data : sequence of path
        Image files or folders (searched recursively).
    out : path
        Run folder (see the module docstring). With ``resume`` the run in it
        continues with its saved settings (``config`` is ignored).
    config : TrainConfig, optional
    resume : bool
    overwrite : bool
        Allow starting a new run in a folder that already holds one.
    progress : callable, optional
        Called with a dict after each step (``step``, ``total``, ``loss``, ``lr``)
        and after each validation (``val`` = metrics dict, ``epoch``, ``step``).

    Returns
    -------
    dict
        ``step``, ``elapsed_s``, ``best`` (validation metrics of ``out/best``),
        ``best_dir`` and ``interrupted``.

    Raises
    ------
    FileExistsError
        If ``out`` holds a run and neither ``resume`` nor ``overwrite`` is set.
    ValueError
        If no photos are found or the settings are invalid.
    KeyboardInterrupt
        Re-raised after a checkpoint is saved.
    """
    run = setup_run(data, out, config, resume=resume, overwrite=overwrite)
    with torch_threads(run.config.threads):
        return _loop(run, progress)


def _loop(run: Run, progress: Callable[[dict], None] | None) -> dict:
    st = run.state
    t0 = time.time() - st.elapsed_s
    running = None
    try:
        while progress_fraction(run) < 1.0:
            loss, lr = train_step(run)
            st.elapsed_s = time.time() - t0
            running = loss if running is None else 0.98 * running + 0.02 * loss
            if progress is not None:
                progress({"step": st.step, "total": run.total, "loss": running, "lr": lr})
            if st.step % run.steps_per_epoch == 0:
                st.epoch = st.step // run.steps_per_epoch
                _report(validate_run(run), st, progress)
            if st.step % run.config.checkpoint_every == 0:
                save_checkpoint(run)
    except KeyboardInterrupt:
        st.elapsed_s = time.time() - t0
        save_checkpoint(run)
        raise
    return finish_run(run, progress)


def finish_run(run: Run, progress: Callable[[dict], None] | None = None) -> dict:
    """After the last step: validate a last partial epoch, save, tune and export ``out/best``.

    Returns
    -------
    dict
        As :func:`train_cnn` returns.
    """
    st = run.state
    if st.step % run.steps_per_epoch:  # a last, partial epoch
        _report(validate_run(run), st, progress)
    save_checkpoint(run)
    if not (run.out / "best" / "config.json").is_file():
        save_checkpoint(run, run.out / "best")
    best = finish_best(run.out / "best", run.val, run.device, run.config.tune_render_sizes)
    return {"step": st.step, "elapsed_s": st.elapsed_s, "best": best, "best_dir": str(run.out / "best"),
            "interrupted": False}


def _report(metrics: dict, st: RunState, progress) -> None:
    if progress is not None:
        progress({"val": metrics, "epoch": st.epoch, "step": st.step})


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
