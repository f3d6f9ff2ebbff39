"""Photo sets for training and experiments.

``ImageSet`` / ``load_images`` prepare photos the way the report did; the CNN's
training photos come from ``load_photo`` (longer side resized, aspect kept; a
run's photos and their split: :func:`chromatize.pool.load_pool`) and ``random_crops``.

For the report's sets, each photo is resized to S x S (OpenCV, ``INTER_AREA``; the aspect ratio is
not kept, as in the report) and converted with OpenCV's 8-bit RGB->Lab. The
model input is L8 / 255 and the target is a*8 / 255, b*8 / 255 (0..1, with
a*, b* offset by 128). All randomness comes from a ``numpy.random.Generator``
that the caller passes in.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import cv2
import numpy as np

from .color import AB_OFFSET8, SCALE8, rgb_to_lab, rgb_to_lab8
from .io import DEFAULT_MAX_PIXELS, IMAGE_SUFFIXES, ImageReadError, read_image
from .sources import seeded_split

__all__ = [
    "ImageSet",
    "prepare_photo",
    "load_images",
    "list_categories",
    "seeded_split",
    "load_photo",
    "load_photos",
    "random_crops",
    "mean_chroma",
]

def prepare_photo(rgb: np.ndarray, size: int = 64) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Resize a photo to ``size`` x ``size`` and make the report's input and target.

    Parameters
    ----------
    rgb : ndarray of uint8, shape (H, W, 3)
    size : int
        Side of the square the photo is resized to (64 in the report).

    Returns
    -------
    L : ndarray of float64, shape (size, size)
        L8 / 255, in 0..1.
    ab : ndarray of float64, shape (size, size, 2)
        a*8 / 255 and b*8 / 255, in 0..1 (0.5 is neutral gray, 128 / 255).
    small : ndarray of uint8, shape (size, size, 3)
        The resized RGB photo.
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"need an (H, W, 3) uint8 RGB photo, got {rgb.shape} {rgb.dtype}")
    if size < 1:
        raise ValueError(f"size must be positive, got {size}")
    small = cv2.resize(rgb, (size, size), interpolation=cv2.INTER_AREA)
    lab8 = rgb_to_lab8(small).astype(np.float64)
    return lab8[..., 0] / SCALE8, lab8[..., 1:] / SCALE8, small


@dataclass
class ImageSet:
    """Photos prepared at one size, with where they came from.

    Attributes
    ----------
    paths : list of Path
        One per photo, in order.
    rgb : ndarray of uint8, shape (N, S, S, 3)
        The resized photos.
    L : ndarray of float64, shape (N, S, S)
        Inputs, L8 / 255.
    ab : ndarray of float64, shape (N, S, S, 2)
        Targets, a*b*8 / 255.
    categories : list of str
        The category (sub-folder name) of each photo, or "" when none.
    skipped : list of (Path, str)
        Files that could not be read and why.
    """

    paths: list[Path]
    rgb: np.ndarray
    L: np.ndarray
    ab: np.ndarray
    categories: list[str] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.paths)

    @property
    def size(self) -> int:
        """Side of the square the photos were resized to."""
        return int(self.L.shape[1])

    def subset(self, index: Sequence[int] | np.ndarray) -> "ImageSet":
        """The photos at ``index``, in that order (``skipped`` is kept)."""
        index = np.asarray(index, dtype=np.int64)
        cats = [self.categories[i] for i in index] if self.categories else []
        return ImageSet([self.paths[i] for i in index], self.rgb[index], self.L[index], self.ab[index], cats, list(self.skipped))

    def mean_ab(self) -> tuple[float, float]:
        """Mean a*, b* over all pixels, in real Lab units (8-bit value - 128)."""
        if not len(self):
            return (0.0, 0.0)
        m = self.ab.reshape(-1, 2).mean(axis=0) * SCALE8 - AB_OFFSET8
        return (float(m[0]), float(m[1]))


def load_images(
    paths: Iterable[str | os.PathLike],
    size: int = 64,
    *,
    categories: Sequence[str] | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    progress: Callable[[int], None] | None = None,
) -> ImageSet:
    """Read and prepare photos; unreadable files are skipped, never fatal.

    Parameters
    ----------
    paths : iterable of path
    size : int
        Side of the square working size.
    categories : sequence of str, optional
        A category per path (kept for the photos that load).
    max_pixels : int
        Files with more pixels are skipped (see ``chromatize.io.read_image``).
    progress : callable, optional
        Called with 1 after each file.

    Returns
    -------
    ImageSet
        ``skipped`` lists each file left out with its one-line reason; a
        ``UserWarning`` is issued once with their count.
    """
    paths = [Path(p) for p in paths]
    if categories is not None and len(categories) != len(paths):
        raise ValueError(f"{len(categories)} categories for {len(paths)} paths")
    kept, cats, rgbs, Ls, abs_, skipped = [], [], [], [], [], []
    for i, path in enumerate(paths):
        try:
            photo = read_image(path, max_pixels=max_pixels)
        except ImageReadError as exc:
            skipped.append((path, str(exc)))
        else:
            L, ab, small = prepare_photo(photo.rgb, size)
            kept.append(path)
            cats.append(categories[i] if categories is not None else "")
            rgbs.append(small)
            Ls.append(L)
            abs_.append(ab)
        if progress is not None:
            progress(1)
    if skipped:
        warnings.warn(f"skipped {len(skipped)} unreadable file(s), first: {skipped[0][1]}", UserWarning, stacklevel=2)
    if not kept:
        return ImageSet([], np.zeros((0, size, size, 3), np.uint8), np.zeros((0, size, size)),
                        np.zeros((0, size, size, 2)), [], skipped)
    return ImageSet(kept, np.stack(rgbs), np.stack(Ls), np.stack(abs_), cats, skipped)


def list_categories(root: str | os.PathLike) -> dict[str, list[Path]]:
    """Photos of a folder with one sub-folder per category.

    Returns
    -------
    dict
        Category name -> sorted image paths, categories sorted by name; only
        sub-folders that hold at least one image file are listed.

    Raises
    ------
    FileNotFoundError
        If ``root`` is not a folder.
    ValueError
        If it has no sub-folder with images.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such folder")
    out = {}
    for sub in sorted(p for p in root.iterdir() if p.is_dir()):
        files = sorted(q for q in sub.iterdir() if q.is_file() and q.suffix.lower() in IMAGE_SUFFIXES)
        if files:
            out[sub.name] = files
    if not out:
        raise ValueError(f"{root}: no sub-folders with images (expected one sub-folder per category)")
    return out


