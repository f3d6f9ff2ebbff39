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
fill grows faster than the pixel count; the cascade stays near linear. It is
not the exact solution (a point hint covers a whole pixel of the coarse
level, a larger area), but was as close to the true colours in the benchmark.

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

__all__ = ["OFFSETS", "DIRECT_MAX_PIXELS", "SWEEPS", "levin_weights", "levin_system", "propagate", "LevinColorizer"]

#: The 8 neighbours (dy, dx) of the 3x3 window, in the order of ``levin_weights``' first axis.
OFFSETS = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0)]
#: Images up to this many pixels are solved exactly in one system; larger ones by the cascade.
DIRECT_MAX_PIXELS = 256 * 256
#: Jacobi sweeps at each level of the cascade above the exactly solved one.
SWEEPS = 10


def _neighbours(a: np.ndarray):
    """Yield ``a[..., y + dy, x + dx]`` over all (y, x) for each of ``OFFSETS``, edge values repeated outside.

    ``a`` is (..., h, w); it is padded once and sliced, never copied again.
    """
    h, w = a.shape[-2:]
    padded = np.pad(a, ((0, 0),) * (a.ndim - 2) + ((1, 1), (1, 1)), mode="edge")
    for dy, dx in OFFSETS:
        yield padded[..., 1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w]


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
    # Window statistics over the pixels inside the image (the window is cut at the borders).
    box = dict(ksize=(3, 3), normalize=False, borderType=cv2.BORDER_CONSTANT)
    count = cv2.boxFilter(np.ones_like(Y), -1, **box)
    mean = cv2.boxFilter(Y, -1, **box) / count
    var = np.maximum(cv2.boxFilter(Y * Y, -1, **box) / count - mean * mean, 0)
    d2 = np.stack([(nb - Y) ** 2 for nb in _neighbours(Y)])  # (8, h, w)
    for i in range(len(OFFSETS)):
        for rows, cols in _outside(i, h, w):
            d2[i, rows, cols] = np.inf
    nearest = d2.min(axis=0)
    nearest[~np.isfinite(nearest)] = 0.0  # a 1x1 image has no neighbours
    two_sigma2 = np.maximum(np.maximum(np.float32(0.6) * var, nearest / np.float32(-np.log(0.01))),
                            np.float32(2e-6))  # the constants of getColorExact.m
    k = np.exp(-d2 / two_sigma2)  # exp(-inf) = 0 outside
    k /= np.maximum(k.sum(axis=0), np.float32(1e-30))
    return k.astype(np.float32, copy=False)


def _outside(i: int, h: int, w: int) -> list[tuple[slice, slice]]:
    """The border rows/columns where neighbour ``OFFSETS[i]`` falls outside an (h, w) image."""
    dy, dx = OFFSETS[i]
    cut = []
    if dy:
        cut.append((slice(0, 1) if dy < 0 else slice(h - 1, h), slice(None)))
    if dx:
        cut.append((slice(None), slice(0, 1) if dx < 0 else slice(w - 1, w)))
    return cut


def _average(W: np.ndarray, x: np.ndarray) -> np.ndarray:
    """sum_s w_rs x(s) for every pixel r: W (8, h, w), x (2, h, w) -> (2, h, w).

    Channels first, so that each product is a plain (h, w) one (4x faster than (h, w, 2) broadcasting).
    """
    out = np.zeros_like(x)
    tmp = np.empty_like(x)
    for Wi, xi in zip(W, _neighbours(x)):
        np.multiply(Wi, xi, out=tmp)
        out += tmp
    return out


