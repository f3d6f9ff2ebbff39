"""Reading and writing images safely.

* Reading turns any common image into 8-bit RGB plus an optional alpha plane:
  EXIF orientation is applied; grayscale, RGB, RGBA, palette, CMYK and 16-bit
  images are handled. Every failure is an ``ImageReadError`` whose message is
  one line naming the file and the problem.
* Writing is atomic (a temp file in the target folder, then a rename), and an
  existing file is never replaced unless ``overwrite=True``. Every image
  written is marked as chromatize's (:func:`written_by_chromatize`), so that a
  batch replaces or skips only files it wrote, never a user's own.
"""

from __future__ import annotations

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
from .uri import UriPath

__all__ = [
    "IMAGE_SUFFIXES",
    "DEFAULT_MAX_PIXELS",
    "ImageReadError",
    "OutputExistsError",
    "Photo",
    "read_image",
    "decode_image",
    "encode_png",
    "thumbnail",
    "write_image",
    "written_by_chromatize",
    "OUTPUT_MARK",
    "list_images",
    "as_photo",
    "array_to_uint8",
]

#: File suffixes taken as images when a folder is given.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".gif")
#: Images with more pixels than this are refused (decompression bombs). 24 MP photos pass.
DEFAULT_MAX_PIXELS = 100_000_000


#: The EXIF ``Software`` tag of every image :func:`write_image` writes (BMP, which has no metadata: its header's
#: four reserved bytes hold ``_BMP_MARK``), so that a batch can tell its own outputs from a user's files.
OUTPUT_MARK = "chromatize"
_BMP_MARK = b"chrz"
_EXIF_SOFTWARE = 0x0131


class ImageReadError(ValueError):
    """An input image is missing, unreadable, truncated, not an image or too large."""


@dataclass
class Photo:
    """A decoded photo.

    Attributes
    ----------
    rgb : ndarray of uint8, shape (H, W, 3)
    alpha : ndarray of uint8, shape (H, W), or None
    frames : int
        Frames (pages) in the file; only the first is decoded.
    """

    rgb: np.ndarray
    alpha: np.ndarray | None = None
    frames: int = 1


def _scale_to_uint8(a: np.ndarray, hi: float) -> np.ndarray:
    """Samples in 0..``hi`` to uint8 0..255 (rounded; values outside clipped)."""
    return np.clip(np.rint(a.astype(np.float64) * (255.0 / hi)), 0, 255).astype(np.uint8)


def _file_sample_max(mode: str, bits: int | None) -> float:
    """The largest sample value of a one-channel integer image, from its mode (and TIFF bit depth)."""
    if mode.startswith("I;16"):
        return 65535.0
    # "I" is a 32-bit container: a TIFF says its depth; PNG (older Pillow) and PGM hold 16 bits.
    return float(2 ** min(bits or 16, 32) - 1)


class _BadSamples(ValueError):
    """A decoded file's samples are unusable (NaN, out of range); becomes an ImageReadError."""


def array_to_uint8(a: np.ndarray, what: str = "image array") -> np.ndarray:
    """An image array's samples as uint8, the bit depth taken from the dtype, never from the values.

    uint8 is kept; bool becomes 0/255; uint16 is 0..65535; other integer
    types must hold 0..255; floats must be finite and in 0..1.

    Raises
    ------
    TypeError
        For any other dtype.
    ValueError
        Saying which values are out of range, or how many are NaN/infinite.
    """
    kind = a.dtype.kind
    if a.dtype == np.uint8:
        return a
    if kind == "b":
        return a.astype(np.uint8) * 255
    if a.dtype == np.uint16:
        return _scale_to_uint8(a, 65535.0)
    if kind in "iu":
        lo, hi = int(a.min()), int(a.max())
        if lo < 0 or hi > 255:
            raise ValueError(f"{a.dtype} {what} values must be in 0..255, got {lo}..{hi} "
                             "(use uint16 for 16-bit samples)")
        return a.astype(np.uint8)
    if kind == "f":
        a = a.astype(np.float32, copy=False) if a.dtype.itemsize < 4 else a
        bad = a.size - int(np.count_nonzero(np.isfinite(a)))
        if bad:
            raise ValueError(f"{a.dtype} {what} has {bad} NaN or infinite value(s)")
        lo, hi = float(a.min()), float(a.max())
        if lo < -1e-6 or hi > 1 + 1e-6:
            raise ValueError(f"{a.dtype} {what} values must be in 0..1, got {lo:.6g}..{hi:.6g} "
                             "(divide 8-bit values by 255)")
        return _scale_to_uint8(a, 1.0)
    raise TypeError(f"{what} dtype {a.dtype} is not supported (use uint8, uint16, or float in 0..1)")


