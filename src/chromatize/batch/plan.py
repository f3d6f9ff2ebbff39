"""A batch's plan: every output path decided before any work.

:func:`plan_outputs` names each input's outputs (the input folder's layout
kept, clashes renamed the same way on every run, never over an input file)
and refuses, with a one-line reason, the inputs that get no job;
:func:`output_suffix` says which format an output is written in.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ..io import UriPath, as_path, is_video, location, video_output_suffix
from .inputs import find_inputs

__all__ = ["Job", "Plan", "output_suffix", "plan_outputs"]


#: Output suffixes kept as the input's; anything else (.gif, ...) becomes .png.
WRITABLE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp")


@dataclass(frozen=True)
class Job:
    """One input file and the outputs it gets.

    Attributes
    ----------
    src : Path or UriPath
        The input file (a ``UriPath`` for ``s3://...`` and other URIs).
    dst : Path or UriPath
        The colorized output.
    compare : Path, UriPath or None
        The ``original | gray | colorized`` strip, when asked for.
    """

    src: Path | UriPath
    dst: Path | UriPath
    compare: Path | UriPath | None = None

    @property
    def outputs(self) -> list[Path | UriPath]:
        """Every file the job writes."""
        return [self.dst] + ([self.compare] if self.compare is not None else [])


@dataclass
class Plan:
    """What a batch will do: its jobs, the inputs refused before any work, and notices.

    Attributes
    ----------
    jobs : list of Job
    failed : list of (Path, str)
        Inputs that get no job (missing, broken link, empty folder, name clash,
        output would replace an input), each with a one-line reason naming it.
    notes : list of str
        One-line notices (a sub-folder skipped without ``recursive``, ...).
    """

    jobs: list[Job] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def out_folders(self) -> list[Path | UriPath]:
        """The folders the jobs write into, sorted."""
        return sorted({p.parent for job in self.jobs for p in job.outputs})


def output_suffix(src: "str | os.PathLike | UriPath", suffix: str | None = None) -> str:
    """The output file suffix: ``suffix`` if given, else the input's when writable, else ``.png``.

    A video's is its container's (:func:`chromatize.io.video_output_suffix`), whatever ``suffix`` says.
    """
    if is_video(src):
        return video_output_suffix(src)
    if suffix is not None:
        suffix = suffix.lower() if suffix.startswith(".") else "." + suffix.lower()
        if suffix not in WRITABLE_SUFFIXES:
            raise ValueError(f"output format {suffix!r} is not one of {', '.join(WRITABLE_SUFFIXES)}")
        return suffix
    own = as_path(src).suffix.lower()
    return own if own in WRITABLE_SUFFIXES else ".png"


def _name_key(path: Path) -> str:
    # Case-folded, so that outputs cannot clash on case-insensitive file systems either.
    return os.path.normpath(str(path)).casefold()


def plan_outputs(
    inputs: Iterable[str | os.PathLike],
    outdir: str | os.PathLike,
    *,
    recursive: bool = False,
    suffix: str | None = None,
    compare: bool = False,
) -> Plan:
    """Decide every output path of a batch, before any work.

    Naming rule: an output keeps its input's path relative to the folder it was
    found in (a file named on its own: its name), with the output suffix
    (:func:`output_suffix`). When two inputs would get the same output (the
    same name in different folders, or ``a.gif`` beside ``a.png``), every one
    of them is renamed, the same way each time: first to its path relative to
    the folder the clashing inputs have in common (``trip1/img.jpg``,
    ``trip2/img.jpg``), then, within one folder, to its full file name plus the
    output suffix (``a.gif.png``, ``a.png.png``). An output that would still
    clash, or that resolves to any input file, gets no job and is a failure.

    Parameters
    ----------
    inputs : iterable of paths or URIs
        Files and folders (see :func:`find_inputs`).
    outdir : path or URI
        The output folder (need not exist yet; it is never searched for inputs).
    recursive : bool
        Also take images in sub-folders of input folders.
    suffix : str, optional
        Output format (``".png"``, ``".jpg"``, ...); default: the input's (see :func:`output_suffix`).
    compare : bool
        Also plan ``<stem>_compare.png`` beside each output.

    Returns
    -------
    Plan

    Raises
    ------
    NotADirectoryError
        If ``outdir`` exists and is not a folder.
    ValueError
        If ``outdir`` is one of the input folders, or ``suffix`` is not a format chromatize writes.
    """
    outdir = as_path(outdir)
    inputs = [as_path(p) for p in inputs]
    if outdir.exists() and not outdir.is_dir():
        raise NotADirectoryError(f"{outdir}: output exists and is not a folder")
    same = next((p for p in inputs if p.is_dir() and same_file(p, outdir)), None)
    if same is not None:  # a rerun would take the outputs for inputs
        raise ValueError(f"{outdir}: the output folder is the input folder {same}; choose another output folder")
    if suffix is not None:
        output_suffix("x", suffix)  # check it once, before any work
    found, failed, notes = find_inputs(inputs, recursive=recursive, exclude=[outdir])
    srcs = [src for src, _ in found]
    suffixes = [output_suffix(src, suffix) for src in srcs]
    dsts = _rename_clashes(outdir, found, suffixes)
    input_files = {location(s): s for s in srcs}
    owner: dict[str, Path] = {}  # output name -> the input that writes it
    for src, dst in zip(srcs, dsts):
        owner.setdefault(_name_key(dst), src)
    plan = Plan(failed=failed, notes=notes)
    for src, dst in zip(srcs, dsts):
        side = compare and not is_video(src)  # no side-by-side strip for a video
        job = Job(src, dst, dst.with_name(dst.stem + "_compare.png") if side else None)
        hit = next(((p, input_files[location(p)]) for p in job.outputs if location(p) in input_files), None)
        clash = next(((p, owner[_name_key(p)]) for p in job.outputs
                      if owner.setdefault(_name_key(p), src) != src), None)
        if hit is not None:
            plan.failed.append((src, f"{src}: refusing to write {hit[0]} over the input file {hit[1]}; "
                                     "choose another output folder"))
        elif clash is not None:
            plan.failed.append((src, f"{src}: output {clash[0]} would clash with that of {clash[1]}; rename one"))
        else:
            plan.jobs.append(job)
    return plan


def _rename_clashes(outdir, found: list, suffixes: list[str]) -> list:
    """The outputs of the inputs ``found`` (input, relative path), renamed where two would clash (the naming
    rule of :func:`plan_outputs`)."""
    srcs = [src for src, _ in found]
    dsts = [outdir / rel.parent / (rel.stem + sfx) for (_, rel), sfx in zip(found, suffixes)]

    def clashes() -> list[list[int]]:
        groups: dict[str, list[int]] = {}
        for i, d in enumerate(dsts):
            groups.setdefault(_name_key(d), []).append(i)
        return [g for g in groups.values() if len(g) > 1]

    for group in clashes():  # same name from different folders: their path from the common folder
        parents = [_absolute(srcs[i].parent) for i in group]
        if len(set(parents)) > 1:
            common = os.path.commonpath(parents)
            for i in group:
                rel = Path(os.path.relpath(_absolute(srcs[i]), common))
                dsts[i] = outdir / rel.parent / (rel.stem + suffixes[i])
    for group in clashes():  # same stem in one folder (a.gif, a.png): the full name
        for i in group:
            dsts[i] = dsts[i].with_name(srcs[i].name + suffixes[i])
    return dsts


def same_file(a: Path | UriPath, b: Path | UriPath) -> bool:
    """True when ``a`` and ``b`` are the same file (the same :func:`chromatize.io.location`)."""
    return location(a) == location(b)


def _absolute(path: Path | UriPath) -> str:
    """An absolute path for ``path``, to find the folder that clashing inputs share: a URI's is ``/s3:/bucket/key``."""
    if isinstance(path, UriPath) and path.local is None:
        return "/" + path.root.replace("://", ":/", 1) + path.key
    return os.path.abspath(path.local if isinstance(path, UriPath) else path)
