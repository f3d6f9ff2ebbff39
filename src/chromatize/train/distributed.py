"""Training the CNN on several processes, started by torchrun: DistributedDataParallel.

``torchrun --nproc_per_node N -m chromatize train cnn DATA --out DIR`` starts N
copies of the command; each finds its rank in the environment torchrun sets
(``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``) and
the CLI hands it to :func:`train_cnn_distributed` instead of
:func:`chromatize.train.cnn.train_cnn`. Without ``WORLD_SIZE`` nothing here runs.

How the processes share the work:

- Every process reads the photos and makes the same split; each step's global
  batch (``--batch-size``, a multiple of N) is cut into N equal shares, and
  process ``r`` draws only share ``r`` (:func:`chromatize.train.cnn.draw_batch`
  seeds every sample on its own, so the shares together are the one-process
  batch). DistributedDataParallel averages the gradients (gloo on CPU, nccl on
  GPU), so each step is the one-process step on the same global batch. Each
  process thus crops only its own seeded shard of every epoch, but decodes
  and holds all the photos, as one process does (docs/SCALE.md, "What each process
  reads", says why and what that costs).
- Batch norm uses the statistics of the whole global batch: torch's
  ``SyncBatchNorm`` on GPU, :class:`GlobalBatchNorm2d` (an all-reduce per
  layer, which torch's layer does not do on CPU) on CPU.
- After each step the processes agree, in one small all-reduce, on the
  elapsed time (rank 0's clock: the learning-rate schedule and a time budget
  depend on it), the mean loss, and whether to stop.
- Only rank 0 reports progress, validates, writes ``log.jsonl`` and
  checkpoints, and finishes ``out/best``. ``--out`` (and the photos) must be
  visible to every process: one shared folder, so that ``--resume`` loads the
  same checkpoint everywhere.
- Ctrl-C (or the SIGTERM torchrun sends when it stops its workers) is taken at
  the end of the current step: all processes stop there together and rank 0
  saves a checkpoint of that step. A lost process makes the others' next
  collective fail; they exit without writing, so the last checkpoint stays as
  it was and ``--resume`` continues from it, drawing the same batches.
"""

from __future__ import annotations

import gc
import os
import signal
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable, Iterator, Mapping, Sequence

import torch
import torch.distributed as dist
from torch import nn

from .cnn import CNNLoop
from .cnn_run import Run, TrainConfig, setup_run, torch_threads
from .run_loop import run_loop

__all__ = ["DistEnv", "dist_env", "GlobalBatchNorm2d", "sync_batch_norm", "DistributedLoop", "train_cnn_distributed"]

#: How long a process waits in a collective (rank 0 validating, a slow peer) before giving up.
TIMEOUT = timedelta(minutes=30)


@dataclass(frozen=True)
class DistEnv:
    """Where this process stands in a distributed run (from torchrun's environment variables)."""

    rank: int  #: 0 .. world_size - 1; rank 0 logs, validates and checkpoints
    world_size: int  #: number of processes
    local_rank: int  #: index on this machine (the GPU it uses)

    @property
    def lead(self) -> bool:
        """Whether this is rank 0."""
        return self.rank == 0


def dist_env(environ: Mapping[str, str] | None = None) -> DistEnv | None:
    """The distributed run this process belongs to, or None when ``WORLD_SIZE`` is unset.

    Raises
    ------
    ValueError
        If ``WORLD_SIZE``, ``RANK`` or ``LOCAL_RANK`` is not a valid integer.
    """
    env = os.environ if environ is None else environ
    if "WORLD_SIZE" not in env:
        return None
    raw = {k: env.get(k, "0") for k in ("WORLD_SIZE", "RANK", "LOCAL_RANK")}
    try:
        world, rank, local = (int(v) for v in raw.values())
    except ValueError:
        raise ValueError(f"torchrun's variables must be integers, got {raw}") from None
    if world < 1 or not 0 <= rank < world or local < 0:
        raise ValueError(f"need 0 <= RANK < WORLD_SIZE and LOCAL_RANK >= 0, got {raw}")
    return DistEnv(rank, world, local)


