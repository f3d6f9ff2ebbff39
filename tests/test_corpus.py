"""The bad-input corpus (tests/corpus.py) through the CLI: correct output or one clear line, never a traceback or a leftover."""

from __future__ import annotations

from corpus import CASES, run_corpus, totals


def test_the_corpus_has_at_least_30_kinds():
    assert len(CASES) >= 30 and len({c.name for c in CASES}) == len(CASES)


def test_every_case_gives_a_correct_output_or_one_clear_line(tmp_path):
    results = run_corpus(tmp_path)
    t = totals(results)
    print("\ncorpus totals: " + ", ".join(f"{k} {v}" for k, v in t.items()))
    wrong = [f"{r.case}: {r.problem}" for r in results if r.problem]
    assert not wrong, "\n".join(wrong)
    assert t["tracebacks"] == 0 and t["leftovers"] == 0
    assert t["correct outputs"] + t["clear errors"] == t["kinds"] >= 30
