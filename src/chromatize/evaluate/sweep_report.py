"""The hint sweep's outputs: Markdown tables, CSV, JSON, plots and its HTML page.

:func:`chromatize.evaluate.run_sweep` scores a sweep (:mod:`chromatize.evaluate.sweep`)
and writes these.
"""

from __future__ import annotations

import csv
import html
import io as _io
import json
import os
from pathlib import Path

import numpy as np

from ..io import OutputExistsError, atomic_output, atomic_write_text
from ..metrics import METRICS
from ..text import html_table, markdown_table
from .sweep import ZHANG_2017, SweepResult

__all__ = ["format_sweep", "plot_sweep", "write_sweep_report", "sweep_csv", "write_sweep_csv", "write_sweep_json"]


def format_sweep(result: SweepResult) -> str:
    """Markdown: one table per (dataset, metric), models as rows, point counts as columns."""
    parts = []
    for ds in result.datasets:
        for key in result.metrics:
            headers, rows = result.table(ds, key)
            parts.append(f"**{ds}** ({result.n_images(ds)} images), {METRICS[key][0]} by number of points\n\n"
                         + markdown_table(headers, rows))
    return "\n\n".join(parts)


def plot_sweep(result: SweepResult, path: str | os.PathLike, key: str = "psnr_rgb", *,
               published: bool = True) -> Path:
    """A PNG of one metric against the number of points, a line per (dataset, model).

    The x axis is logarithmic with N = 0 drawn at 0.4 and labelled ``auto``,
    as in Zhang's plot; ``published`` adds Zhang et al. 2017's points (PSNR only).
    """
    import matplotlib

    matplotlib.use("Agg")  # files only; never needs a display
    import matplotlib.pyplot as plt

    xs = [n if n else 0.4 for n in result.counts]
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for ds in result.datasets:
        for m in result.models:
            ys = [result.mean(ds, m, n, key) for n in result.counts]
            ax.plot(xs, [np.nan if y is None else y for y in ys], "o-", label=f"{m} ({ds})")
    if published and key == "psnr_rgb":
        ax.plot([n if n else 0.4 for n in ZHANG_2017], list(ZHANG_2017.values()), "k*--",
                label="Zhang et al. 2017 (ImageNet, 256 px)")
    ax.set_xscale("log")
    ticks = [n for n in (0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000) if n <= max(result.counts)]
    ax.set_xticks([n if n else 0.4 for n in ticks], ["auto" if n == 0 else str(n) for n in ticks])
    ax.minorticks_off()
    ax.set_xlabel("number of points")
    ax.set_ylabel(METRICS[key][0])
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    path = Path(path)
    with atomic_output(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def write_sweep_report(result: SweepResult, out_dir: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """``out_dir/index.html`` with the tables and a plot per metric (``sweep_<metric>.png``)."""
    out_dir = Path(out_dir)
    index = out_dir / "index.html"
    if index.exists() and not overwrite:
        raise OutputExistsError(f"{index}: exists (use overwrite to replace it)")
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>chromatize hint sweep</title>",
             "<style>body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1000px}"
             "table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.2em .6em;text-align:right}"
             "td:first-child{text-align:left}</style></head><body><h1>Hint sweep</h1>",
             f"<p>{html.escape(result.protocol_text())}</p>"]
    for key in result.metrics:
        png = plot_sweep(result, out_dir / f"sweep_{key}.png", key)
        parts.append(f"<h2>{html.escape(METRICS[key][0])}</h2><img src='{png.name}' alt='{html.escape(key)}'>")
        for ds in result.datasets:
            headers, rows = result.table(ds, key)
            parts.append(f"<h3>{html.escape(ds)} ({result.n_images(ds)} images)</h3>" + html_table(headers, rows))
    if result.failed:
        parts.append("<h2>Files that failed</h2><ul>" + "".join(f"<li>{html.escape(r)}</li>" for _, r in result.failed)
                     + "</ul>")
    parts.append("</body></html>")
    return atomic_write_text(index, "\n".join(parts), overwrite=True)


def sweep_csv(result: SweepResult) -> str:
    """The means per dataset, model and N as CSV text (``<metric>_mean`` columns, empty when undefined)."""
    buf = _io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["dataset", "model", "points", "n"] + [f"{k}_mean" for k in result.metrics])
    for ds in result.datasets:
        for m in result.models:
            for n in result.counts:
                means = [result.mean(ds, m, n, k) for k in result.metrics]
                writer.writerow([ds, m, n, result.n_images(ds)] + ["" if v is None else repr(v) for v in means])
    return buf.getvalue()


def write_sweep_csv(result: SweepResult, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Write :func:`sweep_csv`, atomically."""
    return atomic_write_text(path, sweep_csv(result), overwrite=overwrite)


def write_sweep_json(result: SweepResult, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Write ``result.to_dict()`` as JSON, atomically."""
    return atomic_write_text(path, json.dumps(result.to_dict(), indent=1, allow_nan=False) + "\n", overwrite=overwrite)
