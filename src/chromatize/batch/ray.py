"""Colorizing an archive on Ray Data: the batch of :mod:`chromatize.batch`, spread over a Ray cluster.

``chromatize colorize INPUTS -o OUT --ray`` (a local Ray on this machine) or
``--ray-address auto|ray://HOST:10001`` (a running cluster) runs
:func:`colorize_files_ray`, which keeps every rule of the local batch by
calling its public per-file functions:

1. On the driver, :func:`chromatize.batch.start_batch`: the settings and the
   model are checked, every output is named (:func:`~chromatize.batch.plan_outputs`:
   layout kept, clashes renamed, never over an input), temp files of killed
   runs are removed. Jobs whose outputs all exist (and carry chromatize's
   mark) are skipped here, unless ``overwrite``: a rerun after a killed job
   colorizes only what is missing (on an object store, found from one listing
   of the output folder, then each existing output read once for its mark).
2. A Ray Dataset of the remaining jobs (``from_items``, in blocks of a few),
   each file read as bytes in a ``map`` stage, then decoded, colorized and
   written in ``map_batches`` by a fixed pool of actors (a callable class)
   that each load the model once, with ``threads`` ONNX Runtime / OpenCV
   threads and as many Ray CPUs. Each file is one
   :func:`~chromatize.batch.colorize_one` call given the bytes: the same
   decoding, atomic writes, skip and overwrite rules and one-line errors.
3. The outcomes stream back to the driver (``iter_rows``) and are collected in
   plan order with :meth:`~chromatize.batch.BatchResult.add`, so failures are
   listed as the local path lists them.

The files are listed by the planner rather than by ``read_binary_files``, and
read in a task of our own rather than by it: a file that cannot be read must
fail alone, reported with the local path's message (its job then reads it
again through :func:`~chromatize.batch.colorize_one`, which says why), while
a failed Ray read task would fail the whole dataset.

Paths are the driver's: the workers run in the driver's working folder, so
inputs, outputs and a model folder must be visible at the same paths on
every node (this machine; on a cluster a shared file system or a mounted
bucket, see docs/SCALE.md). Inputs and outputs may instead be URIs
(``s3://bucket/scans``, ``gs://...``): every process then reaches them
through pyarrow's filesystems (:class:`chromatize.io.UriPath`), with its own
credentials, and nothing needs to be mounted.

Needs ``ray[data]``: ``pip install 'chromatize[scale]'``.
"""

from __future__ import annotations

import json
from dataclasses import replace
import logging
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from ..guidance import NO_GUIDANCE, Guidance
from ..io import UriPath, as_path, is_video
from ..models import Colorizer, load_model
from ..text import one_line
from .plan import Job
from .run import output_is_ours, BatchOptions, BatchResult, FileOutcome, colorize_one, start_batch

__all__ = ["colorize_files_ray", "set_threads", "ROWS_PER_BLOCK"]

#: Jobs per Ray block: small, so that the actors share the work evenly (a block goes to one actor).
ROWS_PER_BLOCK = 4


def set_threads(model: Colorizer, threads: int) -> Colorizer:
    """Give ``model`` ``threads`` CPU threads: ONNX Runtime's intra-op pool (a CNN), OpenCV's and numba's.

    Threads change no output (ONNX Runtime splits work between threads, not
    the sums inside one output value).
    """
    import cv2

    cv2.setNumThreads(threads)
    model.set_threads(threads)
    try:
        import numba

        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    except ImportError:  # numba is a dependency; a stripped install still colorizes with the CNN
        pass
    return model


def _enter(cwd: str) -> None:
    """Work in the driver's folder, so that relative paths mean (and errors name) what they do there."""
    if os.path.isdir(cwd) and os.getcwd() != cwd:
        os.chdir(cwd)


def read_bytes(row: dict, cwd: str) -> dict:
    """A Ray ``map`` stage: add the input file's bytes to a job row (empty when it cannot be read)."""
    _enter(cwd)
    if is_video(row["src"]):  # a video is streamed from disk by colorize_one, one task each, never held whole
        return {**row, "data": b""}
    try:
        data = as_path(row["src"]).read_bytes()  # a path or a URI
    except (OSError, ValueError):
        data = b""  # colorize_one reads it again and reports why, as the local path does
    return {**row, "data": data}


