"""Colorizing many files: outputs named after inputs, bad files reported, not fatal, reruns resume.

The per-file rules are public so that a distributed runner can use them:
:func:`plan_outputs` decides every output path up front (layout kept, clashes
renamed, never over an input), :func:`colorize_one` does one file (skip if
done, read, colorize, write atomically) and returns a :class:`FileOutcome`
instead of raising, and :meth:`BatchResult.add` collects the outcomes.
:func:`start_batch` is everything before the first file (checks, plan, model,
temp-file clean-up); :func:`colorize_files` is it and a loop over the jobs.

Inputs and the output folder may also be URIs (``s3://bucket/scans``,
``gs://...``, ``file:///...``), reached through pyarrow's filesystems
(:class:`chromatize.io.UriPath`): one listing per input folder, the same
names, skip, overwrite and error rules; a URI output is written whole in one
put (an object store has no rename).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Callable, Iterable

import cv2
import numpy as np

from .color import gray_to_rgb
from .infer import check_guidance, check_settings, colorize_photo
from .io import (DEFAULT_MAX_PIXELS, IMAGE_SUFFIXES, ImageReadError, OutputExistsError, UriPath, as_path,
                 clean_temp_files, decode_image, location, read_image, write_image)
from .models import Colorizer, load_model
from .text import one_line

__all__ = [
    "Job", "Plan", "FileOutcome", "BatchResult", "find_inputs", "output_suffix", "plan_outputs", "colorize_one",
    "start_batch", "colorize_files", "sample_images",
]


#: Output suffixes kept as the input's; anything else (.gif, ...) becomes .png.
WRITABLE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp")
#: Formats that cannot store an alpha channel.
NO_ALPHA_SUFFIXES = (".jpg", ".jpeg")


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


@dataclass
class FileOutcome:
    """What :func:`colorize_one` did with one file.

    Attributes
    ----------
    src : Path or UriPath
    written : list of Path or UriPath
        Files written (none when all outputs were there already, or on failure).
    skipped : bool
        True when every output existed and ``overwrite`` was false: nothing to do.
    error : str or None
        One line naming the file, when it failed.
    notes : list of str
        One-line notices (only the first frame colorized, alpha dropped, ...).
    """

    src: Path | UriPath
    written: list[Path | UriPath] = field(default_factory=list)
    skipped: bool = False
    error: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class BatchResult:
    """What a batch did.

    Attributes
    ----------
    written : list of Path
        Files written.
    colorized : list of Path
        Inputs colorized (their outputs written).
    failed : list of (Path, str)
        Each input that failed, with a one-line reason naming it.
    skipped : list of Path
        Inputs whose outputs were all there already (a resumed batch).
    notes : list of str
        One-line notices.
    removed_temp : list of Path
        Temp files of earlier, killed runs that were cleaned up.
    """

    written: list[Path] = field(default_factory=list)
    colorized: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    removed_temp: list[Path] = field(default_factory=list)

    def add(self, outcome: FileOutcome) -> None:
        """Record one file's outcome (a distributed runner collects them with this)."""
        self.written += outcome.written
        self.notes += outcome.notes
        if outcome.error is not None:
            self.failed.append((outcome.src, outcome.error))
        elif outcome.written:
            self.colorized.append(outcome.src)
        elif outcome.skipped:
            self.skipped.append(outcome.src)


def sample_images() -> list[Path]:
    """The sample photos bundled with the package (Kodak, unrestricted use)."""
    root = Path(str(resources.files("chromatize") / "samples"))
    return sorted(p for p in root.iterdir() if p.suffix.lower() == ".png")


def _stat_problem(path: Path) -> str | None:
    """None if ``path`` can be stat'ed (following links), else a one-line reason naming it."""
    try:
        os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            return f"{path}: broken symbolic link (to {os.readlink(path)})"
        return f"{path}: no such file or folder"
    except OSError as exc:  # a symbolic link loop, a name too long, permission denied
        return f"{path}: {exc.strerror or one_line(exc)}"
    return None


