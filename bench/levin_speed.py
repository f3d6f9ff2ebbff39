"""Which solver for Levin et al.'s propagation: time at 512x512 and at 2 MP, and distance from the exact answer.

The photo (a bundled Kodak sample, resized) gets ``--points`` 5x5 hints of its
own true colours, drawn like the hint sweep's (``chromatize.evaluate.sweep``).
The distance from the exact answer is also given at the strongest 5% of
lightness edges, where the cascade's coarse level blurs. Each solver is timed end to end (weights, system, solve) as the median of
``--runs``, in wall-clock seconds and in CPU seconds of this process (all its
threads): on a machine shared with other work the CPU time is the steadier
figure, and it bounds the wall time on a quiet one for these mostly
single-threaded solvers. Its answer is compared with the exact one (sparse LU) as the mean
and 99th percentile of |Δa*b*|, and with the photo's true a*b* (mean |Δa*b*|).

Solvers (the same equations, the matrix is not symmetric):

* ``spsolve``: ``scipy.sparse.linalg.spsolve`` (SuperLU, COLAMD ordering: scipy's default);
* ``splu-mmd``: SuperLU with a minimum-degree ordering of A^T + A and no
  pivoting (the matrix is diagonally dominant): what ``propagate`` uses for
  its exact level;
* ``amg-gmres``: pyamg smoothed aggregation as a GMRES preconditioner (if pyamg is installed);
* ``ilu-bicgstab``: BiCGSTAB with an incomplete-LU preconditioner (CG needs a
  symmetric matrix; Levin's rows are normalised per pixel, so it is not);
* ``cascade k=..``: ``propagate`` itself: exact at <= 256x256, then per level
  bilinear upsampling and k Jacobi sweeps.

At 2 MP only the cascade is run (the exact solvers are far over 5 s already
at 512x512; ``--all`` runs them anyway). Last lines: ``solver=... size=...
seconds=...`` for the chosen settings.

Usage::

    python bench/levin_speed.py
    python bench/levin_speed.py --points 20 --runs 3 --skip ilu-bicgstab
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from importlib import resources
from pathlib import Path

import cv2
import numpy as np
import scipy.sparse.linalg as spla

from chromatize.color import rgb_to_lab
from chromatize.hints import sweep_hints, sweep_points
from chromatize.hints import rasterize
from chromatize.io import read_image
from chromatize.models.levin import DIRECT_MAX_PIXELS, SWEEPS, levin_system, levin_weights, propagate


def exact_with(solve):
    """A propagate-like function that builds the full system and solves it with ``solve(A, rhs)``."""

    def run(L, guide):
        h, w = L.shape
        out = (guide.ab * guide.mask[..., None]).reshape(h * w, 2).astype(np.float64)
        A, rhs, free = levin_system(levin_weights(L), guide)
        out[free] = solve(A, rhs)
        return out.reshape(h, w, 2).astype(np.float32)

    return run


def spsolve(A, rhs):
    return spla.spsolve(A, rhs)


def splu_mmd(A, rhs):
    return spla.splu(A, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0, options={"SymmetricMode": True}).solve(rhs)


def amg_gmres(A, rhs):
    import pyamg

    ml = pyamg.smoothed_aggregation_solver(A.tocsr(), symmetry="nonsymmetric")
    return np.stack([ml.solve(rhs[:, j], tol=1e-6, accel="gmres", maxiter=200) for j in range(2)], axis=1)


def ilu_bicgstab(A, rhs):
    ilu = spla.spilu(A, drop_tol=1e-4, fill_factor=10)
    M = spla.LinearOperator(A.shape, ilu.solve)
    return np.stack([spla.bicgstab(A, rhs[:, j], rtol=1e-6, M=M, maxiter=500)[0] for j in range(2)], axis=1)


def cascade(sweeps, direct=DIRECT_MAX_PIXELS):
    return lambda L, guide: propagate(L, guide, sweeps=sweeps, max_direct_pixels=direct)


def timed(fn, L, guide, runs):
    """Median wall-clock and CPU seconds (this process, all its threads) over ``runs``, and the answer."""
    wall, cpu, out = [], [], None
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        out = fn(L, guide)
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return float(np.median(wall)), float(np.median(cpu)), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photo", type=Path, default=Path(str(resources.files("chromatize") / "samples" / "kodim05.png")))
    ap.add_argument("--points", type=int, default=100, help="5x5 hints of the photo's own colours")
    ap.add_argument("--runs", type=int, default=3, help="repeats of the fast solvers (median); slow ones run once")
    ap.add_argument("--all", action="store_true", help="also run the exact solvers at 2 MP (slow, GBs of memory)")
    ap.add_argument("--skip", action="append", default=[], metavar="SOLVER",
                    help="leave a solver out (repeat), e.g. --skip ilu-bicgstab --skip amg-gmres")
    args = ap.parse_args()
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs, load average "
          f"{os.getloadavg()[0]:.2f}; photo {args.photo.name}, {args.points} hints of 5x5 px")
    rgb = read_image(args.photo).rgb
    solvers = [("spsolve", exact_with(spsolve)), ("splu-mmd", exact_with(splu_mmd))]
    try:
        import pyamg  # noqa: F401

        solvers.append(("amg-gmres", exact_with(amg_gmres)))
    except ImportError:
        print("# pyamg not installed: amg-gmres skipped (pip install pyamg)")
    solvers.append(("ilu-bicgstab", exact_with(ilu_bicgstab)))
    solvers += [(f"cascade k={k}", cascade(k)) for k in (0, 5, SWEEPS, 20)]
    print(f"{'size':>10} {'solver':>14} {'wall s':>8} {'CPU s':>8} {'|d| vs exact':>13} {'p99':>6} {'at edges':>8} "
          f"{'|d| vs truth':>13}")
    chosen = []
    for h, w in ((512, 512), (1155, 1732)):
        photo = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_CUBIC)
        lab = rgb_to_lab(photo)
        L, ab = lab[..., 0], lab[..., 1:]
        corners = sweep_points((h, w), args.points, np.random.default_rng(0))
        guide = rasterize(sweep_hints(ab, corners), (h, w))
        gy, gx = np.gradient(L)
        edges = np.hypot(gx, gy) > np.percentile(np.hypot(gx, gy), 95)  # the strongest 5% of lightness edges
        exact = None
        for name, fn in solvers:
            if name in args.skip or (h * w > 512 * 512 and not name.startswith("cascade") and not args.all):
                continue
            runs = args.runs if name.startswith("cascade") else 1
            seconds, cpu, out = timed(fn, L, guide, runs)
            if name == "splu-mmd":
                exact = out
            if exact is not None:
                d = np.abs(out - exact)
                vs_exact, p99, at_edges = f"{d.mean():13.3f}", f"{np.percentile(d, 99):6.2f}", f"{d[edges].mean():8.3f}"
            else:
                vs_exact, p99, at_edges = f"{'-':>13}", f"{'-':>6}", f"{'-':>8}"
            print(f"{w}x{h:<5} {name:>14} {seconds:8.2f} {cpu:8.2f} {vs_exact} {p99} {at_edges} "
                  f"{np.abs(out - ab).mean():13.3f}", flush=True)
            if name == f"cascade k={SWEEPS}":
                chosen.append(f"solver=cascade sweeps={SWEEPS} size={w}x{h} seconds={seconds:.2f} cpu_seconds={cpu:.2f}")
    print("\n".join(chosen))


if __name__ == "__main__":
    main()
