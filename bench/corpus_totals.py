"""Run the bad-input corpus (tests/corpus.py) through the CLI and print one line per case and the totals.

Each case is a kind of input (empty file, truncated JPEG, 40000x300 panorama,
16-bit dark PNG, dangling symlink, output equal to input, ...) with its
expected outcome: a correct output, or one clear line naming the file. The
totals are what issue 8 asks to report; tracebacks and leftovers must be 0.

Last line::

    kinds=... correct_outputs=... clear_errors=... tracebacks=0 leftovers=0 wrong=0 seconds=...

Usage::

    python bench/corpus_totals.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from corpus import run_corpus, totals  # noqa: E402


def main() -> int:
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        results = run_corpus(Path(tmp))
    for r in results:
        verdict = "correct output" if r.correct else "clear error" if r.clear_error else f"WRONG: {r.problem}"
        print(f"{r.seconds:6.2f}s  {r.case:<60}  {verdict}")
    t = totals(results)
    print(" ".join(f"{k.replace(' ', '_')}={v}" for k, v in t.items()) + f" seconds={time.perf_counter() - t0:.1f}")
    return 1 if t["wrong"] else 0


if __name__ == "__main__":
    sys.exit(main())
