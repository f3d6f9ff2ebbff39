"""Training engines of the report's MLP: one algorithm, two implementations, and a variant.

The network and its backpropagation, as the report describes them. For one
pixel, ``x`` holds the 25 values L8/255 of its 5x5 neighbourhood and ``t`` its
target (a*8/255, b*8/255); sigma is the logistic function and eta the
learning rate::

    (1) h  = sigma(W1 x + b1)                 W1: (16, 25), b1: (16,)
    (2) y  = sigma(W2 h + b2)                 W2: (2, 16),  b2: (2,)
    (3) E  = 1/2 ||y - t||^2                  the report's L2 on a*b*
    (4) d2 = (y - t) * y * (1 - y)            dE/d(W2 h + b2)
    (5) d1 = (W2^T d2) * h * (1 - h)          dE/d(W1 x + b1), with W2 before its update
    (6) W2 <- W2 - eta d2 h^T,   b2 <- b2 - eta d2
    (7) W1 <- W1 - eta d1 x^T,   b1 <- b1 - eta d1

One update per pixel (plain SGD), pixels row by row, image by image, in the
image order the caller gives. The loss recorded per image is the mean over its
pixels of ``||y - t||^2`` (= 2 E), measured just before each pixel's update.

Engines
-------
``reference``
    A plain per-sample numpy loop; its comments cite the equations above.
    The readable version and the answer key.
``fast``
    The same updates in the same order, compiled with numba: scalar loops, no
    allocation per sample. Ends an epoch with the same weights as
    ``reference`` to within rounding (about 1e-13).
``minibatch``
    **A different algorithm**, not the report's: the pixels of all photos are
    shuffled together (by the training generator) and cut into batches of
    ``batch_size``; each batch makes one update with the *sum* of its
    per-pixel gradients (so ``lr`` keeps its per-pixel meaning). Because no
    run of updates sees a single photo, the weights do not drift toward the
    colours of the last photos visited, which per-pixel SGD in photo order
    does (see docs/EXPERIMENTS.md). Vectorised numpy.
"""

from __future__ import annotations

import functools
from typing import Callable

import numpy as np

from ..patches import PATCH, average_pad, extract_patches

__all__ = ["ENGINES", "reference_epoch", "fast_epoch", "minibatch_epoch", "sigmoid"]


def sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function 1 / (1 + exp(-z))."""
    return 1.0 / (1.0 + np.exp(-z))


def _images(L: np.ndarray, ab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Check training arrays: L (N, S, S) and ab (N, S, S, 2), as float64."""
    L = np.asarray(L, dtype=np.float64)
    ab = np.asarray(ab, dtype=np.float64)
    if L.ndim != 3 or ab.shape != L.shape + (2,):
        raise ValueError(f"need L (N, H, W) and ab (N, H, W, 2), got {L.shape} and {ab.shape}")
    return L, ab


def reference_epoch(
    weights: dict[str, np.ndarray],
    L: np.ndarray,
    ab: np.ndarray,
    order: np.ndarray,
    lr: float,
    progress: Callable[[int], None] | None = None,
    **_: object,
) -> np.ndarray:
    """One epoch of per-pixel SGD, written as a plain numpy loop.

    Parameters
    ----------
    weights : dict of ndarray
        ``W1`` (16, 25), ``b1`` (16,), ``W2`` (2, 16), ``b2`` (2,), float64;
        updated in place.
    L : ndarray, shape (N, H, W)
        Inputs L8/255.
    ab : ndarray, shape (N, H, W, 2)
        Targets a*b*8/255.
    order : ndarray of int
        The images to visit, in this order.
    lr : float
        Learning rate eta.
    progress : callable, optional
        Called with 1 after each image.

    Returns
    -------
    losses : ndarray of float64, shape (len(order),)
        Mean ``||y - t||^2`` per image, in visiting order.
    """
    L, ab = _images(L, ab)
    W1, b1, W2, b2 = weights["W1"], weights["b1"], weights["W2"], weights["b2"]
    losses = np.empty(len(order))
    for n, i in enumerate(order):
        X = extract_patches(L[i])  # (H*W, 25), pixel order row by row
        T = ab[i].reshape(-1, 2)  # (H*W, 2)
        total = 0.0
        for x, t in zip(X, T):
            h = sigmoid(W1 @ x + b1)  # eq. (1), (16,)
            y = sigmoid(W2 @ h + b2)  # eq. (2), (2,)
            e = y - t
            total += e @ e  # 2 E, eq. (3)
            d2 = e * y * (1.0 - y)  # eq. (4), (2,)
            d1 = (W2.T @ d2) * h * (1.0 - h)  # eq. (5), (16,), W2 not yet updated
            W2 -= lr * np.outer(d2, h)  # eq. (6)
            b2 -= lr * d2
            W1 -= lr * np.outer(d1, x)  # eq. (7)
            b1 -= lr * d1
        losses[n] = total / len(X)
        if progress is not None:
            progress(1)
    return losses


