"""Learned hint propagation: a hint's colour reaches the pixels the network sees as alike.

A user's hint says two things: the colour at that point, and (through what
the network knows about the photo) the colour of everything like that point: a
hint on one leaf says something about every leaf. The hint head learns the
second part on top of a frozen automatic network, from simulated hints
(Zhang et al. 2017 [1]_ draw them the same way):

1. The automatic network runs as always and also returns its decoder's
   features at stride 4. A small head (``hint_head.onnx``; its torch twin is
   :mod:`chromatize.models.cnn.hint_head_net`) turns them, plus the full-size L,
   into an embedding of ``heads x dim`` channels and a "keep the automatic
   colour" logit ``beta`` at every pixel of the working size (trained so);
   the exported head gives their means over 4x4 blocks directly, the queries
   at inference.
2. The hints are pooled into cells of :data:`CELL` px (:func:`hint_keys`);
   each cell with a hint is a *key*: its position, the embedding there, and
   its *residual*, hint a*b* minus automatic a*b*.
3. Every pixel attends over the keys (:func:`attend`): per head, the logit of
   key k is ``<q, k> / sqrt(dim) - d^2 / (2 sigma_h^2) - sum_c w_hc (g_c(q) -
   g_c(k))^2 + log(hinted share of the cell)``, where ``g`` is the lightness
   and the automatic a*b* (each / 10) at the two pixels, so that a hint stays
   on its side of an edge as in Levin et al.'s affinities; ``sigma_h`` and
   the edge weights ``w_hc`` are learned per head. There is one null slot with
   logit ``beta`` and residual 0. A pixel takes the softmax-weighted residual
   plus a learned share ``alpha`` of the hinted colour's difference from its
   own automatic colour (``alpha`` = 1: a pixel that attends to one key only
   takes that key's colour, as in Levin's propagation; 0: residuals only).
   With no hints nothing changes, so one network serves both modes; far from
   any hint, or where the embedding differs, the null slot wins and the
   automatic colour stays.

4. Optionally (``refine_reach``, chosen on the validation split), what the
   attention left of each hint's residual is spread by Levin et al.'s
   propagation, fading with distance (``chromatize.models.levin.propagate``
   with ``reach``): the attention carries a hint far and by meaning, this
   last step makes it exact and sharp along the edges around it.

0. Optionally (``bin_prior``, chosen on held-out photos by
   ``bench/hint_prior.py``), before any of this the hints also raise, at
   every pixel, the network's logits of the colour bins near the hinted
   colours (:func:`bin_prior`): a pixel whose predicted distribution already
   holds a hinted colour leans to it, one that rules it out does not move
   (a blue hint on a parrot does not make the leaves blue). The automatic
   a*b* of steps 2 to 4 is then the one decoded from these logits.

Distances are in pixels of a :data:`UNIT_SIZE`-px working size (the training
photos' size), so a change of render size does not change the reach of a
hint.

References
----------
.. [1] R. Zhang, J.-Y. Zhu, P. Isola, X. Geng, A. S. Lin, T. Yu, A. A. Efros,
   "Real-Time User-Guided Image Colorization with Learned Deep Priors", SIGGRAPH 2017.
.. [2] A. Vaswani et al., "Attention Is All You Need", NeurIPS 2017 (the attention).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import NamedTuple

import cv2
import numpy as np

from ...color import AB_NORM, L_CENT, L_NORM
from ..base import onnx_session, run_onnx
from .config import HintHeadEntry

__all__ = ["CELL", "MAX_KEYS", "UNIT_SIZE", "Keys", "Reach", "hint_keys", "bin_prior", "attend", "geodesic_locality",
           "key_locality", "HintHead"]

#: Side (working px) of the cells hints are pooled into; each hinted cell is one key.
CELL = 4
#: Most keys attended to; with more hinted cells the cells double in size until they fit.
MAX_KEYS = 256
#: Distances are measured in pixels of a working size with this longer side.
UNIT_SIZE = 256
#: At inference the queries are 4x4 blocks of the working size (:func:`attend`'s ``stride``): 16x
#: faster than every pixel, and as good on the validation split (the attention's change is smooth).
QUERY_STRIDE = 4
#: Query pixels per block in :func:`attend` (bounds its memory: heads x block x keys floats).
QUERY_BLOCK = 16384
#: Largest working size (pixels) on which the refining step is solved exactly (a cascade above). At 32x32
#: it takes half the time of 64x64 (14 against 27 ms at 256x256) and scores the same on held-out photos.
REFINE_DIRECT_PIXELS = 32 * 32
#: The edge features (lightness, automatic a*b*) are divided by this.
EDGE_SCALE = 10.0
#: What a step of the locality's search costs, as a share, between cells that find the hinted colour plausible.
EASED_COST = 0.03
#: Floor of :func:`bin_prior`'s log densities: a bin far from every hint is lowered at most gamma times this.
PRIOR_FLOOR = 30.0


def edge_features(L: np.ndarray, auto_ab: np.ndarray) -> np.ndarray:
    """(H, W, 3): lightness and automatic a*b*, each / EDGE_SCALE, the features the edge terms compare."""
    return np.concatenate([L[..., None], auto_ab], axis=-1).astype(np.float32) / np.float32(EDGE_SCALE)


def hint_keys(guide_ab: np.ndarray, mask: np.ndarray, auto_ab: np.ndarray, cell: int = CELL,
              max_keys: int = MAX_KEYS) -> Keys:
    """The keys of a guide: one per hinted cell (module docstring, step 2).

    Parameters
    ----------
    guide_ab : ndarray of float32, shape (H, W, 2)
        Hint a*b* (real Lab units) where ``mask`` > 0.
    mask : ndarray of float32, shape (H, W)
        Hinted share of each pixel, 0..1.
    auto_ab : ndarray of float32, shape (H, W, 2)
        The automatic prediction at the same size.
    cell : int
        Cell side in px; doubled until at most ``max_keys`` cells are hinted.

    Returns
    -------
    Keys
        A named tuple of three arrays:
    index : ndarray of int64, shape (K,)
        Flat index (row * W + col) of the pixel nearest each key's hinted centroid.
    residual : ndarray of float32, shape (K, 2)
        Mean hint a*b* minus mean automatic a*b* over the cell's hinted pixels, / AB_NORM.
    logw : ndarray of float32, shape (K,)
        log of the cell's hinted share.
    """
    h, w = mask.shape
    ys, xs = np.nonzero(mask)  # only the hinted pixels: a few hundred of a working size's 65,536
    share = mask[ys, xs].astype(np.float64)
    while True:
        ids, inverse = np.unique((ys // cell) * -(-w // cell) + xs // cell, return_inverse=True)  # row-major cells
        m = np.bincount(inverse, weights=share, minlength=len(ids))
        hit = m > 1e-6
        if hit.sum() <= max_keys or cell >= max(h, w):
            break
        cell *= 2

    def cells(a: np.ndarray) -> np.ndarray:  # per hinted pixel -> the hit cells' sums
        return np.bincount(inverse, weights=a * share, minlength=len(ids))[hit]

    mm = m[hit]
    cy = np.clip(np.rint(cells(ys) / mm), 0, h - 1).astype(np.int64)
    cx = np.clip(np.rint(cells(xs) / mm), 0, w - 1).astype(np.int64)
    diff = (guide_ab[ys, xs] - auto_ab[ys, xs]).astype(np.float64)  # (P, 2)
    residual = np.stack([cells(diff[:, c]) / mm for c in range(2)], axis=-1) / AB_NORM
    logw = np.log(mm / (cell * cell))
    return Keys(cy * w + cx, residual.astype(np.float32), logw.astype(np.float32))


def bin_prior(centers: np.ndarray, guide_ab: np.ndarray, mask: np.ndarray, gamma: float, sigma: float,
              floor: float = PRIOR_FLOOR) -> np.ndarray:
    """Offsets (Q,) to the logits of the colour bins: the hinted colours' log density at each bin (step 0).

    With ``h_k`` the mean hinted a*b* of each key (:func:`hint_keys`), bin q
    gets ``gamma * log mean_k exp(-|c_q - h_k|^2 / (2 sigma^2))``, less its
    maximum; both the per-key term and the result are floored at ``-floor``
    so that no bin is ruled out.

    Parameters
    ----------
    centers : ndarray, shape (Q, 2)
        The bins' a*b* centres.
    guide_ab, mask : the guide's a*b* (H, W, 2) and hinted share (H, W)
    gamma, sigma : float
        Strength, and width (a*b* units) of the density around each hinted colour.
    """
    _, hinted, _ = hint_keys(guide_ab, mask, np.zeros_like(guide_ab))
    if not len(hinted):  # no cell hinted enough to be a key
        return np.zeros(len(centers), np.float32)
    d2 = np.square(np.asarray(centers, np.float64)[:, None] - hinted[None] * AB_NORM).sum(axis=-1)  # (Q, K)
    lp = np.log(np.exp(np.maximum(-d2 / (2 * sigma * sigma), -floor)).mean(axis=1))
    return (gamma * np.maximum(lp - lp.max(), -floor)).astype(np.float32)


def pool(a: np.ndarray, s: int) -> np.ndarray:
    """(..., H, W) -> (..., H/s, W/s): the means of s x s blocks (H and W multiples of s)."""
    if s == 1:
        return a
    h, w = a.shape[-2:]
    return a.reshape(*a.shape[:-2], h // s, s, w // s, s).mean(axis=(-3, -1), dtype=np.float32)


class Keys(NamedTuple):
    """The keys of :func:`attend`, one per hinted cell (:func:`hint_keys`)."""

    index: np.ndarray  #: (K,) int64: the flat pixel of each key in the (H, W) image
    residual: np.ndarray  #: (K, 2) float32: hint a*b* minus automatic a*b*, / AB_NORM
    logw: np.ndarray  #: (K,) float32: log of the cell's hinted share


@dataclass(frozen=True)
class Reach:
    """How far and along what a hint reaches in :func:`attend`: the head's learned scalars at a working size."""

    #: (heads,) reach of each head, in units.
    sigmas: np.ndarray
    #: Length of one working pixel in units (``UNIT_SIZE / longer side``).
    unit: float = 1.0
    #: (heads, C) weight of each edge feature's squared difference (>= 0); None: no edge terms.
    edge_weights: np.ndarray | None = None
    #: How much of a hint's own colour, not only its residual, a pixel takes: each key carries
    #: ``residual + alpha * auto_ab(key)`` and a pixel gives back ``alpha * auto_ab(pixel)`` times its total
    #: weight on the keys. 0: residuals only; 1: a pixel fully attending to a key takes the key's hinted colour
    #: (Levin et al.'s propagation does that).
    alpha: float = 0.0


