"""Score, then write what was asked for: one orchestration for an evaluation and for a hint sweep.

:func:`run_evaluation` (:func:`~chromatize.evaluate.protocol.evaluate`) and
:func:`run_sweep` (:func:`~chromatize.evaluate.sweep.sweep`) both refuse
outputs that exist before any work (unless ``overwrite``), score, then write
the JSON, CSV and HTML report asked for, each with its own writers.
"""

from __future__ import annotations

import os
from typing import Callable, Iterable, Sequence, TypeVar

from ..models import Colorizer
from .protocol import DEFAULT_SIZE, THUMB_SIZE, Progress, evaluate
from .report import write_eval_report
from .results import EvalResult, check_outputs, write_csv, write_json
from .sweep import DEFAULT_COUNTS, SweepResult, sweep
from .sweep_report import write_sweep_csv, write_sweep_json, write_sweep_report

__all__ = ["run_evaluation", "run_sweep", "score_and_write"]

R = TypeVar("R")
#: ``write(result, path, overwrite=...)``
Writer = Callable[..., object]


def score_and_write(score: Callable[[bool], R], writers: tuple[Writer, Writer, Writer],
                    json_path: str | os.PathLike | None = None, csv_path: str | os.PathLike | None = None,
                    report_dir: str | os.PathLike | None = None, *, overwrite: bool = False) -> R:
    """Refuse existing outputs, ``score(report_wanted)``, then write each output asked for.

    ``writers`` are the JSON, CSV and report writers, in that order.

    Raises
    ------
    chromatize.io.OutputExistsError
        If an output exists and ``overwrite`` is false (before any work).
    """
    check_outputs(json_path, csv_path, report_dir, overwrite=overwrite)
    result = score(report_dir is not None)
    for path, write in zip((json_path, csv_path, report_dir), writers):
        if path is not None:
            write(result, path, overwrite=overwrite)
    return result


def run_evaluation(
    datasets: Sequence[str | os.PathLike],
    models: Iterable["str | os.PathLike | Colorizer"] | None = None,
    size: int | None = DEFAULT_SIZE,
    *,
    json_path: str | os.PathLike | None = None,
    csv_path: str | os.PathLike | None = None,
    report_dir: str | os.PathLike | None = None,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> EvalResult:
    """``evaluate`` and write the JSON, CSV and HTML report that are asked for.

    Existing outputs are refused before any work is done (unless ``overwrite``).

    Raises
    ------
    chromatize.io.OutputExistsError
        If an output exists and ``overwrite`` is false.
    """

    def score(report: bool) -> EvalResult:
        return evaluate(datasets, models, size, thumb_size=THUMB_SIZE if report else None, progress=progress)

    return score_and_write(score, (write_json, write_csv, write_eval_report), json_path, csv_path, report_dir,
                           overwrite=overwrite)


def run_sweep(
    datasets: Sequence[str | os.PathLike],
    models: Iterable["str | os.PathLike | Colorizer"],
    counts: Sequence[int] = DEFAULT_COUNTS,
    size: int | None = DEFAULT_SIZE,
    *,
    json_path: str | os.PathLike | None = None,
    csv_path: str | os.PathLike | None = None,
    report_dir: str | os.PathLike | None = None,
    overwrite: bool = False,
    seed: int = 0,
    progress: Progress | None = None,
) -> SweepResult:
    """:func:`~chromatize.evaluate.sweep.sweep`, then write the JSON, CSV (means per dataset, model and N)
    and report asked for.

    Existing outputs are refused before any work is done (unless ``overwrite``).

    Raises
    ------
    chromatize.io.OutputExistsError
        If an output exists and ``overwrite`` is false.
    """

    def score(report: bool) -> SweepResult:
        return sweep(datasets, models, counts, size, seed=seed, progress=progress)

    return score_and_write(score, (write_sweep_json, write_sweep_csv, write_sweep_report), json_path, csv_path,
                           report_dir, overwrite=overwrite)
