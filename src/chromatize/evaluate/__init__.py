"""Evaluation: the scoring protocol (``protocol``), its results (``results``), its HTML page (``report``),
the hint sweep (``sweep``) and its outputs (``sweep_report``), and ``run``, which scores either and writes
the outputs asked for.

The names most callers need are re-exported here.
"""

from .protocol import DEFAULT_SIZE, evaluate, lineup, resize_longer, score_model
from .report import write_eval_report
from .results import EvalResult, format_table, write_csv, write_json
from .run import run_evaluation, run_sweep
from .sweep import SweepResult, parse_counts, sweep
from .sweep_report import format_sweep

__all__ = [
    "DEFAULT_SIZE", "EvalResult", "evaluate", "format_table", "lineup", "resize_longer", "score_model",
    "write_csv", "write_json", "run_evaluation", "write_eval_report",
    "SweepResult", "sweep", "run_sweep", "format_sweep", "parse_counts",
]
