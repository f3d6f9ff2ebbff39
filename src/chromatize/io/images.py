"""Reading and writing images safely.

* Reading turns any common image into 8-bit RGB plus an optional alpha plane:
  EXIF orientation is applied; grayscale, RGB, RGBA, palette, CMYK and 16-bit
  images are handled. Every failure is an ``ImageReadError`` whose message is
  one line naming the file and the problem.
* Writing is atomic (a temp file in the target folder, then a rename), and an
  existing file is never replaced unless ``overwrite=True``.
"""

from __future__ import annotations

import base64
import os
import warnings
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Iterable

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..text import one_line
from .atomic import OutputExistsError, atomic_output

__all__ = [
    "IMAGE_SUFFIXES",
    "DEFAULT_MAX_PIXELS",
    "ImageReadError",
    "OutputExistsError",
    "Photo",
    "read_image",
    "decode_image",
    "encode_png",
    "png_data_uri",
    "thumbnail",
    "write_image",
    "list_images",
    "as_photo",
]

#: File suffixes taken as images when a folder is given.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".gif")
#: Images with more pixels than this are refused (decompression bombs). 24 MP photos pass.
DEFAULT_MAX_PIXELS = 100_000_000


class ImageReadError(ValueError):
    """An input image is missing, unreadable, truncated, not an image or too large."""


@dataclass
class Photo:
    """A decoded photo.

    Attributes
    ----------
    rgb : ndarray of uint8, shape (H, W, 3)
    alpha : ndarray of uint8, shape (H, W), or None
    """

    rgb: np.ndarray
    alpha: np.ndarray | None = None


def _to_uint8(a: np.ndarray) -> np.ndarray:
    """Scale 16-bit or 32-bit integer samples to 0..255."""
    if a.dtype == np.uint8:
        return a
    if a.dtype == np.bool_:
        return a.astype(np.uint8) * 255
    if np.issubdtype(a.dtype, np.floating):
        hi = 1.0 if float(np.nanmax(a, initial=0)) <= 1.0 else 255.0
        return np.clip(np.rint(a / hi * 255), 0, 255).astype(np.uint8)
    hi = 65535 if a.max(initial=0) > 255 else 255
    return np.clip(np.rint(a.astype(np.float64) / hi * 255), 0, 255).astype(np.uint8)


def _pil_to_photo(img: Image.Image) -> Photo:
    """Convert a loaded Pillow image of any mode to a Photo."""
    mode = img.mode
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    elif mode in ("1", "CMYK", "YCbCr", "LAB", "HSV"):
        img = img.convert("RGB")
    elif mode == "PA":
        img = img.convert("RGBA")
    mode = img.mode
    if mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        rgb = _to_uint8(np.asarray(img))
        return Photo(np.repeat(rgb[..., None], 3, axis=2))
    if mode == "L":
        g = np.asarray(img)
        return Photo(np.repeat(g[..., None], 3, axis=2))
    if mode == "LA":
        a = np.asarray(img)
        return Photo(np.repeat(a[..., :1], 3, axis=2), a[..., 1].copy())
    if mode == "RGBA":
        a = np.asarray(img)
        return Photo(np.ascontiguousarray(a[..., :3]), a[..., 3].copy())
    if mode != "RGB":
        img = img.convert("RGB")
    return Photo(np.asarray(img).copy())


