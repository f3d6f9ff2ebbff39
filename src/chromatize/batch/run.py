"""Running a batch: one file at a time, never raising for a bad file, and what the batch did.

:func:`colorize_one` does one job of a :class:`~chromatize.batch.plan.Plan`
(skip if done, read, colorize, write atomically) and returns a
:class:`FileOutcome`; :func:`start_batch` is everything before the first file
(checks, plan, model, temp-file clean-up); :func:`colorize_files` is it and a
loop over the jobs, collecting the outcomes in a :class:`BatchResult`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

import cv2
import numpy as np

from ..color import gray_to_rgb
from ..guidance import NO_GUIDANCE, Guidance
from ..infer import colorize_photo
from ..io import (DEFAULT_MAX_PIXELS, ImageReadError, OutputExistsError, Photo, UriPath, as_path,
                  clean_temp_files, decode_image, is_video, read_image, video_written_by_chromatize, write_image,
                  written_by_chromatize)
from ..models import Colorizer, ModelRunError, load_model
from ..text import one_line
from .plan import Plan, plan_outputs, same_file
from .video import colorize_video_job

if TYPE_CHECKING:
    from ..video import VideoOptions

__all__ = ["FileOutcome", "BatchResult", "BatchOptions", "output_is_ours", "colorize_one", "compare_strip", "start_batch",
           "colorize_files"]


#: Formats that cannot store an alpha channel.
NO_ALPHA_SUFFIXES = (".jpg", ".jpeg")


@dataclass(frozen=True)
class BatchOptions:
    """How a batch names, writes and skips its outputs, the same for every file (see :func:`colorize_files`)."""

    overwrite: bool = False  #: replace outputs that exist (never an input file)
    compare: bool = False  #: also write ``<stem>_compare.png``: original | gray | colorized
    suffix: str | None = None  #: output format (``".png"``, ``".jpg"``); None: the input's
    recursive: bool = False  #: also colorize images in sub-folders of input folders
    max_pixels: int = DEFAULT_MAX_PIXELS  #: refuse larger images (decompression bombs)
    #: for the inputs with a video suffix: temporal settings, H.264 quality, a per-frame progress callback
    video: "VideoOptions | None" = None


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


def _local(path: Path | UriPath) -> Path | None:
    """``path`` on this machine's disk (a ``file://`` URI's path), or None on an object store."""
    return path.local if isinstance(path, UriPath) else path


def _outputs_to_write(outcome: FileOutcome, outputs: list, overwrite: bool) -> list:
    """The outputs to write: none when one is the input or a file chromatize did not write (``outcome.error``) or
    when all are done (``outcome.skipped``); those missing; all of them with ``overwrite``."""
    src = outcome.src
    if any(same_file(p, src) for p in outputs):
        outcome.error = f"{src}: refusing to write over the input file"
        return []
    there = [p for p in outputs if p.exists()]
    foreign = next((p for p in there if not output_is_ours(src, p)), None)
    if foreign is not None:
        outcome.error = (f"{src}: refusing to replace {foreign}, which chromatize did not write "
                         "(move it, or choose another output folder)")
        return []
    todo = outputs if overwrite else [p for p in outputs if p not in there]
    outcome.skipped = not todo
    return todo


def output_is_ours(src: Path | UriPath, path: Path | UriPath) -> bool:
    """Whether the output ``path`` of input ``src`` carries chromatize's mark (a video's in its metadata)."""
    return video_written_by_chromatize(path) if is_video(src) else written_by_chromatize(path)


def colorize_one(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    model: "str | os.PathLike | Colorizer | None" = None,
    guidance: Guidance = NO_GUIDANCE,
    *,
    compare: str | os.PathLike | None = None,
    overwrite: bool = False,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    data: bytes | None = None,
    video: "VideoOptions | None" = None,
) -> FileOutcome:
    """Colorize one file into ``dst`` (and ``compare``); never raises for a bad file.

    Skip rule: when every output exists and ``overwrite`` is false, nothing is
    read or written (``skipped``); when some exist, only the missing ones are
    written. Only files chromatize wrote count as done or are replaced
    (:func:`chromatize.io.written_by_chromatize`): when an output's name is
    taken by any other file (a user's photo, an input of this run), the file
    fails with a line naming it, whatever ``overwrite``. Outputs are written
    atomically (temp file, then rename), and never over ``src`` itself. Safe to call from many processes on different jobs of
    one :class:`Plan` (a distributed runner).

    Parameters
    ----------
    src, dst : path or URI
        Input file and output file (the format follows ``dst``'s suffix).
    model : name, path, Colorizer or None
        Pass a loaded model when colorizing many files: a name or path is loaded on every call.
    guidance : chromatize.guidance.Guidance
        Working size, colour gain, hints, scribbles, reference; a hint outside
        this photo or scribbles of another size fail this file only.
    compare : path, optional
        Also write ``original | gray | colorized`` there.
    overwrite : bool
        Replace outputs that exist.
    max_pixels : int
        Refuse larger images (decompression bombs).
    data : bytes, optional
        The bytes of ``src``, when a distributed runner has read them already;
        decoded as ``src`` would be (None or empty: ``src`` is read, so that an
        empty or unreadable file is reported the same way).
    video : chromatize.video.VideoOptions, optional
        For a video ``src`` (a video suffix): temporal and encoding options
        (default: :class:`~chromatize.video.VideoOptions`); the hints by frame are the guidance's;
        ``compare`` is not written for videos.

    Returns
    -------
    FileOutcome
        With ``error`` a line naming the file when it could not be read, colorized or written.
    """
    src, dst = as_path(src), as_path(dst)
    outcome = FileOutcome(src)
    todo = _outputs_to_write(outcome, [dst] + ([as_path(compare)] if compare is not None else []), overwrite)
    if not todo:
        return outcome
    if is_video(src):  # a film (chromatize.batch.video); ``data`` is not used: it is streamed from disk
        return colorize_video_job(src, dst, load_model(model), outcome, guidance=guidance, options=video,
                                  overwrite=overwrite)
    try:
        photo = decode_image(data, str(src), max_pixels=max_pixels) if data else read_image(src, max_pixels=max_pixels)
        out = colorize_photo(photo, load_model(model), guidance)
        if photo.frames > 1:
            outcome.notes.append(f"{src}: has {photo.frames} frames or pages; colorized the first only")
        _write_outputs(outcome, photo, out, dst, todo, overwrite)
    except ImageReadError as exc:
        outcome.error = one_line(exc)
    except OutputExistsError:  # another process wrote it meanwhile
        outcome.skipped = not outcome.written
    except MemoryError:
        outcome.error = f"{src}: not enough memory to colorize it (try a smaller --render-size)"
    except (OSError, ValueError, cv2.error, ModelRunError) as exc:
        outcome.error = f"{src}: {one_line(exc)}"
    return outcome


def compare_strip(rgb: np.ndarray, colorized: np.ndarray, notes: list[str], src: object = "") -> np.ndarray:
    """``original | gray | colorized`` side by side (H, 3W, 3); for a gray original, ``gray | colorized`` and a note.

    Two identical gray panels said nothing (issue 22), so a photo whose
    channels are all equal gets two panels, and ``notes`` a line saying why.
    """
    if np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2]):
        notes.append(f"{src}: the photo is gray already: its compare strip is gray | colorized")
        return np.concatenate([rgb, colorized], axis=1)
    return np.concatenate([rgb, gray_to_rgb(rgb), colorized], axis=1)


def _write_outputs(outcome: FileOutcome, photo: Photo, out: Photo, dst: Path | UriPath, todo: list,
                   overwrite: bool) -> None:
    """Write the colorized photo to ``dst`` and the comparison strip to the other path of ``todo``, recording them
    in ``outcome`` (a write that fails is its ``error``; ``OutputExistsError`` is raised: another process won)."""
    src = outcome.src
    for path in todo:
        try:
            if path == dst:
                if out.alpha is not None and dst.suffix.lower() in NO_ALPHA_SUFFIXES:
                    outcome.notes.append(f"{src}: {dst.suffix} cannot store transparency; "
                                         f"dropped it in {dst} (use --format png to keep it)")
                write_image(dst, out.rgb, out.alpha, overwrite=overwrite)
            else:
                write_image(path, compare_strip(photo.rgb, out.rgb, outcome.notes, src), overwrite=overwrite)
        except OutputExistsError:
            raise
        except OSError as exc:  # name the output, not the temp file the error may mention
            outcome.error = f"{src}: cannot write {path} ({exc.strerror or one_line(exc)})"
            return
        outcome.written.append(path)


def start_batch(
    inputs: Iterable[str | os.PathLike],
    outdir: str | os.PathLike,
    model: "str | os.PathLike | Colorizer | None" = None,
    guidance: Guidance = NO_GUIDANCE,
    options: BatchOptions = BatchOptions(),
) -> tuple[Plan, Colorizer, BatchResult]:
    """Everything a batch does before its first file; :func:`colorize_files` and distributed runners start here.

    Plans every output (:func:`plan_outputs`), loads the model, checks that it
    takes the guidance and that the output folder is writable, and removes the
    temp files that killed runs left in the output folders. Parameters are
    those of :func:`colorize_files`, the output options as a :class:`BatchOptions`.

    Returns
    -------
    plan : Plan
    model : Colorizer
    result : BatchResult
        Holding the plan's failures and notes and the temp files removed; add each file's outcome to it.

    Raises
    ------
    As :func:`colorize_files`.
    """
    plan = plan_outputs(inputs, outdir, recursive=options.recursive, suffix=options.suffix, compare=options.compare)
    model = load_model(model)
    guidance.check_model(model)
    out = _local(as_path(outdir))  # an object store: no permission bits, no temp files
    if plan.jobs and out is not None and out.is_dir() and not os.access(out, os.W_OK | os.X_OK):
        raise PermissionError(f"{out}: the output folder is not writable")
    result = BatchResult(failed=list(plan.failed), notes=list(plan.notes))
    for folder in plan.out_folders:
        if _local(folder) is not None:
            result.removed_temp += clean_temp_files(_local(folder))
    return plan, model, result


def colorize_files(
    inputs: Iterable[str | os.PathLike],
    outdir: str | os.PathLike,
    model: "str | os.PathLike | Colorizer | None" = None,
    guidance: Guidance = NO_GUIDANCE,
    options: BatchOptions = BatchOptions(),
    *,
    progress: Callable[[int, int, Path], None] | None = None,
) -> BatchResult:
    """Colorize files and folders into ``outdir``; a rerun finishes what is missing.

    Outputs are named by :func:`plan_outputs` (input folders' layout kept, clashes
    renamed, never over an input). Files whose outputs all exist are skipped
    unless ``options.overwrite`` (so a rerun after a crash or kill does only the rest);
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
    guidance : chromatize.guidance.Guidance
        Working size, colour gain, hints, scribbles and reference, the same
        for every file, parsed once (:meth:`chromatize.Guidance.build`); a
        hint outside a photo or scribbles of another size fail that file only.
    options : BatchOptions
        Overwrite, comparison strips, output format, sub-folders, the pixel
        limit and the videos' options (``BatchOptions(overwrite=True, ...)``).
    progress : callable, optional
        Called as ``progress(done, total, path)`` after each input file.

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
    ValueError
        If hints or scribbles are given to a model without hint support.
    """
    plan, model, result = start_batch(inputs, outdir, model, guidance, options)
    for done, job in enumerate(plan.jobs, 1):
        result.add(colorize_one(job.src, job.dst, model, guidance, compare=job.compare, overwrite=options.overwrite,
                                max_pixels=options.max_pixels, video=options.video))
        if progress is not None:
            progress(done, len(plan.jobs), job.src)
    return result