def _sgd_image(Lpad, T, params, lr, scratch):  # pragma: no cover - compiled by _kernel
    """Per-pixel SGD over one image (equations (1)-(7)); returns the summed ||y - t||^2.

    ``Lpad`` is the average-padded L plane (H+4, W+4), ``T`` the targets
    (H, W, 2); ``params`` the weights ``(W1, b1, W2, b2)``, updated in place;
    ``scratch`` the buffers ``(x, h, y, d1, d2)``, so that nothing is
    allocated per pixel. Sums run in the same order as numpy's ``W @ x + b``
    (products first, bias last) to keep the two engines close.
    """
    W1, b1, W2, b2 = params
    x, h, y, d1, d2 = scratch
    H, W = T.shape[0], T.shape[1]
    n_hidden, n_in = W1.shape
    n_out = W2.shape[0]
    total = 0.0
    for r in range(H):
        for c in range(W):
            for dy in range(PATCH):  # the 5x5 window, read row by row
                for dx in range(PATCH):
                    x[dy * PATCH + dx] = Lpad[r + dy, c + dx]
            for j in range(n_hidden):  # eq. (1)
                s = 0.0
                for k in range(n_in):
                    s += W1[j, k] * x[k]
                h[j] = 1.0 / (1.0 + np.exp(-(s + b1[j])))
            for o in range(n_out):  # eq. (2), (3), (4)
                s = 0.0
                for j in range(n_hidden):
                    s += W2[o, j] * h[j]
                y[o] = 1.0 / (1.0 + np.exp(-(s + b2[o])))
                e = y[o] - T[r, c, o]
                total += e * e
                d2[o] = e * y[o] * (1.0 - y[o])
            for j in range(n_hidden):  # eq. (5), before W2 changes
                s = 0.0
                for o in range(n_out):
                    s += W2[o, j] * d2[o]
                d1[j] = s * h[j] * (1.0 - h[j])
            for o in range(n_out):  # eq. (6)
                for j in range(n_hidden):
                    W2[o, j] -= lr * (d2[o] * h[j])
                b2[o] -= lr * d2[o]
            for j in range(n_hidden):  # eq. (7)
                for k in range(n_in):
                    W1[j, k] -= lr * (d1[j] * x[k])
                b1[j] -= lr * d1[j]
    return total


@functools.cache
def _kernel() -> Callable:
    """:func:`_sgd_image` compiled (numba is imported on first use, so importing the MLP stays quick)."""
    from numba import njit

    return njit(cache=True, nogil=True)(_sgd_image)


