"""Evaluation: the scoring protocol (``protocol``) and its HTML report (``report``).

The names most callers need are re-exported here.
"""

from .protocol import DEFAULT_SIZE, EvalResult, evaluate, format_table, lineup, resize_longer, score_model, write_csv, write_json
from .report import run_evaluation, write_eval_report

__all__ = [
    "DEFAULT_SIZE", "EvalResult", "evaluate", "format_table", "lineup", "resize_longer", "score_model",
    "write_csv", "write_json", "run_evaluation", "write_eval_report",
]