def attend(emb: np.ndarray, beta: np.ndarray, keys: Keys, reach: Reach, *, edge: np.ndarray | None = None,
           auto_ab: np.ndarray | None = None, stride: int = 1, block: int = QUERY_BLOCK,
           locality: np.ndarray | None = None) -> np.ndarray:
    """Every pixel's softmax-weighted hint over the keys and the null slot (module docstring, step 3).

    Parameters
    ----------
    emb : ndarray of float32, shape (heads, dim, H / stride, W / stride)
        The embedding at the queries: every pixel (stride 1) or the blocks
        of stride x stride px (the means of their pixels' embeddings; a key
        takes its block's).
    beta : ndarray of float32, shape (H / stride, W / stride)
        Logit of the null slot (keep the automatic colour), at the queries.
    keys : Keys
        From :func:`hint_keys`.
    reach : Reach
        The heads' reach, the unit, the edge weights and the share ``alpha`` of a hint's own colour.
    edge : ndarray of float32, shape (H, W, C), optional
        Per-pixel features compared between query and key (:func:`edge_features`).
    auto_ab : ndarray of float32, shape (H, W, 2), optional
        The automatic a*b*; needed when ``reach.alpha`` > 0.
    stride : int
        With s > 1 a query is an s x s block (its edge features the block's
        means, its position the block's centre) and the result is upsampled
        (bilinear) to (H, W): 1 / s^2 of the work.
    block : int
        Query pixels per matrix product (bounds the memory: heads x block x keys floats).
    locality : ndarray of float32, shape (K, H / stride * W / stride), optional
        A factor in 0..1 on each key's weight at each query (:func:`geodesic_locality`): the
        keys' attention is multiplied by it, the null slot's is not.

    Returns
    -------
    ndarray of float32, shape (H, W, 2)
        The change of a*b*, real Lab units.
    """
    if not (isinstance(stride, int) and stride >= 1):
        raise ValueError(f"stride must be a positive integer, got {stride!r}")
    _, _, qh, qw = emb.shape
    h, w = qh * stride, qw * stride
    qa, ka = _logit_factors(emb, keys, reach, edge, stride)
    kk, n, alpha = len(keys.index), qh * qw, reach.alpha
    values = keys.residual.astype(np.float32)
    if alpha:
        key_ab = auto_ab.reshape(-1, 2)[keys.index] / np.float32(AB_NORM)
        values = np.concatenate([values + np.float32(alpha) * key_ab, np.ones((kk, 1), np.float32)], axis=1)
    b = beta.reshape(n).astype(np.float32)
    out = np.empty((values.shape[1], n), np.float32)
    for s in range(0, n, block):
        e = min(s + block, n)
        z = ka @ qa[:, :, s:e]  # (heads, K, n): the logits
        top = np.maximum(z.max(axis=(0, 1)), b[s:e])  # (n,)
        z -= top
        np.exp(z, out=z)
        if locality is not None:
            z *= locality[None, :, s:e]
        wsum = z.sum(axis=0)  # (K, n)
        den = np.exp(b[s:e] - top) + wsum.sum(axis=0)
        out[:, s:e] = (values.T @ wsum) / den
    out = np.ascontiguousarray(out.reshape(-1, qh, qw).transpose(1, 2, 0))
    if stride > 1:
        out = cv2.resize(out, (w, h), interpolation=cv2.INTER_LINEAR)
    change = out[..., :2] * np.float32(AB_NORM)
    if alpha:
        change -= np.float32(alpha) * auto_ab * out[..., 2:]
    return change


