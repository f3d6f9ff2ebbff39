"""Training the CNN colorizer: batches, step, validation, the loop and the finished model.

A run writes into one folder ``out``: ``config.json`` (the model and training
configs plus the loop's :class:`RunState`), ``weights.safetensors``,
``optimizer.safetensors`` and ``log.jsonl`` (one line per validation);
``out/best/`` holds the model that scored best on the held-out split, with its
decoding tuned and ``model.onnx`` exported. ``chromatize colorize --model out``
and ``load_model(out)`` use ``out/best``.

All randomness comes from the seed: the split, the epoch order
(``default_rng([seed, epoch])``; with a mix of sources, each batch's photos are
drawn by their weights with ``default_rng([seed, 2, step])`` instead) and, for
each sample ``i`` of a batch, its crop, flip, degradation (``degrade``) and
simulated hints (``default_rng([seed, 1, step, i])``), so that
a resumed run draws the same batches as an uninterrupted one, and a process of
a distributed run (:mod:`chromatize.train.distributed`) can draw just its
share of the batch: the union of the shares is the one-process batch.

The run itself (settings, set-up, checkpoints, resume) is in
:mod:`chromatize.train.cnn_run`; :class:`CNNLoop` supplies its step,
validation and saving to the training skeleton
(:mod:`chromatize.train.run_loop`), which runs it.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch

from ..data import random_crops
from ..degrade import random_degradation
from ..hints import simulate_hints
from ..models.cnn import OUT_STRIDE
from ..models.cnn.torch_io import TorchCNN, export_onnx, load_torch, save_model
from ..models.cnn.losses import loss_fn
from ..color import AB_NORM, normalise_L
from .cnn_run import Run, TrainConfig, save_checkpoint, setup_run, torch_threads
from .run_loop import TrainingLoop, Validation, lr_scale, run_loop
from .tune import RENDER_SIZE, ValidationSet, tune_decoding, validate

__all__ = ["batch_photos", "draw_batch", "train_step", "CNNLoop", "finish_best", "train_cnn"]


def batch_photos(run: Run, step: int) -> np.ndarray:
    """Indices into ``run.train`` of the photos of global batch ``step``: a slice of the epoch's seeded
    order, or, with a mix (``run.weights``), a seeded draw by the weights (with replacement)."""
    cfg = run.config
    if run.weights is not None:
        return np.random.default_rng([cfg.seed, 2, step]).choice(len(run.train), run.batch, p=run.weights)
    epoch, k = divmod(step, run.steps_per_epoch)
    perm = np.random.default_rng([cfg.seed, epoch]).permutation(len(run.train))
    return perm[k * run.batch : (k + 1) * run.batch]


def draw_batch(run: Run, step: int, positions: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """The samples at ``positions`` of batch ``step``: network inputs and target a*b*.

    Sample ``i`` of a batch is photo ``i`` of :func:`batch_photos`, cropped,
    flipped, degraded (a share ``degrade`` of the samples, input L only) and
    hinted with its own generator
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
    idx = batch_photos(run, step)
    xs, abs_ = [], []
    for i in positions:
        rng = np.random.default_rng([cfg.seed, 1, step, i])
        L, ab, ab_full = random_crops(run.train, [idx[i]], cfg.crop, rng, OUT_STRIDE, full_ab=True)
        if cfg.degrade and rng.random() < cfg.degrade:  # no draw without degrade: earlier runs' samples stay
            L[0, 0] = random_degradation(L[0, 0], rng, px_scale=cfg.long_side / 512)[0]
        x = normalise_L(L)  # (1, 1, c, c)
        if run.folder.hint_channels:
            x = np.concatenate([x, simulate_hints(ab_full, rng, ab_norm=AB_NORM)], axis=1)  # (1, 4, c, c)
        xs.append(x)
        abs_.append(ab)
    return np.concatenate(xs), np.concatenate(abs_)


def train_step(run: Run, frac: float) -> tuple[float, float]:
    """One optimiser step on batch ``run.state.step`` (this process's share of it), ``frac`` of the way
    through the schedule; returns (loss, learning rate)."""
    cfg, step = run.config, run.state.step
    x, ab = draw_batch(run, step, run.positions)  # (b, 1 or 4, c, c), (b, 2, c/4, c/4)
    scale = lr_scale(step, frac, cfg.warmup_steps)
    for g in run.opt.param_groups:
        g["lr"] = g["base_lr"] * scale
    net = run.model if run.ddp is None else run.ddp  # DDP averages the gradients over the processes
    out = net(torch.from_numpy(x).to(run.device))  # (b, n_out, c/4, c/4)
    loss = loss_fn(out, torch.from_numpy(ab).to(run.device), run.centers, run.class_w, cfg.reg_weight,
                   cfg.regression_loss)
    run.opt.zero_grad(set_to_none=True)
    loss.backward()
    run.opt.step()
    return loss.item(), cfg.lr * scale