class ColorizeActor:
    """A Ray ``map_batches`` callable class: loads the model once, then colorizes batches of job rows.

    Parameters
    ----------
    model : str
        A bundled name or a model folder (visible on this node).
    threads : int
        CPU threads for the model (the actor's Ray CPUs).
    cwd : str
        The driver's working folder.
    options : dict
        Keywords of :func:`chromatize.batch.colorize_one` (the guidance,
        overwrite, ...), the same for every file.
    """

    def __init__(self, model: str, threads: int, cwd: str, options: dict):
        _enter(cwd)
        self.model = set_threads(load_model(model), threads)
        self.options = options

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list]:
        """Colorize each job row; returns one outcome row per job (lists as JSON text)."""
        out: dict[str, list] = {"src": [], "written": [], "skipped": [], "error": [], "notes": []}
        for src, dst, compare, data in zip(batch["src"], batch["dst"], batch["compare"], batch["data"]):
            o = colorize_one(src, dst, self.model, compare=compare or None, data=bytes(data), **self.options)
            out["src"].append(str(src))
            out["written"].append(json.dumps([str(p) for p in o.written]))
            out["skipped"].append(o.skipped)
            out["error"].append(o.error or "")
            out["notes"].append(json.dumps(o.notes))
        return out


def _outcome(row: dict) -> FileOutcome:
    return FileOutcome(as_path(row["src"]), written=[as_path(p) for p in json.loads(row["written"])],
                       skipped=bool(row["skipped"]), error=row["error"] or None, notes=json.loads(row["notes"]))


def _exists_in(outdir: str | os.PathLike) -> Callable[[Path | UriPath], bool]:
    """How the driver tells that an output exists: a stat per file on a disk; on an object store, one listing of
    ``outdir`` (a million outputs are a thousand list requests rather than a million ``HEAD`` requests)."""
    out = as_path(outdir)
    if not isinstance(out, UriPath):
        return lambda path: path.exists()
    try:
        there = {path for path, is_dir in out.listdir(recursive=True) if not is_dir}
    except FileNotFoundError:
        there = set()
    return there.__contains__


def _connect(address: str | None, num_cpus: int | None):
    """Join the cluster at ``address``, or start a local Ray; returns whether we started it (and so stop it).

    A local Ray it starts comes with a watchdog (:func:`start_reaper`), returned in place of True.
    """
    import ray

    if ray.is_initialized():  # a caller's Ray (tests, a notebook): use it as it is
        return False
    kwargs = {"num_cpus": num_cpus} if address in (None, "local") else {}
    reaper = start_reaper() if address in (None, "local") else None
    try:
        ray.init(address=address or "local", include_dashboard=False, logging_level=logging.ERROR,
                 log_to_driver=False, **kwargs)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        stop_reaper(reaper)
        raise ConnectionError(f"cannot start or reach Ray at {address or 'local'}: {one_line(exc)}") from None
    return reaper or True


#: The watchdog of :func:`start_reaper`: it notes the Ray processes that appear below ``sys.argv[1]`` (the driver)
#: and kills them once its stdin closes (the driver stopped Ray, or was killed, even by SIGKILL).
_REAPER = r"""
import os, select, signal, sys
driver, me = int(sys.argv[1]), os.getpid()
def table():
    kids = {}
    for d in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{d}/stat", "rb") as f:
                st = f.read()
            with open(f"/proc/{d}/cmdline", "rb") as f:
                ray = b"ray" in f.read()
        except OSError:
            continue
        rest = st[st.rindex(b")") + 2:].split()
        kids.setdefault(int(rest[1]), []).append((int(d), rest[19], ray))
    return kids
def below(kids):
    out, stack = {}, [driver]
    while stack:
        for pid, start, ray in kids.get(stack.pop(), []):
            out[pid] = (start, ray)
            stack.append(pid)
    return out
before, seen = set(below(table())), {}
while True:
    if select.select([0], [], [], 0.5)[0] and not os.read(0, 1):
        break
    for pid, (start, ray) in below(table()).items():
        if ray and pid != me and pid not in before:
            seen[pid] = start
now = {pid: start for kids in table().values() for pid, start, _ in kids}
for pid, start in seen.items():
    if now.get(pid) == start:  # the same process, not a recycled id
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
"""