def _logit_factors(emb: np.ndarray, keys: Keys, reach: Reach, edge: np.ndarray | None,
                   stride: int) -> tuple[np.ndarray, np.ndarray]:
    """The query factors (heads, F, N) and key factors (heads, K, F) whose product is :func:`attend`'s logits.

    Every term of the logit is a product of a query part and a key part, so one matmul per head gives it
    all: with (y, x) relative to the centre, g the edge features, v = 1 / (2 sigma^2),
    ``<q, k> / sqrt(dim) + 2v (yq yk + xq xk) + 2 sum_c w_c gq_c gk_c
    + [-v (yq^2 + xq^2) - sum_c w_c gq_c^2] * 1 + 1 * [-v (yk^2 + xk^2) - sum_c w_c gk_c^2 + logw]``.
    """
    heads, dim, qh, qw = emb.shape
    h, w, index = qh * stride, qw * stride, keys.index
    ky, kx = np.divmod(index, w)
    kq = emb.reshape(heads, dim, qh * qw)[:, :, (ky // stride) * qw + kx // stride] / np.float32(math.sqrt(dim))
    kyx = np.stack([ky - (h - 1) / 2, kx - (w - 1) / 2]).astype(np.float32)  # (2, K)
    kg = None if edge is None else np.moveaxis(edge, -1, 0).reshape(-1, h * w)[:, index].astype(np.float32)
    if edge is not None:
        edge = np.moveaxis(pool(np.moveaxis(edge, -1, 0), stride), 0, -1)
    n = qh * qw
    inv = 0.5 / np.square(np.asarray(reach.sigmas, np.float32) / np.float32(reach.unit))  # (heads,), per px^2
    y, x = np.divmod(np.arange(n), qw)
    yx = np.stack([(y + 0.5) * stride - 0.5 - (h - 1) / 2, (x + 0.5) * stride - 0.5 - (w - 1) / 2]).astype(np.float32)
    g = np.zeros((0, n), np.float32) if edge is None else np.moveaxis(edge, -1, 0).reshape(-1, n).astype(np.float32)
    ew = np.zeros((heads, len(g)), np.float32) if edge is None else np.asarray(reach.edge_weights, np.float32)
    q = emb.reshape(heads, dim, n)  # (heads, dim, N), channels first: no transposes of the big arrays
    gw = ew[:, :, None] * g[None]  # (heads, C, N)
    own = -inv[:, None] * np.square(yx).sum(axis=0)[None] - (gw * g[None]).sum(axis=1)  # (heads, N)
    ones = np.ones((heads, 1, n), np.float32)
    qa = np.concatenate([q, 2 * inv[:, None, None] * yx[None], 2 * gw, own[:, None], ones], axis=1)  # (heads, F, N)
    kk = len(index)
    kg = np.zeros((0, kk), np.float32) if kg is None else kg
    kown = -inv[:, None] * np.square(kyx).sum(axis=0)[None] - (ew[:, :, None] * np.square(kg)[None]).sum(axis=1)
    ka = np.concatenate([kq, np.broadcast_to(kyx, (heads, 2, kk)), np.broadcast_to(kg, (heads, len(kg), kk)),
                         ones[:, :, :kk], (kown + keys.logw[None])[:, None]], axis=1)  # (heads, F, K)
    return qa, np.ascontiguousarray(ka.transpose(0, 2, 1), np.float32)  # (heads, K, F)


def geodesic_locality(edge: np.ndarray, sources: np.ndarray, step: float, tau: float, kappa: float,
                      ease: np.ndarray | None = None, group: np.ndarray | None = None) -> np.ndarray:
    """exp(-d / tau) for the geodesic distance d from each source to every cell of a grid (step 3b).

    A step between neighbouring cells (8-connected) costs its length times
    ``1 + kappa * |g(p) - g(q)|``, with ``g`` the cells' edge features
    (lightness and automatic a*b*, :func:`edge_features`): a hint's reach runs
    along what looks alike and stops at strong edges, such as the border of
    an object or the seam between two photos. With ``ease``, a source's steps
    cost less where it is at ease: times ``1 - (1 - EASED_COST) * e`` with
    ``e`` the mean of ``ease`` at the step's two cells, so a hint travels far
    through the cells that find its colour plausible, as long as they join it.

    Parameters
    ----------
    edge : ndarray of float32, shape (C, h, w)
        The edge features of the grid's cells.
    sources : ndarray of int64, shape (K,)
        Flat indices (row * w + col) of the keys' cells.
    step : float
        Length of one cell in units (px at UNIT_SIZE).
    tau, kappa : float
        The locality's reach (units) and its edge cost.
    ease : ndarray of float32, shape (G, h * w), optional
        0..1 at each cell, per group of sources (the keys of one hint: one colour).
    group : ndarray of int, shape (K,), optional
        Each source's row of ``ease`` (default: one row each). The sources of a
        group share one search and take their nearest one's distance.

    Returns
    -------
    ndarray of float32, shape (K, h * w)
        1 at a source, 0 beyond 12 tau.
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    rows, cols, costs, n = _grid_edges(edge, step, kappa)
    if ease is None:
        graph = csr_matrix((costs, (rows, cols)), shape=(n, n))
        unique, inverse = np.unique(sources, return_inverse=True)
        d = dijkstra(graph, directed=False, indices=unique, limit=12 * tau)  # (U, n), inf beyond the limit
        return np.exp(-d[inverse] / tau).astype(np.float32)
    out = np.empty((len(sources), n), np.float32)
    group = np.arange(len(sources)) if group is None else np.asarray(group)
    # one sparse structure for every group: its entries are the steps, in the order order[i]
    graph = csr_matrix((np.arange(1, len(costs) + 1, dtype=np.float64), (rows, cols)), shape=(n, n))
    order = graph.data.astype(np.int64) - 1
    for g, row in enumerate(ease):
        members = np.flatnonzero(group == g)
        if not len(members):
            continue
        weight = costs * (1 - (1 - EASED_COST) * 0.5 * (row[rows] + row[cols]))
        graph.data = weight[order]
        d = dijkstra(graph, directed=False, indices=np.unique(sources[members]), limit=12 * tau, min_only=True)
        out[members] = np.exp(-d / tau)
    return out


def key_locality(setting: tuple[float, ...], L: np.ndarray, auto_ab: np.ndarray, guide,
                 out: np.ndarray | None = None, centers: np.ndarray | None = None,
                 long_side: int | None = None) -> np.ndarray:
    """Each key's locality (K, H/s * W/s) at the queries' blocks (s = :data:`QUERY_STRIDE`), for the
    locality ``setting`` (tau, kappa, sigma, rho0[, rival]) of a head (step 3b).

    A key's weight at a query is ``exp(-d / tau)``, ``d`` the geodesic distance from the key
    (:func:`geodesic_locality`, over the lightness and the automatic a*b* before any hint), each step
    costing less where the network itself finds the hinted colour plausible: there ``rho``, the
    probability its bins (``out``, the network's output at the queries' grid, and their
    ``centers``) give to colours within about ``sigma`` a*b* units of the hint, over ``rho0``. A true
    colour fills its object and whatever joins it that may have that colour; a colour the photo
    does not support stays near where it was put, and no hint jumps to a part of the picture it
    does not join (the seam between two photos). ``long_side``: the longer side of the photo ``L``
    is cut from (a training crop); by default ``L``'s own.

    Where several hints reach a block, ``rival`` (default 1) says how far the farther ones still
    compete with the nearest: each key's weight is the nearest key's locality times (its own over
    the nearest's) ** rival. How far colour reaches is the nearest hint's business, as with one
    hint (one colour: one search, whose weights ``rival`` does not change); which of the hints
    that reach a block it takes is then more the attention's (what the block looks like) and
    less their distance.
    """
    tau, kappa, sigma, rho0, *rest = setting
    rival = rest[0] if rest else 1.0
    h, w = L.shape
    s = QUERY_STRIDE
    keys = hint_keys(guide.ab, guide.mask, np.zeros_like(auto_ab))  # residual: the hinted colours / AB_NORM
    ky, kx = np.divmod(keys.index, w)
    edge = pool(np.moveaxis(edge_features(L, auto_ab), -1, 0), s)  # (3, H/s, W/s)
    ease = group = None
    if out is not None and centers is not None and len(centers):
        q = len(centers)
        z = out[:q].reshape(q, -1)
        p = np.exp(z - z.max(axis=0, keepdims=True))
        p /= p.sum(axis=0, keepdims=True)  # (Q, n): the network's distribution at each query
        colours, group = np.unique(keys.residual, axis=0, return_inverse=True)  # one hint, one colour: one search
        d2 = np.square(colours[:, None] * np.float32(AB_NORM) - centers[None]).sum(axis=-1)  # (G, Q)
        rho = np.exp(-d2 / np.float32(2 * sigma * sigma)) @ p  # (G, n)
        ease = np.minimum(rho / np.float32(rho0), 1)
    near = geodesic_locality(edge, (ky // s) * (w // s) + kx // s, s * UNIT_SIZE / (long_side or max(h, w)), tau,
                             kappa, ease, None if group is None else group.ravel())
    if rival == 1 or len(near) < 2:
        return near
    top = near.max(axis=0, keepdims=True)
    return (top * (near / np.maximum(top, np.float32(1e-30))) ** np.float32(rival)).astype(np.float32)


def _grid_edges(edge: np.ndarray, step: float, kappa: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The 8-connected grid of ``edge``'s cells: each step's two cells, its cost (see :func:`geodesic_locality`),
    and the number of cells."""
    c, h, w = edge.shape
    ids = np.arange(h * w).reshape(h, w)
    rows, cols, costs = [], [], []
    for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
        ys, ye = 0, h - dy
        xs, xe = max(0, -dx), w - max(0, dx)
        a = (slice(ys, ye), slice(xs, xe))
        b = (slice(ys + dy, ye + dy), slice(xs + dx, xe + dx))
        diff = np.sqrt(np.square(edge[:, a[0], a[1]] - edge[:, b[0], b[1]]).sum(axis=0))
        rows.append(ids[a].ravel())
        cols.append(ids[b].ravel())
        costs.append((step * math.hypot(dy, dx) * (1.0 + kappa * diff)).ravel())
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(costs).astype(np.float64), h * w


class HintHead:
    """A trained hint head: its query network (ONNX Runtime or torch) and the attention in numpy.

    Parameters
    ----------
    query : callable
        (features (1, C, H/4, W/4), normalised L (1, 1, H, W)) ->
        (embedding (1, heads * dim, H/s, W/s), beta (1, 1, H/s, W/s)), float32
        arrays, at the queries of :func:`attend`: s = :data:`QUERY_STRIDE`
        (or 1, every pixel).
    entry : chromatize.models.cnn.config.HintHeadEntry
        The head's settings and learned scalars: the reach and edge weights of
        each head, the share ``alpha`` of a hint's own colour (:func:`attend`),
        the reach of the refining Levin step (module docstring, step 4) and
        the hints' prior on the colour bins (step 0, :func:`bin_prior`).
    """

    def __init__(self, query, entry: HintHeadEntry):
        self._query = query
        self.entry = entry
        self.config = entry.config
        self.sigmas = np.asarray(entry.sigmas, np.float32)
        self.edge_weights = np.asarray(entry.edge_weights, np.float32).reshape(entry.config.heads, 3)
        self.alpha = float(entry.alpha)
        #: Reach (working px at UNIT_SIZE) of the last, Levin step; None: no such step.
        self.refine_reach = entry.refine_reach
        #: (gamma, sigma) of the hints' prior on the colour bins; None: none.
        self.prior = entry.bin_prior
        #: (tau, kappa, sigma, rho0, rival) of the hints' edge-aware locality (step 3b); None: none.
        self.locality = entry.locality

    @classmethod
    def from_onnx(cls, onnx_path: str | os.PathLike, entry: HintHeadEntry, threads: int = 2) -> "HintHead":
        """The head exported as ``hint_head.onnx`` (inputs ``features``, ``L``; outputs ``emb``, ``beta``).

        Raises
        ------
        ModelFormatError
            If the file is missing or not a valid ONNX model.
        """
        session = onnx_session(onnx_path, threads)
        return cls(lambda feats, x: run_onnx(session, None, {"features": feats, "L": x}, onnx_path), entry)

    def reach(self, unit: float) -> Reach:
        """This head's :class:`Reach` at a working size whose pixel is ``unit`` units long."""
        return Reach(self.sigmas, unit, self.edge_weights, self.alpha)

    def prior_logits(self, centers: np.ndarray | None, guide) -> np.ndarray | None:
        """The offsets (Q,) this head adds to the network's bin logits for ``guide`` (step 0); None: none."""
        if self.prior is None or centers is None or not len(centers):
            return None
        return bin_prior(centers, guide.ab, guide.mask, *self.prior)

    def key_locality(self, L: np.ndarray, auto_ab: np.ndarray, guide, out: np.ndarray | None = None,
                     centers: np.ndarray | None = None) -> np.ndarray | None:
        """Each key's locality at the queries' blocks (:func:`key_locality` with this head's setting); None for
        a head without one (step 3b)."""
        if self.locality is None:
            return None
        return key_locality(self.locality, L, auto_ab, guide, out, centers)

    def propagate(self, feats: np.ndarray, x: np.ndarray, guide, auto_ab: np.ndarray,
                  locality: np.ndarray | None = None) -> np.ndarray:
        """The automatic a*b* (H, W, 2) changed by the guide's hints, the hinted pixels set to the hints;
        ``locality`` from :meth:`key_locality`."""
        keys = hint_keys(guide.ab, guide.mask, auto_ab)
        emb, beta = self._query(feats, x)
        c, (h, w) = self.config, auto_ab.shape[:2]
        stride = h // emb.shape[2]
        emb = np.asarray(emb[0]).reshape(c.heads, c.dim, h // stride, w // stride)
        L = x[0, 0] * np.float32(L_NORM) + np.float32(L_CENT)
        unit = UNIT_SIZE / max(h, w)
        if locality is not None and stride != QUERY_STRIDE:
            raise ValueError(f"locality is given at stride {QUERY_STRIDE}, the queries are at stride {stride}")
        ab = auto_ab + attend(emb, np.asarray(beta)[0, 0], keys, self.reach(unit), edge=edge_features(L, auto_ab),
                              auto_ab=auto_ab, stride=stride, locality=locality)
        if self.refine_reach:
            from ..levin import propagate  # scipy, only for a head that refines

            left = ((guide.ab - ab) * guide.mask[..., None]).astype(np.float32)
            ab = ab + propagate(L, type(guide)(left, guide.mask), reach=self.refine_reach / unit,
                                max_direct_pixels=REFINE_DIRECT_PIXELS)
        m = (guide.mask > 0)[..., None]
        return np.where(m, guide.ab, ab).astype(np.float32)