def fast_epoch(
    weights: dict[str, np.ndarray],
    L: np.ndarray,
    ab: np.ndarray,
    order: np.ndarray,
    lr: float,
    progress: Callable[[int], None] | None = None,
    **_: object,
) -> np.ndarray:
    """One epoch of the same per-pixel SGD as :func:`reference_epoch`, compiled.

    Same parameters and result; the first call compiles the loop (a few
    seconds, then cached on disk).
    """
    L, ab = _images(L, ab)
    W1, b1, W2, b2 = weights["W1"], weights["b1"], weights["W2"], weights["b2"]
    for name, w in weights.items():
        if w.dtype != np.float64 or not w.flags.c_contiguous:
            raise ValueError(f"weight {name} must be C-contiguous float64, got {w.dtype}")
    n_hidden, n_in = W1.shape
    if n_in != PATCH * PATCH:
        raise ValueError(f"W1 has {n_in} inputs, the fast engine needs {PATCH * PATCH}")
    scratch = (np.empty(n_in), np.empty(n_hidden), np.empty(W2.shape[0]), np.empty(n_hidden), np.empty(W2.shape[0]))
    sgd_image = _kernel()
    losses = np.empty(len(order))
    for n, i in enumerate(order):
        Lpad = average_pad(np.ascontiguousarray(L[i]))
        T = np.ascontiguousarray(ab[i])
        total = sgd_image(Lpad, T, (W1, b1, W2, b2), float(lr), scratch)
        losses[n] = total / (T.shape[0] * T.shape[1])
        if progress is not None:
            progress(1)
    return losses


def minibatch_epoch(
    weights: dict[str, np.ndarray],
    L: np.ndarray,
    ab: np.ndarray,
    order: np.ndarray,
    lr: float,
    progress: Callable[[int], None] | None = None,
    *,
    rng: np.random.Generator,
    batch_size: int = 256,
    **_: object,
) -> np.ndarray:
    """One epoch of mini-batch gradient descent: NOT the report's algorithm.

    The pixels of all the images in ``order`` are shuffled together with
    ``rng`` and cut into batches of ``batch_size``. Each batch makes one update
    with the *sum* of its per-pixel gradients (equations (4)-(7) summed over
    the batch, all at the weights before the update), so ``lr`` keeps its
    per-pixel meaning.

    Returns
    -------
    losses : ndarray of float64, shape (len(order),)
        Entry i is the mean ``||y - t||^2`` over the i-th run of H*W shuffled
        pixels (one image's worth of updates), each batch measured before its
        update. ``progress`` is called once per such run.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    L, ab = _images(L, ab)
    W1, b1, W2, b2 = weights["W1"], weights["b1"], weights["W2"], weights["b2"]
    order = np.asarray(order, dtype=np.int64)
    n_img, (H, W) = len(order), L.shape[1:]
    Lpad = np.stack([average_pad(L[i]) for i in order])  # (n, H+4, W+4)
    T = ab[order].reshape(-1, 2)  # (n*H*W, 2)
    dy, dx = np.divmod(np.arange(PATCH * PATCH), PATCH)  # window offsets, row by row
    perm = rng.permutation(n_img * H * W)
    sums = np.zeros(n_img)
    run = H * W
    for start in range(0, len(perm), batch_size):
        p = perm[start : start + batch_size]  # (B,) flat pixel indices
        img, r, c = p // run, (p % run) // W, p % W
        x = Lpad[img[:, None], r[:, None] + dy, c[:, None] + dx]  # (B, 25)
        t = T[p]  # (B, 2)
        h = sigmoid(x @ W1.T + b1)  # (B, 16)
        y = sigmoid(h @ W2.T + b2)  # (B, 2)
        e = y - t
        se = np.sum(e * e, axis=1)  # (B,)
        np.add.at(sums, np.arange(start, start + len(p)) // run, se)
        d2 = e * y * (1.0 - y)  # (B, 2)
        d1 = (d2 @ W2) * h * (1.0 - h)  # (B, 16)
        W2 -= lr * (d2.T @ h)
        b2 -= lr * d2.sum(axis=0)
        W1 -= lr * (d1.T @ x)
        b1 -= lr * d1.sum(axis=0)
        if progress is not None:
            done = (start + len(p)) // run - start // run
            if done:
                progress(done)
    return sums / run


#: engine name -> epoch function(weights, L, ab, order, lr, progress, *, rng, batch_size)
ENGINES: dict[str, Callable[..., np.ndarray]] = {
    "reference": reference_epoch,
    "fast": fast_epoch,
    "minibatch": minibatch_epoch,
}
