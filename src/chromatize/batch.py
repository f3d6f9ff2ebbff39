"""Colorizing many files: outputs named after inputs, bad files reported, not fatal."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from .color import gray_to_rgb
from .infer import check_settings, colorize_photo
from .io import DEFAULT_MAX_PIXELS, ImageReadError, OutputExistsError, list_images, read_image, write_image
from .models import Colorizer, load_model
from .text import one_line

__all__ = ["BatchResult", "colorize_files", "sample_images"]


@dataclass
class BatchResult:
    """What a batch did: files written, and (input, one-line reason) for each failure."""

    written: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)


def sample_images() -> list[Path]:
    """The sample photos bundled with the package (Kodak, unrestricted use)."""
    root = Path(str(resources.files("chromatize") / "samples"))
    return sorted(p for p in root.iterdir() if p.suffix.lower() == ".png")


def _output_path(src: Path, outdir: Path, suffix: str | None, has_alpha: bool) -> Path:
    if suffix is None:
        suffix = src.suffix.lower() if src.suffix.lower() in (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp") else ".png"
        if has_alpha and suffix in (".jpg", ".jpeg"):
            suffix = ".png"  # keep the alpha the input had
    return outdir / (src.stem + suffix)


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
    max_pixels: int = DEFAULT_MAX_PIXELS,
    progress: Callable[[Path], None] | None = None,
) -> BatchResult:
    """Colorize files and folders into ``outdir``.

    Each output keeps its input's file stem (and suffix, unless ``suffix`` is
    given). A file that cannot be read or written is recorded in
    ``BatchResult.failed`` and the batch goes on.

    Parameters
    ----------
    inputs : iterable of paths
        Files or folders (a folder's images, sorted).
    outdir : path
        Created if needed.
    model : name, path, Colorizer or None
        None for the default model.
    render_size, saturation : optional
        As for :func:`chromatize.colorize`.
    compare : bool
        Also write ``<stem>_compare.png``: original | gray | colorized side by side.
    progress : callable, optional
        Called with each input path once it is done.

    Raises
    ------
    chromatize.models.ModelFormatError
        If the model cannot be loaded (nothing is written then).
    """
    check_settings(render_size, saturation)
    model = load_model(model)
    outdir = Path(outdir)
    result = BatchResult()
    for src in list_images(inputs):
        try:
            photo = read_image(src, max_pixels=max_pixels)
            dst = _output_path(src, outdir, suffix, photo.alpha is not None)
            if dst.exists() and not overwrite:
                raise OutputExistsError(f"{dst}: exists (use --overwrite to replace it)")
            out = colorize_photo(photo, model, render_size, saturation)
            write_image(dst, out.rgb, out.alpha, overwrite=overwrite)
            result.written.append(dst)
            if compare:
                strip = np.concatenate([photo.rgb, gray_to_rgb(photo.rgb), out.rgb], axis=1)
                cmp_path = outdir / f"{src.stem}_compare.png"
                write_image(cmp_path, strip, overwrite=overwrite)
                result.written.append(cmp_path)
        except (ImageReadError, OutputExistsError) as exc:
            result.failed.append((src, str(exc)))
        except (OSError, ValueError) as exc:
            result.failed.append((src, f"{src}: {one_line(exc)}"))
        if progress is not None:
            progress(src)
    return result