class _AllReduceSum(torch.autograd.Function):
    """Sum over the processes; the gradient of each input is the sum of every process's output gradient."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        x = x.clone()
        dist.all_reduce(x)
        return x

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        grad = grad.clone()
        dist.all_reduce(grad)
        return grad


class GlobalBatchNorm2d(nn.BatchNorm2d):
    """``BatchNorm2d`` whose training statistics are those of the global batch, across processes.

    torch's ``SyncBatchNorm`` runs on GPUs only; this one works with any
    backend (gloo on CPU). In training, with a process group of more than one,
    the mean and the (biased) variance are sums over every process's samples,
    in two differentiable all-reduces (two passes, as exact as one process's
    batch norm); the running statistics are updated from them as
    ``BatchNorm2d`` does. Otherwise (evaluation, one process) it is
    ``BatchNorm2d``. Its parameters and buffers are those of ``BatchNorm2d``,
    so checkpoints do not change.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and dist.is_initialized() and dist.get_world_size() > 1):
            return super().forward(x)
        c = x.shape[1]
        n_local = torch.full((1,), x.numel() // c, dtype=x.dtype, device=x.device)
        sums = _AllReduceSum.apply(torch.cat([x.sum(dim=(0, 2, 3)), n_local]))  # (C + 1,)
        n = sums[c]
        mean = sums[:c] / n  # (C,)
        xc = x - mean[None, :, None, None]  # (B, C, H, W)
        var = _AllReduceSum.apply((xc * xc).sum(dim=(0, 2, 3))) / n  # (C,), biased: what batch norm divides by
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                m = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
                self.running_mean.lerp_(mean.detach(), m)
                self.running_var.lerp_(var.detach() * n / (n - 1).clamp(min=1), m)  # unbiased, as BatchNorm2d
        y = xc * torch.rsqrt(var + self.eps)[None, :, None, None]
        if self.affine:
            y = y * self.weight[None, :, None, None] + self.bias[None, :, None, None]
        return y


def sync_batch_norm(model: nn.Module, device: torch.device) -> nn.Module:
    """Make every ``BatchNorm2d`` of ``model`` use global-batch statistics, keeping its parameter objects.

    The optimiser built over ``model``'s parameters stays valid: the new layers
    hold the same ``Parameter`` and buffer tensors. On CUDA this is torch's
    ``SyncBatchNorm``; elsewhere :class:`GlobalBatchNorm2d`.
    """
    if device.type == "cuda":
        return nn.SyncBatchNorm.convert_sync_batchnorm(model)
    for name, child in model.named_children():
        if type(child) is nn.BatchNorm2d:
            new = GlobalBatchNorm2d(child.num_features, child.eps, child.momentum, child.affine,
                                    child.track_running_stats)
            if child.affine:
                new.weight, new.bias = child.weight, child.bias
            if child.track_running_stats:
                new.running_mean, new.running_var = child.running_mean, child.running_var
                new.num_batches_tracked = child.num_batches_tracked
            new.train(child.training)
            setattr(model, name, new)
        else:
            sync_batch_norm(child, device)
    return model


class _StopRequest:
    """SIGINT/SIGTERM set ``requested`` instead of interrupting; a second SIGINT interrupts at once."""

    def __init__(self):
        self.requested = False

    def __call__(self, signum, frame) -> None:
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = True


@contextmanager
def _stop_on_signals() -> Iterator[_StopRequest]:
    stop = _StopRequest()
    before = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)


def _agree(run, elapsed_s: float, stop: bool, loss: float) -> tuple[float, bool, float]:
    """(rank 0's elapsed time, whether any process wants to stop, the mean loss), the same on every process."""
    vals = torch.tensor([elapsed_s if run.rank == 0 else 0.0, float(stop), loss], dtype=torch.float64)
    if run.device.type == "cuda":  # nccl reduces GPU tensors only
        vals = vals.to(run.device)
    dist.all_reduce(vals)
    elapsed, stops, total = vals.tolist()
    return elapsed, stops > 0, total / run.world


def _check_same(run, what: dict[str, int]) -> None:
    """Raise ValueError unless every process has the same values (photos found, resumed step, ...)."""
    mine = torch.tensor(list(what.values()), dtype=torch.float64)
    lo, hi = mine.clone(), mine.clone()
    if run.device.type == "cuda":
        lo, hi = lo.to(run.device), hi.to(run.device)
    dist.all_reduce(lo, op=dist.ReduceOp.MIN)
    dist.all_reduce(hi, op=dist.ReduceOp.MAX)
    bad = [f"{k} {int(a)}..{int(b)}" for k, a, b in zip(what, lo.tolist(), hi.tolist()) if a != b]
    if bad:
        raise ValueError(f"the processes disagree ({', '.join(bad)}): DATA and --out must be the same "
                         "folders on every machine")