def _pil_to_photo(img: Image.Image, bits: int | None = None) -> Photo:
    """Convert a loaded Pillow image of any mode to a Photo (``bits``: a TIFF's bits per sample)."""
    mode = img.mode
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    elif mode in ("1", "CMYK", "YCbCr", "LAB", "HSV"):
        img = img.convert("RGB")
    elif mode == "PA":
        img = img.convert("RGBA")
    mode = img.mode
    if mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        # The bit depth comes from the mode: a dark 16-bit photo (all values <= 255) stays dark.
        a = np.asarray(img)
        if mode == "F":
            try:
                rgb = array_to_uint8(a, "floating-point image")
            except ValueError as exc:
                raise _BadSamples(str(exc)) from None
        else:
            rgb = _scale_to_uint8(a, _file_sample_max(mode, bits))
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


def read_image(path: "str | os.PathLike | UriPath", *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Photo:
    """Read an image file as 8-bit RGB (+ alpha), EXIF orientation applied.

    Parameters
    ----------
    path : str, path or UriPath
        A ``UriPath`` (``s3://...``) is read through pyarrow's filesystem.
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
    if isinstance(path, UriPath):
        return _read_stored(path, max_pixels)
    path = Path(path)
    if not path.exists():
        raise ImageReadError(f"{path}: file not found")
    if path.is_dir():
        raise ImageReadError(f"{path}: is a folder, not an image file")
    if path.stat().st_size == 0:
        raise ImageReadError(f"{path}: empty file (0 bytes)")
    return _decode(path, str(path), max_pixels)


def _read_stored(path: UriPath, max_pixels: int) -> Photo:
    """:func:`read_image` of a URI: its bytes in one request, the same one-line errors."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImageReadError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise ImageReadError(f"{path}: is a folder, not an image file") from None
    except OSError as exc:
        raise ImageReadError(f"{path}: cannot read it ({exc.strerror or one_line(exc)})") from None
    if not data:
        raise ImageReadError(f"{path}: empty file (0 bytes)")
    return _decode(BytesIO(data), str(path), max_pixels)


def decode_image(data: bytes, name: str = "<upload>", *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Photo:
    """Decode image file bytes (an upload, say) like :func:`read_image`; ``name`` labels errors."""
    return _decode(BytesIO(data), name, max_pixels)


#: File signatures, to tell a damaged image from a file that is no image at all.
_SIGNATURES = {b"\x89PNG": "PNG", b"\xff\xd8\xff": "JPEG", b"GIF8": "GIF", b"II*\x00": "TIFF", b"MM\x00*": "TIFF",
               b"BM": "BMP", b"RIFF": "WebP"}


def _signature(source: "Path | BytesIO") -> str | None:
    """The image format a file's first bytes announce, if any."""
    try:
        if isinstance(source, BytesIO):
            head = source.getvalue()[:8]
        else:
            with source.open("rb") as f:
                head = f.read(8)
    except OSError:
        return None
    return next((kind for magic, kind in _SIGNATURES.items() if head.startswith(magic)), None)


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
                frames = int(getattr(img, "n_frames", 1) or 1)
                bits = getattr(img, "tag_v2", {}).get(258)  # TIFF BitsPerSample
                bits = bits[0] if isinstance(bits, tuple) and bits else bits
                img = ImageOps.exif_transpose(img)
                photo = _pil_to_photo(img, bits if isinstance(bits, int) else None)
                photo.frames = frames
                return photo
    except ImageReadError:
        raise
    except _BadSamples as exc:
        raise ImageReadError(f"{label}: {exc}") from None
    except UnidentifiedImageError:
        kind = _signature(source)
        if kind is not None:
            raise ImageReadError(f"{label}: corrupt {kind} file (its header cannot be read)") from None
        raise ImageReadError(f"{label}: not an image file (format not recognised)") from None
    except Image.DecompressionBombError as exc:
        raise ImageReadError(f"{label}: too many pixels ({exc})") from None
    except PermissionError:
        raise ImageReadError(f"{label}: permission denied") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageReadError(f"{label}: truncated or corrupt image ({one_line(exc)})") from None


def encode_png(rgb: np.ndarray, alpha: np.ndarray | None = None, *, compress_level: int = 6) -> bytes:
    """PNG file bytes of an RGB (+ alpha) image.

    ``compress_level`` is zlib's 0..9: 1 writes a 512x512 photo about 5x faster
    than the default 6 for files about 8% larger (the web server's choice).
    """
    img = Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8), "RGB")
    if alpha is not None:
        img.putalpha(Image.fromarray(np.ascontiguousarray(alpha, dtype=np.uint8), "L"))
    buf = BytesIO()
    img.save(buf, format="PNG", compress_level=compress_level)
    return buf.getvalue()


def thumbnail(rgb: np.ndarray, max_side: int) -> np.ndarray:
    """Downscale (INTER_AREA) so the longer side is at most ``max_side``; never upscales."""
    h, w = rgb.shape[:2]
    s = max_side / max(h, w)
    if s >= 1:
        return rgb
    return cv2.resize(rgb, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)


