"""Small text helpers shared by every layer: one-line error messages, JSON from users, and tables.

Every message chromatize shows a user is one line; :func:`one_line` is the one
place that turns an exception into that line. Tables are rendered here as
Markdown and HTML so that reports, benchmarks and the CLI print them alike.
"""

from __future__ import annotations

import html
import json
import re
from typing import Sequence

__all__ = ["one_line", "parse_json", "markdown_table", "html_table"]


def one_line(exc: BaseException) -> str:
    """The first line of an exception's message, or its type name when it has none.

    Examples
    --------
    >>> one_line(ValueError("bad value\\nmore detail"))
    'bad value'
    >>> one_line(KeyError())
    'KeyError'
    """
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def parse_json(text: str | bytes):
    """``json.loads(text)``, where any bad input, nesting too deep included, is a ``ValueError``.

    The JSON decoder raises ``RecursionError`` for arrays or objects nested
    about a thousand deep (``[[[[...``); a user's file or form field must give
    one line instead.

    Raises
    ------
    ValueError
        Not JSON (``json.JSONDecodeError``), not UTF-8, or nested too deeply.

    Examples
    --------
    >>> parse_json("[[1]]")
    [[1]]
    >>> parse_json("[" * 100_000)
    Traceback (most recent call last):
    ...
    ValueError: JSON nested too deeply
    """
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub-flavoured Markdown table; numbers right-aligned, padded to line up.

    Examples
    --------
    >>> print(markdown_table(["model", "PSNR"], [["gray", "22.50"]]))
    | model |  PSNR |
    |-------|------:|
    | gray  | 22.50 |
    """
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    number = re.compile(r"[-+]?[\d.]+(e[-+]?\d+)?|nan|inf|-")
    right = [len(cells) > 1 and all(number.fullmatch(r[i]) for r in cells[1:]) for i in range(len(headers))]

    def line(r: list[str]) -> str:
        return "| " + " | ".join(c.rjust(w) if rj else c.ljust(w) for c, w, rj in zip(r, widths, right)) + " |"

    rule = "|" + "|".join("-" * (w + 1) + (":" if rj else "-") for w, rj in zip(widths, right)) + "|"
    return "\n".join([line(cells[0]), rule] + [line(r) for r in cells[1:]])


def html_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """An HTML ``<table>``; cells are escaped."""
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