def read_image(path: str | os.PathLike, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Photo:
    """Read an image file as 8-bit RGB (+ alpha), EXIF orientation applied.

    Parameters
    ----------
    path : str or path
    max_pixels : int
        Refuse images with more pixels than this (checked before decoding).

    Returns
    -------
    Photo

    Raises
    ------
    ImageReadError
        One line: ``"<path>: <problem>"``.
    """
    path = Path(path)
    if not path.exists():
        raise ImageReadError(f"{path}: file not found")
    if path.is_dir():
        raise ImageReadError(f"{path}: is a folder, not an image file")
    return _decode(path, str(path), max_pixels)


def decode_image(data: bytes, name: str = "<upload>", *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Photo:
    """Decode image file bytes (an upload, say) like :func:`read_image`; ``name`` labels errors."""
    return _decode(BytesIO(data), name, max_pixels)


def _decode(source: "Path | BytesIO", label: str, max_pixels: int) -> Photo:
    """Open, check the size, decode and orient an image; every failure one ImageReadError line."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(source) as img:
                w, h = img.size
                if w * h > max_pixels:
                    raise ImageReadError(
                        f"{label}: {w}x{h} = {w * h:,} pixels is over the limit of {max_pixels:,} "
                        "(possible decompression bomb; raise max_pixels to allow it)"
                    )
                img.load()
                img = ImageOps.exif_transpose(img)
                return _pil_to_photo(img)
    except ImageReadError:
        raise
    except UnidentifiedImageError:
        raise ImageReadError(f"{label}: not an image file (format not recognised)") from None
    except Image.DecompressionBombError as exc:
        raise ImageReadError(f"{label}: too many pixels ({exc})") from None
    except PermissionError:
        raise ImageReadError(f"{label}: permission denied") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageReadError(f"{label}: truncated or corrupt image ({one_line(exc)})") from None


def encode_png(rgb: np.ndarray, alpha: np.ndarray | None = None) -> bytes:
    """PNG file bytes of an RGB (+ alpha) image."""
    img = Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8), "RGB")
    if alpha is not None:
        img.putalpha(Image.fromarray(np.ascontiguousarray(alpha, dtype=np.uint8), "L"))
    buf = BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def png_data_uri(rgb: np.ndarray) -> str:
    """An RGB uint8 image as a ``data:image/png;base64,...`` URI for ``<img src>``."""
    return "data:image/png;base64," + base64.b64encode(encode_png(rgb)).decode("ascii")


def thumbnail(rgb: np.ndarray, max_side: int) -> np.ndarray:
    """Downscale (INTER_AREA) so the longer side is at most ``max_side``; never upscales."""
    h, w = rgb.shape[:2]
    s = max_side / max(h, w)
    if s >= 1:
        return rgb
    return cv2.resize(rgb, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)


def as_photo(image: "str | os.PathLike | np.ndarray | Photo", *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Photo:
    """Accept a path, a Photo, or an array (H, W), (H, W, 3) or (H, W, 4).

    Raises
    ------
    TypeError, ValueError
        If an array has another shape or dtype.
    ImageReadError
        If a path cannot be read.
    """
    if isinstance(image, Photo):
        return image
    if isinstance(image, (str, os.PathLike)):
        return read_image(image, max_pixels=max_pixels)
    if not isinstance(image, np.ndarray):
        raise TypeError(f"image must be a path or numpy array, got {type(image).__name__}")
    if image.ndim == 2:
        g = _to_uint8(image)
        return Photo(np.repeat(g[..., None], 3, axis=2))
    if image.ndim == 3 and image.shape[2] in (3, 4):
        a = _to_uint8(image)
        if a.shape[2] == 4:
            return Photo(np.ascontiguousarray(a[..., :3]), a[..., 3].copy())
        return Photo(np.ascontiguousarray(a))
    raise ValueError(f"image array must have shape (H, W), (H, W, 3) or (H, W, 4), got {image.shape}")


def write_image(
    path: str | os.PathLike,
    rgb: np.ndarray,
    alpha: np.ndarray | None = None,
    *,
    overwrite: bool = False,
    quality: int = 95,
) -> Path:
    """Write an RGB (+ alpha) image atomically; the format follows the suffix.

    Raises
    ------
    OutputExistsError
        If ``path`` exists and ``overwrite`` is false.
    ValueError
        If the suffix is not an image format Pillow can write.
    """
    path = Path(path)
    img = Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8), "RGB")
    fmt = Image.registered_extensions().get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path}: unknown image format {path.suffix!r}")
    if alpha is not None and fmt != "JPEG":  # JPEG cannot store alpha
        img.putalpha(Image.fromarray(np.ascontiguousarray(alpha, dtype=np.uint8), "L"))
    with atomic_output(path, overwrite=overwrite) as tmp:
        kwargs = {"quality": quality} if fmt in ("JPEG", "WEBP") else {}
        img.save(tmp, format=fmt, **kwargs)
    return path


def list_images(inputs: Iterable[str | os.PathLike], *, recursive: bool = False) -> list[Path]:
    """Expand files and folders into a list of image paths.

    Files are kept as given (whatever their suffix, so that a bad file is
    reported rather than skipped); folders contribute their files with an image
    suffix, sorted. A missing input is kept, so that reading reports it.
    """
    out: list[Path] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            pattern = "**/*" if recursive else "*"
            out.extend(sorted(q for q in p.glob(pattern) if q.is_file() and q.suffix.lower() in IMAGE_SUFFIXES))
        else:
            out.append(p)
    return out