def find_inputs(
    inputs: Iterable[str | os.PathLike], *, recursive: bool = False, exclude: Iterable[str | os.PathLike] = (),
) -> tuple[list[tuple[Path | UriPath, Path]], list[tuple[Path | UriPath, str]], list[str]]:
    """Expand files and folders into input images, each with its path relative to its input.

    A file given by name is taken whatever its suffix (so that a bad file is
    reported, not skipped), relative path its name. A folder contributes its
    files with an image suffix (:data:`chromatize.io.IMAGE_SUFFIXES`), sorted,
    relative to the folder; with ``recursive`` also those of its sub-folders.
    Hidden names (``.*``) are passed over; the same file given twice is taken once.
    A URI (``s3://bucket/scans``) is listed through pyarrow (:func:`_find_stored`),
    with the same rules and messages.

    Parameters
    ----------
    inputs : iterable of paths or URIs
    recursive : bool
        Descend into sub-folders (else each is named in a notice).
    exclude : iterable of paths
        Folders never descended into (the output folder).

    Returns
    -------
    found : list of (Path or UriPath, Path)
        (input file, relative path).
    failed : list of (Path, str)
        Missing inputs, broken or looping links, folders without images.
    notes : list of str
        Skipped sub-folders and files without an image suffix.
    """
    found: list[tuple[Path, Path]] = []
    failed: list[tuple[Path, str]] = []
    notes: list[str] = []
    seen: set[str] = set()
    skip_dirs = {location(as_path(p)) for p in exclude}

    def take(path: Path | UriPath, rel: Path) -> None:
        real = location(path)
        if real not in seen:
            seen.add(real)
            found.append((path, rel))

    def walk(folder: Path, root: Path, visited: frozenset[str]) -> int:
        """Add the images in ``folder``; returns how many (including failures)."""
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            failed.append((folder, f"{folder}: cannot list folder ({exc.strerror or one_line(exc)})"))
            return 1
        count, others, subdirs = 0, 0, []
        for entry in entries:
            path = Path(entry.path)
            if entry.name.startswith("."):
                continue
            problem = _stat_problem(path)
            if problem is not None:
                if path.suffix.lower() in IMAGE_SUFFIXES:
                    failed.append((path, problem))
                    count += 1
                else:
                    notes.append(f"skipped {problem}")
                continue
            if path.is_dir():
                real = os.path.realpath(path)
                if real in skip_dirs or real in visited:
                    continue  # the output folder, or a link back up the tree
                if recursive:
                    count += walk(path, root, visited | {real})
                else:
                    subdirs.append(entry.name)
            elif path.suffix.lower() in IMAGE_SUFFIXES:
                take(path, path.relative_to(root))
                count += 1
            else:
                others += 1
        notes.extend(_folder_notes(folder, subdirs, others))
        return count

    for item in inputs:
        path = as_path(item)
        problem = _stat_problem(path) if isinstance(path, Path) else None
        if problem is not None:
            failed.append((path, problem))
        elif isinstance(path, UriPath):
            _find_stored(path, recursive, skip_dirs, take, failed, notes)
        elif path.is_dir():
            if walk(path, path, frozenset({os.path.realpath(path)})) == 0:
                failed.append((path, _no_images(path, recursive)))
        else:
            take(path, Path(path.name))
    return found, failed, notes


def _folder_notes(folder: Path | UriPath, subdirs: list[str], others: int) -> list[str]:
    """The notices for a folder: sub-folders skipped without ``recursive``, files without an image suffix."""
    notes = []
    if subdirs:
        names = ", ".join(subdirs[:3]) + (", ..." if len(subdirs) > 3 else "")
        notes.append(f"{folder}: skipped {len(subdirs)} sub-folder(s) ({names}); use --recursive to include them")
    if others:
        notes.append(f"{folder}: skipped {others} file(s) without an image suffix")
    return notes


def _no_images(folder: Path | UriPath, recursive: bool) -> str:
    hint = "" if recursive else " (use --recursive to search its sub-folders)"
    return f"{folder}: no images found in this folder{hint}"