def load_photo(path: Path, long_side: int) -> np.ndarray | None:
    """A photo resized so its longer side is ``long_side`` (aspect kept), or None if it cannot be read
    or is under 16 px."""
    try:
        rgb = read_image(path).rgb
    except ImageReadError:
        return None
    if min(rgb.shape[:2]) < 16:
        return None
    h, w = rgb.shape[:2]
    s = long_side / max(h, w)
    size = (max(16, round(w * s)), max(16, round(h * s)))
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC
    return cv2.resize(rgb, size, interpolation=interp)


def load_photos(paths: Sequence[Path], long_side: int, progress: Callable[[int], None] | None = None) -> list[np.ndarray]:
    """Read photos and resize each so its longer side is ``long_side`` (:func:`load_photo`).

    Unreadable files and photos under 16 px are skipped (training data is
    best effort; ``chromatize train`` reports how many photos it found).
    """
    out = []
    for p in paths:
        rgb = load_photo(p, long_side)
        if rgb is not None:
            out.append(rgb)
        if progress is not None:
            progress(1)
    return out


def random_crops(photos: Sequence[np.ndarray], idx: Sequence[int], crop: int, rng: np.random.Generator,
                 out_stride: int = 4, flip: bool = True, full_ab: bool = False):
    """Random square crops (side between ``crop`` and the photo's shorter side, resized to ``crop``) and flips.

    Returns
    -------
    L : ndarray of float32, shape (B, 1, crop, crop)
        Lightness, 0..100.
    ab : ndarray of float32, shape (B, 2, crop / out_stride, crop / out_stride)
        a*b* in real Lab units, reduced (INTER_AREA) to the network's output size.
    ab_full : ndarray of float32, shape (B, 2, crop, crop)
        Only with ``full_ab``: a*b* at the crop's own size (for simulated hints).
    """
    crops = []
    for i in idx:
        rgb = photos[i]
        h, w = rgb.shape[:2]
        side = int(rng.integers(min(crop, h, w), min(h, w) + 1))
        y, x = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        c = rgb[y : y + side, x : x + side]
        interp = cv2.INTER_AREA if side > crop else cv2.INTER_LINEAR
        c = cv2.resize(c, (crop, crop), interpolation=interp) if side != crop else c
        crops.append(c[:, ::-1] if flip and rng.random() < 0.5 else c)
    lab = rgb_to_lab(np.concatenate(crops, axis=0)).reshape(len(idx), crop, crop, 3)  # (B, c, c, 3)
    small = crop // out_stride
    ab = np.stack([cv2.resize(im[..., 1:], (small, small), interpolation=cv2.INTER_AREA) for im in lab])  # (B, s, s, 2)
    L = np.ascontiguousarray(lab[..., 0])[:, None]  # (B, 1, c, c)
    ab = np.ascontiguousarray(ab.transpose(0, 3, 1, 2))
    if full_ab:
        return L, ab, np.ascontiguousarray(lab[..., 1:].transpose(0, 3, 1, 2))
    return L, ab


def mean_chroma(rgb: np.ndarray) -> float:
    """Mean a*b* chroma (real Lab units) of a photo at 1/8 size: about 0 for a gray photo."""
    small = cv2.resize(rgb, (max(1, rgb.shape[1] // 8), max(1, rgb.shape[0] // 8)), interpolation=cv2.INTER_AREA)
    return float(np.hypot(*np.moveaxis(rgb_to_lab(small)[..., 1:], -1, 0)).mean())