def train_cnn_distributed(
    data: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    config: TrainConfig | None = None,
    *,
    resume: bool = False,
    overwrite: bool = False,
    progress: Callable[[dict], None] | None = None,
    env: DistEnv | None = None,
) -> dict:
    """Train the CNN as one process of a torchrun job (see the module docstring).

    Parameters are those of :func:`chromatize.train.cnn.train_cnn`, plus:

    Parameters
    ----------
    progress : callable, optional
        Called on rank 0 only; the loss it gets is the mean over the processes.
    env : DistEnv, optional
        Default: :func:`dist_env` (torchrun's environment).

    Returns
    -------
    dict
        As ``train_cnn``; on ranks other than 0 ``best`` is empty (rank 0 tunes and exports it).

    Raises
    ------
    ValueError
        If not started by torchrun, if the global batch is not a multiple of
        the number of processes, or if the processes see different photos or
        checkpoints; and as ``train_cnn``.
    KeyboardInterrupt
        After Ctrl-C (or torchrun's SIGTERM), once every process has stopped
        at the same step and rank 0 has saved it.
    RuntimeError
        If another process is lost (nothing is written; the last checkpoint stays).
    """
    env = env or dist_env()
    if env is None:
        raise ValueError("not started by torchrun (WORLD_SIZE is unset); use train_cnn for one process")
    if torch.cuda.is_available():  # before setup_run: "cuda" then means this process's GPU
        torch.cuda.set_device(env.local_rank % torch.cuda.device_count())
    run = setup_run(data, out, config, resume=resume, overwrite=overwrite)
    backend = "nccl" if run.device.type == "cuda" else "gloo"
    dist.init_process_group(backend, rank=env.rank, world_size=env.world_size, timeout=TIMEOUT)
    try:
        run.rank, run.world = env.rank, env.world_size
        _check_same(run, {"photos": len(run.train), "step": run.state.step})
        if run.batch % run.world:
            raise ValueError(f"the batch size ({run.batch}) must be a multiple of the {run.world} processes")
        sync_batch_norm(run.model, run.device)
        # Batch norm buffers are the same everywhere (global statistics), so DDP need not broadcast them.
        run.ddp = nn.parallel.DistributedDataParallel(
            run.model, device_ids=[torch.cuda.current_device()] if backend == "nccl" else None,
            forward_sync_buffers=False)
        with torch_threads(run.config.threads):
            return run_loop(DistributedLoop(run), progress if env.lead else None)
    finally:
        # Free DDP's reducer first, so that the process group is destroyed by destroy_process_group,
        # which releases the GIL, and not by the reducer's deallocation, which holds it while the
        # gloo threads wait for it to free their last tensors (a deadlock at exit).
        run.ddp = None
        gc.collect()
        dist.destroy_process_group()


class DistributedLoop(CNNLoop):
    """A :class:`~chromatize.train.cnn.CNNLoop` on one process of a torchrun job.

    After each step the processes agree on the elapsed time, the mean loss and
    whether to stop (:meth:`sync`); only rank 0 validates and checkpoints; a
    stop asked for by a signal is a checkpoint of that step (rank 0), then
    ``KeyboardInterrupt`` everywhere. A second Ctrl-C interrupts at once,
    without a checkpoint.
    """

    def __init__(self, run: Run):
        super().__init__(run)
        self.lead, self.stop = run.rank == 0, _StopRequest()

    @contextmanager
    def stepping(self) -> Iterator[None]:
        """Signals ask for a stop at the end of the step, while the steps run."""
        with _stop_on_signals() as self.stop:
            yield

    def sync(self, elapsed_s: float, loss: float) -> tuple[float, bool, float]:
        return _agree(self.run, elapsed_s, self.stop.requested, loss)

    def checkpoint(self) -> None:
        if self.lead:
            super().checkpoint()

    def interrupted(self, elapsed_s: float) -> None:
        """Nothing: a stop was checkpointed at its step; a second Ctrl-C leaves the last checkpoint as it is."""

    def finish(self) -> dict:
        if self.lead:
            return super().finish()
        st = self.state
        return {"step": st.step, "elapsed_s": st.elapsed_s, "best": {}, "best_dir": str(self.out / "best"),
                "interrupted": False}
