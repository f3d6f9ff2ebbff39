"""Colorization by optimization (Levin, Lischinski and Weiss 2004): user colours spread along lightness.

Every pixel ``r`` without a user colour should have the weighted mean colour
of its 3x3 neighbours ``s``, with weights that are large where the lightness
is alike::

    U(r) = sum_s w_rs U(s),   w_rs ∝ exp(-(Y_r - Y_s)^2 / (2 σ_r^2)),   sum_s w_rs = 1

and every pixel with a user colour keeps it. ``Y`` is L / 100 and ``2 σ_r^2``
is 0.6 times the variance of ``Y`` in the 3x3 window around ``r``, raised so
that the closest neighbour weighs at least 0.01 before normalisation and
never below 2e-6: the constants of the authors' ``getColorExact.m`` [1]_.
The equations form one sparse linear system per channel (a*, b*, the same
matrix), which is the minimiser of Levin's quadratic cost.

How it is solved (``bench/levin_speed.py`` measures the choices; figures in
``docs/GUIDED.md``): up to :data:`DIRECT_MAX_PIXELS` pixels, exactly, by a
sparse LU factorisation (SuperLU, minimum-degree ordering of A^T + A, no
pivoting: the matrix is diagonally dominant). A larger image is halved
(``INTER_AREA``; hints averaged by ``hints.resize_guide``) until it fits,
solved exactly there, and brought back up level by level: bilinear
upsampling, then :data:`SWEEPS` Jacobi sweeps of the same equations at that
level, which restore the edges the coarse level blurred (a cascadic
multigrid). Exact factorisation of a 512 x 512 system takes seconds and its
fill grows faster than the pixel count; the cascade stays near linear.

References
----------
.. [1] A. Levin, D. Lischinski, Y. Weiss, "Colorization using Optimization",
   ACM SIGGRAPH 2004. https://www.cs.huji.ac.il/~yweiss/Colorization/
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..hints import Guide, resize_guide
from .base import MAX_RENDER_SIZE, Colorizer

__all__ = ["OFFSETS", "DIRECT_MAX_PIXELS", "SWEEPS", "levin_weights", "propagate", "LevinColorizer"]

#: The 8 neighbours (dy, dx) of the 3x3 window, in the order of ``levin_weights``' first axis.
OFFSETS = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0)]
#: Images up to this many pixels are solved exactly in one system; larger ones by the cascade.
DIRECT_MAX_PIXELS = 256 * 256
#: Jacobi sweeps at each level of the cascade above the exactly solved one.
SWEEPS = 10


def _neighbours(a: np.ndarray):
    """Yield ``a[y + dy, x + dx]`` over all (y, x) for each of ``OFFSETS``, edge values repeated outside.

    ``a`` is (h, w, ...); it is padded once and sliced, never copied again.
    """
    h, w = a.shape[:2]
    padded = np.pad(a, ((1, 1), (1, 1)) + ((0, 0),) * (a.ndim - 2), mode="edge")
    for dy, dx in OFFSETS:
        yield padded[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w]


def levin_weights(L: np.ndarray) -> np.ndarray:
    """Normalised affinities of every pixel to its 8 neighbours.

    Parameters
    ----------
    L : ndarray of float, shape (h, w)
        Lightness in 0..100.

    Returns
    -------
    W : ndarray of float32, shape (8, h, w)
        ``W[i, y, x]`` is the weight of neighbour ``OFFSETS[i]`` of (y, x):
        0 for neighbours outside the image; each pixel's weights sum to 1.
    """
    Y = np.asarray(L, np.float32) / np.float32(100.0)
    h, w = Y.shape
    inside = np.pad(np.ones((h, w), bool), 1)  # False all round
    valid = np.stack([inside[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w] for dy, dx in OFFSETS])  # (8, h, w)
    nb = np.stack(list(_neighbours(Y)))  # (8, h, w)
    count = valid.sum(axis=0) + 1
    mean = (np.where(valid, nb, 0).sum(axis=0) + Y) / count
    var = (np.where(valid, (nb - mean) ** 2, 0).sum(axis=0) + (Y - mean) ** 2) / count
    d2 = (nb - Y) ** 2
    nearest = np.where(valid, d2, np.inf).min(axis=0)
    nearest[~np.isfinite(nearest)] = 0.0  # a 1x1 image has no neighbours
    two_sigma2 = np.maximum(np.maximum(0.6 * var, nearest / np.float32(-np.log(0.01))), np.float32(2e-6))  # getColorExact.m
    k = np.where(valid, np.exp(-d2 / two_sigma2), np.float32(0))
    total = k.sum(axis=0)
    return (k / np.where(total > 0, total, np.float32(1))).astype(np.float32)


def _average(W: np.ndarray, x: np.ndarray) -> np.ndarray:
    """sum_s w_rs x(s) for every pixel r: W (8, h, w), x (h, w, 2) -> (h, w, 2)."""
    out = np.zeros_like(x)
    for Wi, xi in zip(W, _neighbours(x)):
        out += Wi[..., None] * xi
    return out


def _solve_exact(W: np.ndarray, guide: Guide) -> np.ndarray:
    """The exact solution (h, w, 2): free pixels from (I - W) x = 0, hinted ones fixed."""
    h, w = guide.shape
    n = h * w
    fixed = (guide.ab * guide.mask[..., None]).astype(np.float64)
    free = guide.mask.ravel() == 0
    out = fixed.reshape(n, 2).copy()
    if not free.any():
        return out.reshape(h, w, 2).astype(np.float32)
    # Row r of W as diagonals of the flattened image: neighbour (dy, dx) sits at column r + dy * w + dx.
    diagonals, offsets = [np.ones(n)], [0]
    for i, (dy, dx) in enumerate(OFFSETS):
        o = dy * w + dx
        if abs(o) >= n:
            continue
        wi = -W[i].ravel().astype(np.float64)
        diagonals.append(wi[: n - o] if o > 0 else wi[-o:])
        offsets.append(o)
    A = sp.diags(diagonals, offsets, shape=(n, n), format="csr")
    rhs = -(A[free] @ out)  # the fixed pixels' pull on the free ones; free entries of `out` are 0
    A_ff = A[free][:, free].tocsc()
    lu = spla.splu(A_ff, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0, options={"SymmetricMode": True})
    out[free] = lu.solve(rhs)
    return out.reshape(h, w, 2).astype(np.float32)


def propagate(L: np.ndarray, guide: Guide, *, max_direct_pixels: int = DIRECT_MAX_PIXELS,
              sweeps: int = SWEEPS) -> np.ndarray:
    """Spread the guide's colours over the image along its lightness (Levin et al. 2004).

    Parameters
    ----------
    L : ndarray of float32, shape (h, w)
        Lightness in 0..100.
    guide : chromatize.hints.Guide
        The colours to spread, at the same size (h, w).
    max_direct_pixels : int
        Solve exactly up to this many pixels; larger images by the cascade
        (module docstring).
    sweeps : int
        Jacobi sweeps per cascade level.

    Returns
    -------
    ab : ndarray of float32, shape (h, w, 2)
        a*b* in real Lab units, equal to the guide's where its mask is 1.
        All zeros when the guide is empty (nothing to spread).

    Raises
    ------
    ValueError
        If L is not 2-D or the guide's size differs.

    Examples
    --------
    >>> import numpy as np
    >>> from chromatize.hints import Hint, rasterize
    >>> L = np.full((8, 8), 50, np.float32)
    >>> ab = propagate(L, rasterize([Hint(1, 1, (30.0, -20.0))], L.shape))
    >>> np.allclose(ab, [30, -20], atol=1e-3)
    True
    """
    L = np.asarray(L, np.float32)
    if L.ndim != 2:
        raise ValueError(f"L must be (h, w), got shape {L.shape}")
    if guide.shape != L.shape:
        raise ValueError(f"guide of shape {guide.shape} for L of shape {L.shape}")
    if guide.empty:
        return np.zeros(L.shape + (2,), np.float32)
    levels = [(L, guide)]
    while levels[-1][0].size > max_direct_pixels:
        Lc, gc = levels[-1]
        shape = ((Lc.shape[0] + 1) // 2, (Lc.shape[1] + 1) // 2)
        levels.append((cv2.resize(Lc, shape[::-1], interpolation=cv2.INTER_AREA), resize_guide(gc, shape)))
    Lc, gc = levels.pop()
    ab = _solve_exact(levin_weights(Lc), gc)
    for Ll, gl in reversed(levels):
        ab = cv2.resize(ab, Ll.shape[::-1], interpolation=cv2.INTER_LINEAR)
        W = levin_weights(Ll)
        hinted, fixed = gl.mask[..., None] > 0, gl.ab
        ab = np.where(hinted, fixed, ab)
        for _ in range(sweeps):
            ab = np.where(hinted, fixed, _average(W, ab))
    return ab.astype(np.float32)


@dataclass
class LevinColorizer(Colorizer):
    """No learned model: the user's hints and scribbles spread by :func:`propagate`; gray without them.

    Parameters
    ----------
    render_size : int
        Longer side of the working size (photos already smaller keep their
        own size). The propagated a*b* is upsampled to the photo and merged
        with its full-resolution L, like every model's.
    """

    render_size: int = 512
    name: str = "levin"
    mean_ab: tuple[float, float] = (0.0, 0.0)
    accepts_hints = True

    def work_shape(self, h: int, w: int, render_size: int | None = None) -> tuple[int, int]:
        size = int(render_size or self.render_size)
        if not 1 <= size <= MAX_RENDER_SIZE:
            raise ValueError(f"render_size must be between 1 and {MAX_RENDER_SIZE}, got {size}")
        scale = min(1.0, size / max(h, w))
        return max(1, round(h * scale)), max(1, round(w * scale))

    def predict_ab(self, L: np.ndarray, guide: Guide | None = None) -> np.ndarray:
        if L.ndim != 2:
            raise ValueError(f"L must be (h, w), got shape {L.shape}")
        if guide is None:
            return np.zeros(L.shape + (2,), np.float32)
        return propagate(L, guide)
