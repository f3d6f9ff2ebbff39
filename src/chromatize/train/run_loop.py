"""The skeleton that every training loop shares: steps, time budget, validation, best-keeping, checkpoints.

:func:`run_loop` runs a :class:`TrainingLoop`: it takes steps until the step
count or the time budget is reached (whichever comes first), validates every
``validate_every`` steps and once more after the last step if it was not
just validated, appends each validation to ``out/log.jsonl``, keeps the best
model (``out/best``, through the loop's :meth:`TrainingLoop.save_best`),
saves a checkpoint every ``checkpoint_every`` steps and on Ctrl-C, and reports
progress. A loop supplies only what differs: its step, its validation, how it
saves the best model and a checkpoint, and how it finishes. Resuming is the
loop's own: it starts :func:`run_loop` with the :class:`LoopState` it saved.

The loops: :class:`chromatize.train.cnn.CNNLoop` (one process),
:class:`chromatize.train.distributed.DistributedLoop` (torchrun) and the hint
head's (:mod:`chromatize.train.hints`).
"""

from __future__ import annotations

import json
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ContextManager

import numpy as np

__all__ = ["LoopState", "Validation", "TrainingLoop", "run_loop", "lr_scale", "append_log"]

#: Called with a dict after each step (``step``, ``total``, ``loss``, and what the loop adds, such as ``lr``)
#: and after each validation (:attr:`Validation.report`).
Progress = Callable[[dict], None]


@dataclass
class LoopState:
    """Where a run is: what a checkpoint saves so that a resumed run continues from it."""

    step: int = 0
    elapsed_s: float = 0.0  #: training time so far (resumed runs add to it)
    best_score: float = -1e9  #: selection score of ``out/best``


@dataclass
class Validation:
    """What a loop's validation gives the skeleton."""

    line: dict  #: appended to ``log.jsonl``
    score: float  #: the selection score: the highest is kept in ``out/best``
    report: dict  #: given to the progress callback


def lr_scale(step: int, frac: float, warmup_steps: int) -> float:
    """Learning-rate factor at ``step``: linear warm-up, then cosine decay to 2 % at ``frac`` = 1."""
    return min(1.0, (step + 1) / warmup_steps) * (0.02 + 0.98 * 0.5 * (1 + np.cos(np.pi * min(frac, 1.0))))


def append_log(out: Path, line: dict) -> None:
    """Append one JSON line to ``out/log.jsonl``."""
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "log.jsonl", "a") as f:
        f.write(json.dumps(line) + "\n")


class TrainingLoop:
    """A training run as :func:`run_loop` drives it; subclasses supply the methods that raise here.

    Parameters
    ----------
    out : Path
        The run folder (``log.jsonl``, ``best/``).
    state : LoopState
        Where the run starts (a resumed run's saved state).
    total : int
        Planned steps.
    time_budget_min : float
        Stop after this many minutes of training (0: no limit); the schedule fits it.
    validate_every : int
        Steps between validations (0: never).
    checkpoint_every : int
        Steps between checkpoints (0: never).
    best_from : float
        Share of the schedule (:meth:`fraction`) before which a validation is
        logged but not kept as the best model, so that an early, noisy score
        is not what the run keeps.
    """

    #: Whether this process validates and writes (False on the other processes of a distributed run).
    lead: bool = True

    def __init__(self, out: Path, state: LoopState, total: int, time_budget_min: float, validate_every: int,
                 checkpoint_every: int = 0, best_from: float = 0.0):
        self.out, self.state, self.total = Path(out), state, total
        self.time_budget_min, self.validate_every, self.checkpoint_every = time_budget_min, validate_every, checkpoint_every
        self.best_from = best_from
        self.running_loss: float | None = None  #: the training loss, smoothed over the steps of this session

    def fraction(self) -> float:
        """How far the schedule is: the larger of steps done / planned and time used / budget."""
        budget = self.time_budget_min * 60.0
        return max(self.state.step / self.total, self.state.elapsed_s / budget if budget else 0.0)

    def step(self, frac: float) -> tuple[float, dict]:
        """One optimiser step (``state.step`` not yet advanced), ``frac`` of the way; returns (loss, progress extras)."""
        raise NotImplementedError

    def stepping(self) -> ContextManager:
        """The context the steps run in (validation and finishing after the last step run outside it)."""
        return nullcontext()

    def sync(self, elapsed_s: float, loss: float) -> tuple[float, bool, float]:
        """After a step: (elapsed time, whether to stop, loss) as the run agrees on them (one process: as given)."""
        return elapsed_s, False, loss

    def validate(self, loss: float | None) -> Validation:
        """Score the current model (``loss``: the running training loss)."""
        raise NotImplementedError

    def has_best(self) -> bool:
        """Whether ``out/best`` holds a model."""
        return (self.out / "best" / "config.json").is_file()

    def save_best(self, validation: Validation) -> None:
        """Keep the current model as the best (in ``out/best``)."""
        raise NotImplementedError

    def checkpoint(self) -> None:
        """Save what a resumed run needs (nothing, for a loop that cannot be resumed)."""

    def interrupted(self, elapsed_s: float) -> None:
        """After Ctrl-C: record the time and save a checkpoint."""
        self.state.elapsed_s = elapsed_s
        self.checkpoint()

    def finish(self) -> dict:
        """After the last step (and its validation): finish ``out/best``; returns the run's summary."""
        raise NotImplementedError


def run_loop(loop: TrainingLoop, progress: Progress | None = None) -> dict:
    """Run ``loop`` to its end (module docstring); returns what :meth:`TrainingLoop.finish` returns.

    Raises
    ------
    KeyboardInterrupt
        Re-raised after :meth:`TrainingLoop.interrupted` (a checkpoint), or
        raised when :meth:`TrainingLoop.sync` asks to stop (after a checkpoint).
    """
    st = loop.state
    t0 = time.time() - st.elapsed_s
    try:
        with loop.stepping():
            _steps(loop, t0, progress)
    except KeyboardInterrupt:
        loop.interrupted(time.time() - t0)
        raise
    if loop.validate_every and st.step % loop.validate_every:  # the steps since the last validation
        _validate(loop, progress)
    return loop.finish()


def _steps(loop: TrainingLoop, t0: float, progress: Progress | None) -> None:
    st = loop.state
    while (frac := loop.fraction()) < 1.0:
        loss, extra = loop.step(frac)
        st.step += 1
        st.elapsed_s, stop, loss = loop.sync(time.time() - t0, loss)
        running = loop.running_loss
        loop.running_loss = loss if running is None else 0.98 * running + 0.02 * loss
        if progress is not None:
            progress({"step": st.step, "total": loop.total, "loss": loop.running_loss, **extra})
        if loop.validate_every and st.step % loop.validate_every == 0:
            _validate(loop, progress)
        if stop or (loop.checkpoint_every and st.step % loop.checkpoint_every == 0):
            loop.checkpoint()  # between steps: never a torn checkpoint
        if stop:
            raise KeyboardInterrupt


def _validate(loop: TrainingLoop, progress: Progress | None) -> None:
    if not loop.lead:
        return
    v = loop.validate(loop.running_loss)
    append_log(loop.out, v.line)
    if loop.fraction() >= loop.best_from and (v.score > loop.state.best_score or not loop.has_best()):
        loop.state.best_score = v.score
        loop.save_best(v)
    if progress is not None:
        progress(v.report)
