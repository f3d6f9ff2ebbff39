"""Training the CNN colorizer: data, loop, validation, checkpoints, resume.

A run writes into one folder ``out``: ``config.json`` (the model and training
configs plus the loop's state), ``weights.safetensors``, ``optimizer.safetensors``
and ``log.jsonl`` (one line per validation); ``out/best/`` holds the model that
scored best on the held-out split, with its decoding tuned and ``model.onnx``
exported, ready for ``chromatize colorize --model out/best``.

All randomness comes from the seed: the split, the epoch order
(``default_rng([seed, epoch])``) and each batch's crops
(``default_rng([seed, 1, step])``), so that a resumed run draws the same
batches as an uninterrupted one.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Sequence

import cv2
import numpy as np
import torch

from .color import rgb_to_lab
from .fileutil import atomic_output
from .io import ImageReadError, list_images, read_image
from .models.cnn import CNNConfig, ColorNet, export_onnx, load_torch, loss_fn, normalise_L, save_model
from .models.cnn_onnx import OUT_STRIDE, ab_bins, rebalance_weights
from .train_cnn_eval import TorchCNN, tune_decoding, validate

__all__ = ["TrainConfig", "load_photos", "train_cnn", "retune"]


@dataclass
class TrainConfig:
    """Settings of a training run; saved in ``config.json`` under ``train``."""

    loss: str = "classify"  #: "l2" or "classify"
    epochs: int = 20  #: passes over the training photos (one crop each)
    steps: int = 0  #: total steps; 0 = derived from ``epochs``
    batch_size: int = 32
    crop: int = 128  #: training crop side (multiple of 16)
    long_side: int = 256  #: photos are resized so their longer side is this (as at inference)
    lr: float = 2e-3  #: peak learning rate (AdamW, warm-up then cosine decay)
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
    widths: tuple = (32, 64, 128, 256)
    init: str = ""  #: "" = random, "default" = the bundled model, or a model folder


def load_photos(paths: Sequence[Path], long_side: int, progress: Callable[[int], None] | None = None) -> list[np.ndarray]:
    """Read photos and resize each so its longer side is ``long_side``; unreadable files are skipped."""
    out = []
    for p in paths:
        try:
            rgb = read_image(p).rgb
        except ImageReadError:
            rgb = None
        if rgb is not None and min(rgb.shape[:2]) >= 16:
            h, w = rgb.shape[:2]
            s = long_side / max(h, w)
            size = (max(16, round(w * s)), max(16, round(h * s)))
            interp = cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC
            out.append(cv2.resize(rgb, size, interpolation=interp))
        if progress is not None:
            progress(1)
    return out


def sample_batch(photos: list[np.ndarray], idx: np.ndarray, crop: int, rng: np.random.Generator, flip: bool = True):
    """Random square crops (side between ``crop`` and the photo's shorter side, resized to ``crop``) and flips.

    Returns L (B, 1, crop, crop) in 0..100 and a*b* (B, 2, crop/4, crop/4), float32 tensors.
    """
    crops = []
    for i in idx:
        rgb = photos[i]
        h, w = rgb.shape[:2]
        side = int(rng.integers(min(crop, h, w), min(h, w) + 1))
        y, x = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        c = rgb[y : y + side, x : x + side]
        interp = cv2.INTER_AREA if side > crop else cv2.INTER_LINEAR
        c = cv2.resize(c, (crop, crop), interpolation=interp) if side != crop else c
        crops.append(c[:, ::-1] if flip and rng.random() < 0.5 else c)
    lab = rgb_to_lab(np.concatenate(crops, axis=0)).reshape(len(idx), crop, crop, 3)  # (B, c, c, 3)
    small = crop // OUT_STRIDE
    ab = np.stack([cv2.resize(im[..., 1:], (small, small), interpolation=cv2.INTER_AREA) for im in lab])
    L = torch.from_numpy(np.ascontiguousarray(lab[..., 0]))[:, None]
    return L, torch.from_numpy(ab).permute(0, 3, 1, 2).contiguous()


def color_stats(photos: list[np.ndarray], centers: np.ndarray | None = None):
    """Mean a*b*, bin centres and counts of the training photos (at 1/8 size)."""
    abs_ = [rgb_to_lab(cv2.resize(p, (max(1, p.shape[1] // 8), max(1, p.shape[0] // 8)), interpolation=cv2.INTER_AREA))[..., 1:].reshape(-1, 2) for p in photos]
    ab = np.concatenate(abs_)
    mean_ab = [float(v) for v in ab.mean(0)]
    if centers is None:
        centers, counts = ab_bins(ab)
    else:  # fine-tuning keeps the bins of the initial model: count by nearest centre
        near = np.argmin(((ab[:, None, :] - centers[None]) ** 2).sum(-1), axis=1)
        counts = np.bincount(near, minlength=len(centers)) + 1
    return mean_ab, centers, counts


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


def _resolve_init(init: str) -> Path:
    if init == "default":
        from .models import _weights_dir

        return _weights_dir() / "cnn"
    return Path(init)


def train_cnn(
    data: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    config: TrainConfig | None = None,
    *,
    resume: bool = False,
    overwrite: bool = False,
    progress: Callable[[dict], None] | None = None,
) -> dict:
    """Train (or resume, or fine-tune) the CNN colorizer.

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
        Called with a dict after each step (``step``, ``total``, ``loss``) and
        after each validation (``val`` = metrics dict, ``epoch``).

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
    out = Path(out)
    state = {"step": 0, "elapsed_s": 0.0, "best_score": -1e9, "epoch": 0}
    if resume:
        saved = json.loads((out / "config.json").read_text()) if (out / "config.json").is_file() else None
        if saved is None or "train" not in saved:
            raise ValueError(f"{out}: no training run to resume")
        config = TrainConfig(**saved["train"])
        state.update(saved["state"])
    elif (out / "config.json").exists() and not overwrite:
        raise FileExistsError(f"{out}: holds a run already (use --resume to continue it or --overwrite)")
    config = config or TrainConfig()
    if config.crop % 16:
        raise ValueError(f"crop must be a multiple of 16, got {config.crop}")
    torch.set_num_threads(config.threads)
    device = torch.device("cuda" if config.device == "auto" and torch.cuda.is_available() else
                          ("cpu" if config.device == "auto" else config.device))

    files = list_images(data, recursive=True)
    photos = load_photos(files, config.long_side)
    if len(photos) < 2:
        raise ValueError(f"found {len(photos)} readable photo(s) in {', '.join(map(str, data))}; need at least 2")
    order = np.random.default_rng(config.seed).permutation(len(photos))
    n_val = min(config.val_split, len(photos) // 5) if config.val_split else 0
    val = [photos[i] for i in order[:n_val]]
    train = [photos[i] for i in order[n_val:]]

    init_dir = _resolve_init(config.init) if config.init else None
    if resume:
        model, saved_cfg = load_torch(out)
        centers = np.asarray(saved_cfg.get("bins") or [], np.float32).reshape(-1, 2)
        mean_ab, _, counts = color_stats(train, centers if len(centers) else None)
    elif init_dir is not None:
        model, saved_cfg = load_torch(init_dir)
        centers = np.asarray(saved_cfg.get("bins") or [], np.float32).reshape(-1, 2)
        mean_ab, _, counts = color_stats(train, centers if len(centers) else None)
    else:
        mean_ab, centers, counts = color_stats(train)
        mcfg = CNNConfig(widths=config.widths, loss=config.loss, n_bins=len(centers) if config.loss == "classify" else 0)
        with torch.random.fork_rng(devices=[]):  # seeded initial weights, global state untouched
            torch.manual_seed(config.seed)
            model = ColorNet(mcfg)
    mcfg = model.config
    if mcfg.loss == "l2":
        centers = np.zeros((0, 2), np.float32)
    model.to(device)
    t_centers = torch.from_numpy(centers).to(device)
    t_w = torch.from_numpy(rebalance_weights(centers, counts, config.rebalance)).to(device) if len(centers) else None

    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    if resume and (out / "optimizer.safetensors").is_file():
        _load_optimizer(opt, out / "optimizer.safetensors")
    bs = min(config.batch_size, len(train))
    steps_per_epoch = max(1, len(train) // bs)
    total = config.steps or config.epochs * steps_per_epoch
    budget = config.time_budget_min * 60.0
    extra = {"name": "cnn", "mean_ab": mean_ab, "bins": centers.tolist(), "render_size": 256,
             "temperature": 0.38, "mix": 0.0, "saturation": 1.0}

    def save(folder: Path, with_state: bool) -> None:
        cfg = {**extra, "train": asdict(config), "state": state} if with_state else dict(extra)
        save_model(model, folder, cfg)
        if with_state:
            _save_optimizer(opt, folder / "optimizer.safetensors")

    def run_validation() -> dict:
        model.eval()
        net = TorchCNN(model, centers, extra["temperature"], extra["mix"], device)
        res = validate(net, val[: config.val_quick or None]) if val else {}
        model.train()
        return res

    t0 = time.time() - state["elapsed_s"]
    model.train()
    running = None
    interrupted = False
    try:
        while True:
            step = state["step"]
            elapsed = time.time() - t0
            frac = max(step / total, elapsed / budget if budget else 0.0)
            if frac >= 1.0:
                break
            epoch, k = divmod(step, steps_per_epoch)
            perm = np.random.default_rng([config.seed, epoch]).permutation(len(train))
            idx = perm[k * bs : (k + 1) * bs]
            L, ab = sample_batch(train, idx, config.crop, np.random.default_rng([config.seed, 1, step]))
            lr = config.lr * min(1.0, (step + 1) / config.warmup_steps) * (0.02 + 0.98 * 0.5 * (1 + np.cos(np.pi * frac)))
            for g in opt.param_groups:
                g["lr"] = lr
            outp = model(normalise_L(L.to(device)))
            loss = loss_fn(outp, ab.to(device), mcfg, t_centers, t_w, config.reg_weight)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            lv = loss.item()
            running = lv if running is None else 0.98 * running + 0.02 * lv
            state["step"] = step + 1
            state["elapsed_s"] = time.time() - t0
            if progress is not None:
                progress({"step": state["step"], "total": total, "loss": running, "lr": lr})
            if state["step"] % steps_per_epoch == 0 or state["step"] >= total:
                state["epoch"] = state["step"] // steps_per_epoch
                _after_validation(out, run_validation(), state, save, progress)
            if state["step"] % config.checkpoint_every == 0:
                save(out, True)
    except KeyboardInterrupt:
        interrupted = True
        state["elapsed_s"] = time.time() - t0
        save(out, True)
        raise
    finally:
        if not interrupted:
            state["elapsed_s"] = time.time() - t0
    if state["step"] % steps_per_epoch:  # a last, partial epoch
        _after_validation(out, run_validation(), state, save, progress)
    save(out, True)
    if not (out / "best" / "config.json").is_file():
        save(out / "best", False)
    best = finish_best(out / "best", val, device)
    return {"step": state["step"], "elapsed_s": state["elapsed_s"], "best": best, "best_dir": str(out / "best"),
            "interrupted": interrupted}


def _after_validation(out: Path, metrics: dict, state: dict, save, progress) -> None:
    """Log a validation and keep the best model in ``out/best``."""
    line = {"step": state["step"], "epoch": state["epoch"], "elapsed_s": round(state["elapsed_s"], 1), **metrics}
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "log.jsonl", "a") as f:
        f.write(json.dumps(line) + "\n")
    if progress is not None:
        progress({"val": metrics, "epoch": state["epoch"], "step": state["step"]})
    score = metrics.get("score", 0.0)
    if score > state["best_score"] or not (out / "best" / "config.json").is_file():
        state["best_score"] = score
        save(out / "best", False)


def finish_best(folder: Path, val: list[np.ndarray], device) -> dict:
    """Tune the decoding of the best model on the validation photos and export it to ONNX."""
    model, cfg = load_torch(folder)
    model.to(device).eval()
    centers = np.asarray(cfg.get("bins") or [], np.float32).reshape(-1, 2)
    metrics = {}
    if val:
        cfg["temperature"], cfg["mix"], cfg["saturation"], metrics = tune_decoding(model, centers, val, device)
    cfg.pop("format_version", None)
    cfg["val_metrics"] = metrics
    save_model(model.cpu(), folder, {k: v for k, v in cfg.items() if k not in ("family", "model")})
    export_onnx(model, folder / "model.onnx")
    return metrics


def retune(out: str | os.PathLike, data: Sequence[str | os.PathLike], folder: str | os.PathLike | None = None) -> dict:
    """Re-tune the decoding of a model (default ``out/best``) on the run's own validation split and re-export it.

    The split is rebuilt from the run's saved seed and settings, so ``data``
    must be the same photos the run was trained on.
    """
    out = Path(out)
    folder = Path(folder) if folder is not None else out / "best"
    saved = json.loads((out / "config.json").read_text())
    config = TrainConfig(**saved["train"])
    torch.set_num_threads(config.threads)
    photos = load_photos(list_images(data, recursive=True), config.long_side)
    order = np.random.default_rng(config.seed).permutation(len(photos))
    n_val = min(config.val_split, len(photos) // 5) if config.val_split else 0
    return finish_best(folder, [photos[i] for i in order[:n_val]], torch.device("cpu"))