def levin_system(W: np.ndarray, guide: Guide, damping: float = 0.0) -> tuple[sp.csc_matrix, np.ndarray, np.ndarray]:
    """The linear system of the pixels without a colour: ``A x = rhs``, one column of ``rhs`` per channel.

    Row r of ``(I - W)`` is 1 on the diagonal and ``-w_rs`` at each neighbour
    s; the hinted pixels' known colours move to the right-hand side.

    Parameters
    ----------
    W : ndarray of float32, shape (8, h, w)
        From :func:`levin_weights`.
    guide : Guide
        At the same size.
    damping : float
        Added to the diagonal: ``(1 + damping) x_r = sum_s w_rs x_s`` pulls
        free pixels towards 0 (see ``reach`` in :func:`propagate`).

    Returns
    -------
    A : scipy.sparse.csc_matrix, shape (m, m)
        m = number of pixels without a colour; not symmetric.
    rhs : ndarray of float64, shape (m, 2)
    free : ndarray of bool, shape (h * w,)
        Which pixels (flattened row by row) are the unknowns.
    """
    h, w = guide.shape
    n = h * w
    fixed = (guide.ab * guide.mask[..., None]).reshape(n, 2).astype(np.float64)
    free = guide.mask.ravel() == 0
    # Row r of W as diagonals of the flattened image: neighbour (dy, dx) sits at column r + dy * w + dx.
    diagonals, offsets = [np.full(n, 1.0 + damping)], [0]
    for i, (dy, dx) in enumerate(OFFSETS):
        o = dy * w + dx
        if abs(o) >= n:
            continue
        wi = -W[i].ravel().astype(np.float64)
        diagonals.append(wi[: n - o] if o > 0 else wi[-o:])
        offsets.append(o)
    A = sp.diags(diagonals, offsets, shape=(n, n), format="csr")[free]
    rhs = -(A @ fixed)  # the fixed pixels' pull on the free ones (free entries of `fixed` are 0)
    return A[:, free].tocsc(), rhs, free


def _solve_exact(W: np.ndarray, guide: Guide, damping: float = 0.0) -> np.ndarray:
    """The exact solution (h, w, 2) by sparse LU: free pixels from the system, hinted ones kept."""
    h, w = guide.shape
    out = (guide.ab * guide.mask[..., None]).reshape(h * w, 2).astype(np.float64)
    A, rhs, free = levin_system(W, guide, damping)
    if free.any():
        lu = spla.splu(A, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0, options={"SymmetricMode": True})
        out[free] = lu.solve(rhs)
    return out.reshape(h, w, 2).astype(np.float32)


def propagate(L: np.ndarray, guide: Guide, *, reach: float | None = None,
              max_direct_pixels: int = DIRECT_MAX_PIXELS, sweeps: int = SWEEPS) -> np.ndarray:
    """Spread the guide's colours over the image along its lightness (Levin et al. 2004).

    Parameters
    ----------
    L : ndarray of float32, shape (h, w)
        Lightness in 0..100.
    guide : chromatize.hints.Guide
        The colours to spread, at the same size (h, w).
    reach : float, optional
        Let the spread colours fade towards a*b* = 0 with distance: by 1/e
        every ``reach`` pixels in a flat region (a damping term
        ``0.375 / reach^2`` on the diagonal; 0.375 = half the variance of a
        step to the 8 neighbours). None (Levin et al.): they never fade, so a
        single hint colours the whole image. Meant for spreading corrections
        (residuals) that should stay local.
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
    if reach is not None and not reach > 0:
        raise ValueError(f"reach must be a positive number of pixels, got {reach!r}")

    def damping(level_L: np.ndarray) -> float:
        scale = L.shape[1] / level_L.shape[1]  # a pixel of this level spans `scale` pixels of L
        return 0.0 if reach is None else 0.375 * scale**2 / reach**2

    levels = [(L, guide)]
    while levels[-1][0].size > max_direct_pixels:
        Lc, gc = levels[-1]
        shape = ((Lc.shape[0] + 1) // 2, (Lc.shape[1] + 1) // 2)
        levels.append((cv2.resize(Lc, shape[::-1], interpolation=cv2.INTER_AREA), resize_guide(gc, shape)))
    Lc, gc = levels.pop()
    ab = _solve_exact(levin_weights(Lc), gc, damping(Lc))
    for Ll, gl in reversed(levels):
        up = cv2.resize(ab, Ll.shape[::-1], interpolation=cv2.INTER_LINEAR)
        ab_cf = np.ascontiguousarray(np.moveaxis(up, -1, 0))  # (2, h, w)
        W = levin_weights(Ll)
        hinted = np.broadcast_to(gl.mask > 0, ab_cf.shape)
        fixed = np.ascontiguousarray(np.moveaxis(gl.ab, -1, 0))
        np.copyto(ab_cf, fixed, where=hinted)
        shrink = np.float32(1 / (1 + damping(Ll)))
        for _ in range(sweeps):
            ab_cf = _average(W, ab_cf)
            if shrink != 1:
                ab_cf *= shrink
            np.copyto(ab_cf, fixed, where=hinted)
        ab = np.ascontiguousarray(np.moveaxis(ab_cf, 0, -1))
    return ab.astype(np.float32, copy=False)


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