def as_photo(image: "str | os.PathLike | np.ndarray | Photo", *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Photo:
    """Accept a path, a Photo, or an array (H, W), (H, W, 1), (H, W, 3) or (H, W, 4).

    An array's bit depth comes from its dtype (see :func:`array_to_uint8`):
    uint8, uint16 (0..65535), bool, other integers holding 0..255, or finite
    floats in 0..1.

    Raises
    ------
    TypeError
        If ``image`` is not a path, Photo or array, or the dtype is not supported.
    ValueError
        If an array is empty, has another shape, more than ``max_pixels``
        pixels, or values out of range (the message says what was received).
    ImageReadError
        If a path cannot be read.
    """
    if isinstance(image, Photo):
        return image
    if isinstance(image, (str, os.PathLike)):
        return read_image(image, max_pixels=max_pixels)
    if not isinstance(image, np.ndarray):
        raise TypeError(f"image must be a path or numpy array, got {type(image).__name__}")
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (1, 3, 4))):
        raise ValueError(f"image array must have shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), got {image.shape}")
    if image.size == 0:
        raise ValueError(f"image array is empty: shape {image.shape}")
    h, w = image.shape[:2]
    if h * w > max_pixels:
        raise ValueError(f"image array of {w}x{h} = {w * h:,} pixels is over the limit of {max_pixels:,}")
    a = array_to_uint8(image)
    if a.ndim == 2 or a.shape[2] == 1:
        return Photo(np.repeat(a.reshape(h, w, 1), 3, axis=2))
    if a.shape[2] == 4:
        return Photo(np.ascontiguousarray(a[..., :3]), a[..., 3].copy())
    return Photo(np.ascontiguousarray(a))


def write_image(
    path: "str | os.PathLike | UriPath",
    rgb: np.ndarray,
    alpha: np.ndarray | None = None,
    *,
    overwrite: bool = False,
    quality: int = 95,
) -> "Path | UriPath":
    """Write an RGB (+ alpha) image atomically; the format follows the suffix.

    A ``UriPath`` (``s3://...``) is encoded in memory, then written whole
    (:meth:`UriPath.write_bytes`): the same bytes as a local file.

    Raises
    ------
    OutputExistsError
        If ``path`` exists and ``overwrite`` is false.
    ValueError
        If the suffix is not an image format Pillow can write.
    """
    path = path if isinstance(path, UriPath) else Path(path)
    img = Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8), "RGB")
    fmt = Image.registered_extensions().get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path}: unknown image format {path.suffix!r}")
    if alpha is not None and fmt != "JPEG":  # JPEG cannot store alpha
        img.putalpha(Image.fromarray(np.ascontiguousarray(alpha, dtype=np.uint8), "L"))
    data = _encode_marked(img, fmt, quality)
    if isinstance(path, UriPath):
        path.write_bytes(data, overwrite=overwrite, content_type=Image.MIME.get(fmt))
        return path
    with atomic_output(path, overwrite=overwrite) as tmp:
        tmp.write_bytes(data)
    return path


def _encode_marked(img: Image.Image, fmt: str, quality: int) -> bytes:
    """``img`` encoded as ``fmt``, carrying chromatize's mark (:data:`OUTPUT_MARK`)."""
    kwargs: dict = {"quality": quality} if fmt in ("JPEG", "WEBP") else {}
    if fmt == "TIFF":
        kwargs["tiffinfo"] = {_EXIF_SOFTWARE: OUTPUT_MARK}
    elif fmt != "BMP":
        exif = Image.Exif()
        exif[_EXIF_SOFTWARE] = OUTPUT_MARK
        kwargs["exif"] = exif
    buf = BytesIO()
    img.save(buf, format=fmt, **kwargs)
    data = buf.getvalue()
    if fmt == "BMP":  # bfReserved1/2 (bytes 6..9) are the writing application's to use
        data = data[:6] + _BMP_MARK + data[10:]
    return data


def written_by_chromatize(path: "str | os.PathLike | UriPath") -> bool:
    """Whether the image file at ``path`` carries the mark that :func:`write_image` puts on every image it writes.

    False for a missing or unreadable file and for any file chromatize did not
    write (a user's photo, or an output of a chromatize older than the mark).
    A batch replaces or skips only files for which this is true.
    """
    try:
        if isinstance(path, UriPath):
            source: "BytesIO | Path" = BytesIO(path.read_bytes())
            head = source.getvalue()[:10]
        else:
            source = Path(path)
            with source.open("rb") as f:
                head = f.read(10)
        if head.startswith(b"BM"):
            return head[6:10] == _BMP_MARK
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(source) as img:
                return img.getexif().get(_EXIF_SOFTWARE) == OUTPUT_MARK
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError):
        return False


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
