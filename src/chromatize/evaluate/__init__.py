"""Evaluation: the scoring protocol (``protocol``), its results (``results``), its HTML report (``report``)
and the hint sweep (``sweep``).

The names most callers need are re-exported here.
"""

from .protocol import DEFAULT_SIZE, evaluate, lineup, resize_longer, score_model
from .report import run_evaluation, write_eval_report
from .results import EvalResult, format_table, write_csv, write_json
from .sweep import SweepResult, format_sweep, parse_counts, run_sweep, sweep

__all__ = [
    "DEFAULT_SIZE", "EvalResult", "evaluate", "format_table", "lineup", "resize_longer", "score_model",
    "write_csv", "write_json", "run_evaluation", "write_eval_report",
    "SweepResult", "sweep", "run_sweep", "format_sweep", "parse_counts",
]
