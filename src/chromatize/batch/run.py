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
from ..infer import check_guidance, check_settings, colorize_photo
from ..io import (DEFAULT_MAX_PIXELS, ImageReadError, OutputExistsError, UriPath, as_path, clean_temp_files,
                  decode_image, is_video, read_image, write_image)
from ..models import Colorizer, load_model
from ..text import one_line
from .plan import Plan, plan_outputs, same_file
from .video import VideoSettings, colorize_video_job, photo_hints, video_settings

if TYPE_CHECKING:
    from ..video import VideoOptions

__all__ = ["FileOutcome", "BatchResult", "colorize_one", "start_batch", "colorize_files"]


#: Formats that cannot store an alpha channel.
NO_ALPHA_SUFFIXES = (".jpg", ".jpeg")


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
    video: VideoSettings | None = None,
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
    video : chromatize.batch.video.VideoSettings, optional
        For a video ``src`` (a video suffix): temporal and encoding options and
        the hints by frame (default: :class:`VideoSettings`); ``compare`` is not written for videos.

    Returns
    -------
    FileOutcome
        With ``error`` a line naming the file when it could not be read, colorized or written.
    """
    src, dst = as_path(src), as_path(dst)
    outputs = [dst] + ([as_path(compare)] if compare is not None else [])
    outcome = FileOutcome(src)
    if any(same_file(p, src) for p in outputs):
        outcome.error = f"{src}: refusing to write over the input file"
        return outcome
    todo = outputs if overwrite else [p for p in outputs if not p.exists()]
    if not todo:
        outcome.skipped = True
        return outcome
    if is_video(src):  # a film (chromatize.batch.video); ``data`` is not used: it is streamed from disk
        return colorize_video_job(src, dst, load_model(model), outcome, settings=video or VideoSettings(),
                                  overwrite=overwrite, render_size=render_size, saturation=saturation,
                                  guidance={"scribbles": scribbles, "reference": reference,
                                            "reference_strength": reference_strength})
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
    guidance = check_guidance(model, photo_hints(hints), scribbles, reference, reference_strength)
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
    video: "VideoOptions | None" = None,
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
        For videos, hints may carry ``"frame": N`` (photos take those of frame 0).
    video : chromatize.video.VideoOptions, optional
        For the inputs with a video suffix: temporal settings, H.264 quality, a
        per-frame progress callback (default: :class:`chromatize.video.VideoOptions`).

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
    films = video_settings(video, hints) if any(is_video(job.src) for job in plan.jobs) else None
    for done, job in enumerate(plan.jobs, 1):
        result.add(colorize_one(job.src, job.dst, model, compare=job.compare, render_size=render_size,
                                saturation=saturation, overwrite=overwrite, max_pixels=max_pixels, **guidance,
                                video=films))
        if progress is not None:
            progress(done, len(plan.jobs), job.src)
    return result