class CNNLoop(TrainingLoop):
    """A CNN run in the training skeleton (:func:`chromatize.train.run_loop.run_loop`).

    Validation after each epoch on the quick validation photos, a checkpoint
    every ``checkpoint_every`` steps and on Ctrl-C; at the end ``out/best`` is
    tuned and exported (:func:`finish_best`).
    """

    def __init__(self, run: Run):
        super().__init__(run.out, run.state, run.total, run.config.time_budget_min, run.validate_every,
                         run.config.checkpoint_every, run.config.best_after)
        self.run = run

    def step(self, frac: float) -> tuple[float, dict]:
        loss, lr = train_step(self.run, frac)
        return loss, {"lr": lr}

    def validate(self, loss: float | None) -> Validation:
        run, st = self.run, self.run.state
        run.model.eval()
        net = TorchCNN(run.model, run.folder, run.device)
        metrics = validate(net, run.val.head(run.config.val_quick), by_source=True)
        held = validate(net, run.holdout.head(run.config.val_quick), by_source=True)
        run.model.train()
        st.epoch = st.step // run.steps_per_epoch  # a last, partial epoch counts with the one before
        line = {"step": st.step, "epoch": st.epoch, "elapsed_s": round(st.elapsed_s, 1), **metrics,
                **({"holdout": held} if held else {})}
        score = metrics.get("score", 0.0)
        report = {k: v for k, v in metrics.items() if k != "sources"}
        if held:  # the weakest of the split and the folders never trained on
            score = min(score, held["score"])
            report["holdout_score"] = held["score"]
        return Validation(line, score, {"val": report, "epoch": st.epoch, "step": st.step})

    def save_best(self, validation: Validation) -> None:
        save_checkpoint(self.run, self.out / "best")

    def checkpoint(self) -> None:
        save_checkpoint(self.run)

    def finish(self) -> dict:
        """Save the run, then tune and export ``out/best``; returns what :func:`train_cnn` returns."""
        run, st = self.run, self.run.state
        save_checkpoint(run)
        if not self.has_best():
            save_checkpoint(run, run.out / "best")
        best = finish_best(run.out / "best", run.val, run.device, run.config.tune_render_sizes,
                           min_photos=run.config.tune_min_photos)
        notes = [] if len(run.val) >= run.config.tune_min_photos else [
            f"decoding not re-tuned: {len(run.val)} validation photos, fewer than {run.config.tune_min_photos}; "
            f"kept {'that of ' + str(run.init_dir) if run.init_dir else 'the default'}"]
        head = carry_hint_head(run.out / "best", run.init_dir)
        return {"step": st.step, "elapsed_s": st.elapsed_s, "best": best, "best_dir": str(run.out / "best"),
                "interrupted": False, "notes": notes + ([head] if head else [])}


def finish_best(folder: Path, val: ValidationSet, device: torch.device, render_sizes=(RENDER_SIZE,), *,
                min_photos: int = 1) -> dict:
    """Tune the decoding of the model in ``folder`` on the validation photos (if there are ``min_photos``;
    else its decoding stays) and export it to ONNX."""
    model, cfg = load_torch(folder)
    model.to(device).eval()
    metrics = {}
    if len(val) >= max(min_photos, 1):
        decoding, metrics = tune_decoding(TorchCNN(model, cfg, device), val, render_sizes=render_sizes)
        cfg = replace(cfg, decoding=decoding)
    cfg = replace(cfg, extra={**cfg.extra, "val_metrics": metrics})
    save_model(model.cpu(), folder, cfg)
    export_onnx(model, folder / "model.onnx")
    return metrics


def carry_hint_head(folder: Path, init_dir: Path | None) -> str | None:
    """Give the fine-tuned model in ``folder`` the learned hint head of the model it started from, if that
    one has a head and the network kept its shape; returns a one-line note of what was done (None: no head).

    The head was trained on the features of the network before fine-tuning:
    it still fits them (same shape, small changes), and ``chromatize train
    hints`` retrains it on the new ones.
    """
    if init_dir is None or not (init_dir / "hint_head.onnx").is_file():
        return None
    net0, start = load_torch(init_dir)
    model, cfg = load_torch(folder)
    retrain = f"chromatize train hints DATA --base {folder} --out RUN"
    if start.hint_head is None or model.config != net0.config or model.hint_channels:
        return f"the hint head of {init_dir} was dropped (the network changed shape); train one: {retrain}"
    for name in ("hint_head.onnx", "hint_head.safetensors"):
        if (init_dir / name).is_file():
            shutil.copyfile(init_dir / name, folder / name)
    save_model(model, folder, replace(cfg, hint_head=start.hint_head))
    export_onnx(model, folder / "model.onnx", features=True)
    return f"kept the hint head of {init_dir} (trained before this fine-tune); to retrain it: {retrain}"


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
        return run_loop(CNNLoop(run), progress)