def _find_stored(item: UriPath, recursive: bool, skip: set[str], take: Callable, failed: list, notes: list) -> None:
    """:func:`find_inputs` for a URI: one listing (``FileSelector``), found and noted as a disk's walk would be.

    Files come in the walk's order (sorted by their path's parts), hidden names
    and the folders in ``skip`` are passed over, and each folder's notices come
    after its sub-folders' (the walk notes a folder when it has finished it).
    """
    try:
        kind = item.kind()
        entries = item.listdir(recursive=recursive) if kind == "folder" else []
    except OSError as exc:
        failed.append((item, f"{item}: cannot list folder ({exc.strerror or one_line(exc)})"))
        return
    if kind is None:
        failed.append((item, f"{item}: no such file or folder"))
        return
    if kind == "file":
        take(item, Path(item.name))
        return
    count, subdirs, others = 0, [], {}
    for path, is_dir in sorted(entries, key=lambda e: _parts(e[0], item)):
        parts, loc = _parts(path, item), location(path)
        if any(p.startswith(".") for p in parts) or any(loc == s or loc.startswith(s + "/") for s in skip):
            continue
        if is_dir:
            if not recursive:
                subdirs.append(path.name)
        elif path.suffix.lower() in IMAGE_SUFFIXES:
            take(path, Path(*parts))
            count += 1
        else:
            others[path.parent] = others.get(path.parent, 0) + 1
    last = chr(0x10FFFF)  # sorts a folder after its sub-folders
    for folder in sorted(others.keys() | {item}, key=lambda f: _parts(f, item) + (last,)):
        notes.extend(_folder_notes(folder, subdirs if folder == item else [], others.get(folder, 0)))
    if count == 0:
        failed.append((item, _no_images(item, recursive)))


def _parts(path: UriPath, folder: UriPath) -> tuple[str, ...]:
    """``path``'s parts below ``folder``."""
    return tuple(path.key[len(folder.key):].split("/")[1:])


def output_suffix(src: "str | os.PathLike | UriPath", suffix: str | None = None) -> str:
    """The output file suffix: ``suffix`` if given, else the input's when writable, else ``.png``."""
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
    same = next((p for p in inputs if p.is_dir() and _same_file(p, outdir)), None)
    if same is not None:  # a rerun would take the outputs for inputs
        raise ValueError(f"{outdir}: the output folder is the input folder {same}; choose another output folder")
    if suffix is not None:
        output_suffix("x", suffix)  # check it once, before any work
    found, failed, notes = find_inputs(inputs, recursive=recursive, exclude=[outdir])
    srcs = [src for src, _ in found]
    suffixes = [output_suffix(src, suffix) for src in srcs]
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

    input_files = {location(s): s for s in srcs}
    owner: dict[str, Path] = {}  # output name -> the input that writes it
    for src, dst in zip(srcs, dsts):
        owner.setdefault(_name_key(dst), src)
    plan = Plan(failed=failed, notes=notes)
    for src, dst in zip(srcs, dsts):
        job = Job(src, dst, dst.with_name(dst.stem + "_compare.png") if compare else None)
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


def _same_file(a: Path | UriPath, b: Path | UriPath) -> bool:
    return location(a) == location(b)


def _absolute(path: Path | UriPath) -> str:
    """An absolute path for ``path``, to find the folder that clashing inputs share: a URI's is ``/s3:/bucket/key``."""
    if isinstance(path, UriPath) and path.local is None:
        return "/" + path.root.replace("://", ":/", 1) + path.key
    return os.path.abspath(path.local if isinstance(path, UriPath) else path)


def _local(path: Path | UriPath) -> Path | None:
    """``path`` on this machine's disk (a ``file://`` URI's path), or None on an object store."""
    return path.local if isinstance(path, UriPath) else path


