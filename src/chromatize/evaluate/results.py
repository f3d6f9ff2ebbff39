"""What an evaluation gives: per-image scores, their summary tables, and the files they are written to.

:class:`EvalResult` holds the rows that :func:`chromatize.evaluate.evaluate`
scores and summarises them (mean and median per metric, undefined values left
out of both); :func:`write_json`, :func:`write_csv` and :func:`format_table`
write them out, after :func:`check_outputs` has refused, before any work,
outputs that exist.
"""

from __future__ import annotations

import csv
import io as _io
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..io import OutputExistsError, atomic_write_text
from ..metrics import METRICS
from ..text import markdown_table

__all__ = [
    "TABLE_COLUMNS",
    "check_outputs",
    "EvalResult",
    "write_json",
    "write_csv",
    "format_table",
    "format_value",
]

#: Columns of the summary table: (metric key, statistic).
TABLE_COLUMNS = [
    ("psnr_rgb", "mean"), ("psnr_rgb", "median"), ("ssim_rgb", "mean"),
    ("ciede2000_mean", "mean"), ("ciede2000_mean", "median"), ("ab_l2", "mean"),
    ("auc_ab", "mean"), ("auc_ab_rebalanced", "mean"), ("colorfulness_ratio", "mean"),
]

#: Decimals shown for each metric in tables and captions.
DIGITS = {"psnr_rgb": 2, "ssim_rgb": 4, "ciede2000_mean": 2, "ab_l2": 5, "auc_ab": 4,
          "auc_ab_rebalanced": 4, "colorfulness": 1, "colorfulness_true": 1, "colorfulness_ratio": 3}


def format_value(key: str, value: float | None) -> str:
    """A metric value with the decimals of ``DIGITS`` (``-`` for a missing value)."""
    if value is None:
        return "-"
    return f"{value:.{DIGITS.get(key, 4)}f}"


def nan_stat(values: list[float], stat: str) -> float | None:
    """The mean or median (``stat``) of ``values`` without their ``nan`` ones; None when none is left."""
    a = np.asarray(values, np.float64)
    a = a[~np.isnan(a)]
    if a.size == 0:
        return None
    return float(np.mean(a) if stat == "mean" else np.median(a))


