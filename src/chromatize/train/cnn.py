"""Training the CNN colorizer: batches, step, validation, the loop and the finished model.

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

The run itself (settings, set-up, checkpoints, resume) is in
:mod:`chromatize.train.cnn_run`.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch

from ..data import random_crops, simulate_hints
from ..models.cnn import OUT_STRIDE
from ..models.cnn.torch_io import TorchCNN, export_onnx, load_torch, save_model
from ..models.cnn.losses import loss_fn
from ..color import AB_NORM, normalise_L
from .cnn_run import Run, RunState, TrainConfig, save_checkpoint, setup_run, torch_threads
from .tune import RENDER_SIZE, ValidationSet, tune_decoding, validate

__all__ = ["draw_batch", "train_step", "validate_run", "finish_run", "train_cnn"]


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