def colorize_one(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    model: "str | os.PathLike | Colorizer | None" = None,
    *,
    compare: str | os.PathLike | None = None,
    render_size: int | None = None,
    saturation: float | None = None,
    overwrite: bool = False,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    hints=None,
    scribbles=None,
    reference=None,
    reference_strength: float | None = None,
    data: bytes | None = None,
) -> FileOutcome:
    """Colorize one file into ``dst`` (and ``compare``); never raises for a bad file.

    Skip rule: when every output exists and ``overwrite`` is false, nothing is
    read or written (``skipped``); when some exist, only the missing ones are
    written. Outputs are written atomically (temp file, then rename), and never
    over ``src`` itself. Safe to call from many processes on different jobs of
    one :class:`Plan` (a distributed runner).

    Parameters
    ----------
    src, dst : path or URI
        Input file and output file (the format follows ``dst``'s suffix).
    model : name, path, Colorizer or None
        Pass a loaded model when colorizing many files: a name or path is loaded on every call.
    compare : path, optional
        Also write ``original | gray | colorized`` there.
    render_size, saturation : optional
        As for :func:`chromatize.colorize`.
    overwrite : bool
        Replace outputs that exist.
    max_pixels : int
        Refuse larger images (decompression bombs).
    hints, scribbles, reference, reference_strength : optional
        As for :func:`chromatize.colorize`; a hint outside this photo or
        scribbles of another size fail this file only.
    data : bytes, optional
        The bytes of ``src``, when a distributed runner has read them already;
        decoded as ``src`` would be (None or empty: ``src`` is read, so that an
        empty or unreadable file is reported the same way).

    Returns
    -------
    FileOutcome
        With ``error`` a line naming the file when it could not be read, colorized or written.
    """
    src, dst = as_path(src), as_path(dst)
    outputs = [dst] + ([as_path(compare)] if compare is not None else [])
    outcome = FileOutcome(src)
    if any(_same_file(p, src) for p in outputs):
        outcome.error = f"{src}: refusing to write over the input file"
        return outcome
    todo = outputs if overwrite else [p for p in outputs if not p.exists()]
    if not todo:
        outcome.skipped = True
        return outcome
    try:
        photo = decode_image(data, str(src), max_pixels=max_pixels) if data else read_image(src, max_pixels=max_pixels)
        out = colorize_photo(photo, load_model(model), render_size, saturation, hints=hints, scribbles=scribbles,
                             reference=reference, reference_strength=reference_strength)
        if photo.frames > 1:
            outcome.notes.append(f"{src}: has {photo.frames} frames or pages; colorized the first only")
        for path in todo:
            try:
                if path == dst:
                    if out.alpha is not None and dst.suffix.lower() in NO_ALPHA_SUFFIXES:
                        outcome.notes.append(f"{src}: {dst.suffix} cannot store transparency; "
                                             f"dropped it in {dst} (use --format png to keep it)")
                    write_image(dst, out.rgb, out.alpha, overwrite=overwrite)
                else:
                    strip = np.concatenate([photo.rgb, gray_to_rgb(photo.rgb), out.rgb], axis=1)
                    write_image(path, strip, overwrite=overwrite)
            except OutputExistsError:
                raise
            except OSError as exc:  # name the output, not the temp file the error may mention
                outcome.error = f"{src}: cannot write {path} ({exc.strerror or one_line(exc)})"
                return outcome
            outcome.written.append(path)
    except ImageReadError as exc:
        outcome.error = one_line(exc)
    except OutputExistsError:  # another process wrote it meanwhile
        outcome.skipped = not outcome.written
    except MemoryError:
        outcome.error = f"{src}: not enough memory to colorize it (try a smaller --render-size)"
    except (OSError, ValueError, cv2.error) as exc:
        outcome.error = f"{src}: {one_line(exc)}"
    return outcome


def start_batch(
    inputs: Iterable[str | os.PathLike],
    outdir: str | os.PathLike,
    model: "str | os.PathLike | Colorizer | None" = None,
    *,
    render_size: int | None = None,
    saturation: float | None = None,
    compare: bool = False,
    suffix: str | None = None,
    recursive: bool = False,
    hints=None,
    scribbles=None,
    reference=None,
    reference_strength: float | None = None,
) -> tuple[Plan, Colorizer, dict, BatchResult]:
    """Everything a batch does before its first file; :func:`colorize_files` and distributed runners start here.

    Checks the settings, plans every output (:func:`plan_outputs`), loads the
    model, checks the guidance once (:func:`chromatize.infer.check_guidance`)
    and that the output folder is writable, and removes the temp files that
    killed runs left in the output folders. Parameters are those of :func:`colorize_files`.

    Returns
    -------
    plan : Plan
    model : Colorizer
    guidance : dict
        Keywords for :func:`colorize_one` (the parsed hints, scribbles, reference).
    result : BatchResult
        Holding the plan's failures and notes and the temp files removed; add each file's outcome to it.

    Raises
    ------
    As :func:`colorize_files`.
    """
    check_settings(render_size, saturation)
    plan = plan_outputs(inputs, outdir, recursive=recursive, suffix=suffix, compare=compare)
    model = load_model(model)
    guidance = check_guidance(model, hints, scribbles, reference, reference_strength)
    out = _local(as_path(outdir))  # an object store: no permission bits, no temp files
    if plan.jobs and out is not None and out.is_dir() and not os.access(out, os.W_OK | os.X_OK):
        raise PermissionError(f"{out}: the output folder is not writable")
    result = BatchResult(failed=list(plan.failed), notes=list(plan.notes))
    for folder in plan.out_folders:
        if _local(folder) is not None:
            result.removed_temp += clean_temp_files(_local(folder))
    return plan, model, guidance, result