@dataclass
class EvalResult:
    """Per-image scores of several models (and the baselines) on several datasets.

    Attributes
    ----------
    size : int or None
        Longer side the images were reduced to (None: native size).
    datasets : list of str
        Dataset names, in the order given.
    models : list of str
        Column names: baselines first, then the models.
    baselines : set of str
        Which of ``models`` are baselines.
    mean_ab : dict
        Column name -> the mean a*b* of its training data (the tint of mean-ab).
    rows : list of dict
        One per (dataset, image, model): ``dataset``, ``image`` (path inside
        the dataset), ``model``, ``height``, ``width`` and each metric.
    failed : list of (str, str)
        Files that could not be scored: (path, one-line reason).
    thumbs : dict
        (dataset, image) -> {"truth" or model name: RGB thumbnail}, when kept.
    """

    size: int | None
    datasets: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    baselines: set[str] = field(default_factory=set)
    mean_ab: dict[str, list[float]] = field(default_factory=dict)
    rows: list[dict] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    thumbs: dict[tuple[str, str], dict[str, np.ndarray]] = field(default_factory=dict, repr=False)

    def images(self, dataset: str) -> list[str]:
        """Images of a dataset that were scored, in order."""
        return list(dict.fromkeys(r["image"] for r in self.rows if r["dataset"] == dataset))

    def values(self, dataset: str, model: str, key: str) -> list[tuple[str, float]]:
        """(image, value) of one metric for one model on one dataset."""
        return [(r["image"], r[key]) for r in self.rows if r["dataset"] == dataset and r["model"] == model and key in r]

    def ranked(self, dataset: str, model: str, key: str) -> list[tuple[str, float]]:
        """(image, value) from best to worst by the metric's direction; undefined values dropped."""
        better = METRICS[key][1]
        vals = [(i, v) for i, v in self.values(dataset, model, key) if not math.isnan(v)]
        order = {"higher": lambda t: -t[1], "lower": lambda t: t[1], "one": lambda t: abs(math.log(max(t[1], 1e-9)))}
        return sorted(vals, key=order.get(better, lambda t: 0.0))

    def summary(self) -> dict[str, dict[str, dict]]:
        """dataset -> model -> {"n": images, metric: {"mean": .., "median": ..}}."""
        out: dict[str, dict[str, dict]] = {}
        for ds in self.datasets:
            for model in self.models:
                entry: dict = {"n": sum(r["dataset"] == ds and r["model"] == model for r in self.rows)}
                for key in METRICS:
                    vals = [v for _, v in self.values(ds, model, key)]
                    if vals:
                        entry[key] = {s: nan_stat(vals, s) for s in ("mean", "median")}
                out.setdefault(ds, {})[model] = entry
        return out

    def table(self, dataset: str) -> tuple[list[str], list[list[str]]]:
        """Headers and formatted rows of a dataset's summary table (``TABLE_COLUMNS``)."""
        summ = self.summary()[dataset]
        cols = [(k, s) for k, s in TABLE_COLUMNS if any(k in summ[m] for m in self.models)]
        headers = ["model", "n"] + [METRICS[k][0] + (" med" if s == "median" else "") for k, s in cols]
        rows = [
            [m, str(summ[m]["n"])] + [format_value(k, summ[m].get(k, {}).get(s)) for k, s in cols]
            for m in self.models
        ]
        return headers, rows

    def protocol_text(self) -> str:
        """One paragraph that says how the figures were made."""
        size = "native size" if self.size is None else f"longer side {self.size} px (INTER_AREA, never upscaled)"
        tints = ", ".join(f"{m} = ({a:.2f}, {b:.2f})" for m, (a, b) in self.mean_ab.items() if m in self.baselines and m != "gray")
        return (
            f"Each photo at {size}, colorized from its own L, compared with itself in uint8 RGB "
            f"(Lab via OpenCV, D65). Baselines: gray (a*b* = 0)"
            + (f"; mean a*b* of the training data: {tints}" if tints else "")
            + f". {sum(len(self.images(d)) for d in self.datasets)} images scored, {len(self.failed)} failed."
        )

    def to_dict(self) -> dict:
        """Everything as JSON-able data (non-finite values become null)."""

        def clean(v):
            if isinstance(v, float) and not math.isfinite(v):
                return None
            if isinstance(v, dict):
                return {k: clean(x) for k, x in v.items()}
            return v

        return {
            "protocol": {"size": self.size, "text": self.protocol_text(), "metrics": {k: {"label": l, "better": b} for k, (l, b) in METRICS.items()}},
            "datasets": self.datasets,
            "models": self.models,
            "baselines": sorted(self.baselines),
            "mean_ab": self.mean_ab,
            "summary": clean(self.summary()),
            "images": [clean(r) for r in self.rows],
            "failed": [{"path": p, "reason": r} for p, r in self.failed],
        }


def check_outputs(json_path=None, csv_path=None, report_dir=None, *, overwrite: bool = False) -> None:
    """Refuse, before any work, outputs that exist (a report is its folder's ``index.html``).

    Raises
    ------
    chromatize.io.OutputExistsError
        If one exists and ``overwrite`` is false.
    """
    targets = [Path(p) for p in (json_path, csv_path) if p is not None]
    if report_dir is not None:
        targets.append(Path(report_dir) / "index.html")
    for t in targets:
        if t.exists() and not overwrite:
            raise OutputExistsError(f"{t}: exists (use --overwrite to replace it)")


def write_json(result: EvalResult, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Write ``result.to_dict()`` as JSON, atomically (summary, per-image rows, failures)."""
    return atomic_write_text(path, json.dumps(result.to_dict(), indent=1, allow_nan=False) + "\n", overwrite=overwrite)


def write_csv(result: EvalResult, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Write the summary as CSV, atomically: one row per (dataset, model) with
    ``n`` and ``<metric>_mean``, ``<metric>_median`` for every metric (empty when undefined)."""
    buf = _io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    keys = [k for k in METRICS if any(k in r for r in result.rows)]
    writer.writerow(["dataset", "model", "baseline", "n"] + [f"{k}_{s}" for k in keys for s in ("mean", "median")])
    for ds, per_model in result.summary().items():
        for model, entry in per_model.items():
            stats = [entry.get(k, {}).get(s) for k in keys for s in ("mean", "median")]
            writer.writerow([ds, model, int(model in result.baselines), entry["n"]]
                            + ["" if v is None else repr(v) for v in stats])
    return atomic_write_text(path, buf.getvalue(), overwrite=overwrite)


def format_table(result: EvalResult) -> str:
    """The summary as Markdown: one table per dataset (models as rows)."""
    parts = []
    for ds in result.datasets:
        headers, rows = result.table(ds)
        parts.append(f"**{ds}** ({len(result.images(ds))} images)\n\n" + markdown_table(headers, rows))
    return "\n\n".join(parts)