def start_reaper() -> "subprocess.Popen | None":
    """A watchdog that kills the local Ray's processes when this process ends, however it ends (Linux).

    Ray's ``gcs_server`` and ``raylet`` die with the process that started
    them, but the raylet's agents and idle workers outlived a SIGKILL of a
    ``--ray`` run (two were alive 30 s later). The watchdog holds a pipe
    from this process; when the pipe closes, it kills the Ray processes
    that started below this process after it did (processes of another
    program, and recycled process ids, are left alone). None where there is
    no ``/proc``.
    """
    if not os.path.isdir("/proc/self"):
        return None
    return subprocess.Popen([sys.executable, "-c", _REAPER, str(os.getpid())], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def stop_reaper(reaper) -> None:
    """Close the watchdog's pipe (after ``ray.shutdown()``): it kills what Ray left, then exits."""
    if isinstance(reaper, subprocess.Popen):
        reaper.stdin.close()
        try:
            reaper.wait(10)
        except subprocess.TimeoutExpired:
            reaper.kill()


def colorize_files_ray(
    inputs: Iterable[str | os.PathLike],
    outdir: str | os.PathLike,
    model: str | os.PathLike | None = None,
    guidance: Guidance = NO_GUIDANCE,
    options: BatchOptions = BatchOptions(),
    *,
    address: str | None = None,
    workers: int | None = None,
    threads: int = 1,
    progress: Callable[[int, int, Path], None] | None = None,
) -> BatchResult:
    """Colorize files and folders into ``outdir`` on Ray Data; the same outputs and report as the local batch.

    Parameters are those of :func:`chromatize.batch.colorize_files`, plus:

    Parameters
    ----------
    model : name or path, optional
        Each actor loads it (a loaded ``Colorizer`` cannot be sent to them).
    address : str, optional
        ``None`` or ``"local"``: start a Ray on this machine (and stop it
        after); ``"auto"``: the cluster this machine belongs to;
        ``"ray://HOST:10001"``: a remote cluster, through Ray Client. When Ray
        is already initialised in this process, it is used as it is.
    workers : int, optional
        Actors (model copies) in the pool; default: the cluster's CPUs divided by ``threads``.
    threads : int
        CPU threads (and Ray CPUs) of each actor.

    Returns
    -------
    BatchResult
        As the local batch's, failures in the same order.

    Raises
    ------
    ModuleNotFoundError
        If ``ray`` is not installed (``pip install 'chromatize[scale]'``).
    ConnectionError
        If Ray cannot be started or the cluster reached.
    TypeError
        If ``model`` is a loaded ``Colorizer``.
    And as :func:`chromatize.batch.colorize_files`.
    """
    import ray  # noqa: F401  (first: without ray installed, say so before any work)

    if isinstance(model, Colorizer):
        raise TypeError(f"the Ray batch needs a model name or folder (each worker loads it), got a {type(model).__name__}")
    if threads < 1 or (workers is not None and workers < 1):
        raise ValueError(f"threads and workers must be at least 1, got {threads} and {workers}")
    plan, _, result = start_batch(inputs, outdir, model, guidance, options)
    exists = _exists_in(outdir)
    # done: outputs there and chromatize's; a file of someone else's goes to colorize_one, which refuses it
    done = {job.src for job in plan.jobs if not options.overwrite and all(exists(p) for p in job.outputs)
            and all(output_is_ours(job.src, p) for p in job.outputs)}
    todo = [job for job in plan.jobs if job.src not in done]
    outcomes = {src: FileOutcome(src, skipped=True) for src in done}
    total = len(plan.jobs)
    if progress is not None and outcomes:
        progress(len(outcomes), total, plan.jobs[-1].src)
    if todo:
        started = _connect(address, workers * threads if workers else None)
        try:
            video = None if options.video is None else replace(options.video, progress=None)  # stays on the driver
            for row in _run(todo, model, workers, threads, dict(
                    guidance=guidance, overwrite=options.overwrite, max_pixels=options.max_pixels, video=video)):
                outcome = _outcome(row)
                outcomes[outcome.src] = outcome
                if progress is not None:
                    progress(len(outcomes), total, outcome.src)
        finally:
            if started:
                import ray

                ray.shutdown()
                stop_reaper(started)
    for job in plan.jobs:  # in plan order, as the local batch reports them
        result.add(outcomes[job.src])
    return result


def _run(todo: list[Job], model, workers: int | None, threads: int, options: dict) -> Iterable[dict]:
    """The Ray Data pipeline over ``todo``: yields one outcome row per job, as they finish."""
    import ray

    if workers is None:
        workers = max(1, int(ray.cluster_resources().get("CPU", 1)) // threads)
    cwd = os.getcwd()
    rows = [{"src": str(j.src), "dst": str(j.dst), "compare": str(j.compare or "")} for j in todo]
    blocks = min(len(rows), max(workers, -(-len(rows) // ROWS_PER_BLOCK)))
    ds = (ray.data.from_items(rows, override_num_blocks=blocks)
          .map(read_bytes, fn_kwargs={"cwd": cwd}, num_cpus=threads)
          .map_batches(ColorizeActor, batch_size=1, num_cpus=threads,
                       compute=ray.data.ActorPoolStrategy(size=workers),
                       fn_constructor_kwargs={"model": str(model) if model is not None else "default",
                                              "threads": threads, "cwd": cwd, "options": options}))
    with _quiet_ray_data():
        yield from ds.iter_rows()


@contextmanager
def _quiet_ray_data() -> Iterator[None]:
    """No Ray Data progress bars or INFO lines on the console (the caller shows progress); its log file keeps them."""
    import ray

    ctx = ray.data.DataContext.get_current()
    before = ctx.enable_progress_bars
    ctx.enable_progress_bars = False
    consoles = [h for h in logging.getLogger("ray.data").handlers
                if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)]
    levels = [h.level for h in consoles]
    for h in consoles:
        h.setLevel(logging.ERROR)
    try:
        yield
    finally:
        ctx.enable_progress_bars = before
        for h, level in zip(consoles, levels):
            h.setLevel(level)