def colorize_files(
    inputs: Iterable[str | os.PathLike],
    outdir: str | os.PathLike,
    model: "str | os.PathLike | Colorizer | None" = None,
    *,
    render_size: int | None = None,
    saturation: float | None = None,
    overwrite: bool = False,
    compare: bool = False,
    suffix: str | None = None,
    recursive: bool = False,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    progress: Callable[[int, int, Path], None] | None = None,
    hints=None,
    scribbles=None,
    reference=None,
    reference_strength: float | None = None,
) -> BatchResult:
    """Colorize files and folders into ``outdir``; a rerun finishes what is missing.

    Outputs are named by :func:`plan_outputs` (input folders' layout kept, clashes
    renamed, never over an input). Files whose outputs all exist are skipped
    unless ``overwrite`` (so a rerun after a crash or kill does only the rest);
    temp files that killed runs left in the output folders are removed first.
    A file that cannot be read or written is recorded in ``BatchResult.failed``
    and the batch goes on.

    Parameters
    ----------
    inputs : iterable of paths or URIs
        Files or folders (a folder's images, sorted); ``s3://bucket/scans``
        and other URIs through pyarrow's filesystems.
    outdir : path or URI
        Created if needed.
    model : name, path, Colorizer or None
        None for the default model.
    render_size, saturation : optional
        As for :func:`chromatize.colorize`.
    overwrite : bool
        Replace existing outputs (never an input file).
    compare : bool
        Also write ``<stem>_compare.png``: original | gray | colorized side by side.
    suffix : str, optional
        Output format (``".png"``, ``".jpg"``); default: the input's.
    recursive : bool
        Also colorize images in sub-folders of input folders.
    max_pixels : int
        Refuse larger images (decompression bombs).
    progress : callable, optional
        Called as ``progress(done, total, path)`` after each input file.
    hints, scribbles, reference, reference_strength : optional
        As for :func:`chromatize.colorize`, the same for every file: checked
        once before any work (:func:`chromatize.infer.check_guidance`); a hint
        outside a photo or scribbles of another size fail that file only.

    Returns
    -------
    BatchResult

    Raises
    ------
    chromatize.models.ModelFormatError
        If the model cannot be loaded (nothing is written then).
    NotADirectoryError
        If ``outdir`` is a file.
    PermissionError
        If ``outdir`` is a folder this process cannot write in.
    ValueError, TypeError
        If a setting is out of range, or hints or scribbles are given to a model without hint support.
    chromatize.hints.HintError, chromatize.io.ImageReadError
        If the hints file, the scribbles or the reference cannot be read (one line naming the file and entry).
    """
    plan, model, guidance, result = start_batch(
        inputs, outdir, model, render_size=render_size, saturation=saturation, compare=compare, suffix=suffix,
        recursive=recursive, hints=hints, scribbles=scribbles, reference=reference,
        reference_strength=reference_strength)
    for done, job in enumerate(plan.jobs, 1):
        result.add(colorize_one(job.src, job.dst, model, compare=job.compare, render_size=render_size,
                                saturation=saturation, overwrite=overwrite, max_pixels=max_pixels, **guidance))
        if progress is not None:
            progress(done, len(plan.jobs), job.src)
    return result
