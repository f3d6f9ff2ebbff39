"""The HTML page of an evaluation (``write_eval_report``); :func:`chromatize.evaluate.run_evaluation`
scores an evaluation and writes it with the JSON and CSV asked for.

The evaluation page is ``index.html`` plus a ``thumbs/`` folder of JPEG
thumbnails referenced by relative paths, so it opens in any browser straight
from the folder and stays small even for hundreds of photos.
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path


from ..io import OutputExistsError, atomic_write_text, write_image
from ..metrics import METRICS
from ..text import html_table
from .results import EvalResult, format_value

__all__ = ["write_eval_report"]

#: Images shown as best and as worst for each metric.
BEST_WORST_K = 3


# --- the evaluation page --------------------------------------------------------------

_CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1300px; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 2px solid #ddd; } h3 { margin-top: 1.5em; }
table { border-collapse: collapse; margin: .8em 0; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: right; }
th { background: #f2f2f2; } td:first-child, th:first-child { text-align: left; }
table.gallery td { vertical-align: top; text-align: center; font-size: 12px; }
figure { display: inline-block; margin: 0 .4em .6em 0; text-align: center; font-size: 12px; }
figure img, table.gallery img { display: block; margin: auto; }
.strip { display: flex; flex-wrap: wrap; gap: .3em; }
.pair { border: 1px solid #ddd; padding: .3em; }
.pair img { display: inline-block; }
.note { color: #555; } .failed { color: #a00; }
"""


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "x"


def _img(src: str, alt: str) -> str:
    return f'<img src="{html.escape(src)}" alt="{html.escape(alt)}" loading="lazy">'


def write_eval_report(result: EvalResult, out_dir: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Write ``out_dir/index.html`` and ``out_dir/thumbs/`` for an evaluation.

    The page shows, per dataset: the table (means and medians), the best and
    worst images per metric for each model, and every image side by side
    (ground truth | gray | mean a*b* | each model) with its PSNR and CIEDE2000.

    Parameters
    ----------
    result : chromatize.evaluate.EvalResult
        Evaluated with thumbnails kept (``thumb_size``).
    out_dir : path
        Created if needed.
    overwrite : bool
        Replace an existing ``index.html``.

    Returns
    -------
    Path of ``index.html``.

    Raises
    ------
    ValueError
        If ``result`` holds no thumbnails.
    chromatize.io.OutputExistsError
        If ``index.html`` exists and ``overwrite`` is false.
    """
    out_dir = Path(out_dir)
    index = out_dir / "index.html"
    if index.exists() and not overwrite:
        raise OutputExistsError(f"{index}: exists (use overwrite to replace it)")
    if result.rows and not result.thumbs:
        raise ValueError("the evaluation kept no thumbnails; evaluate with thumb_size to write a report")

    # Thumbnails first, then the page that points at them.
    src: dict[tuple[str, str, str], str] = {}
    for di, ds in enumerate(result.datasets):
        for ii, image in enumerate(result.images(ds)):
            for col, rgb in result.thumbs.get((ds, image), {}).items():
                rel = f"thumbs/{di:02d}_{_safe(ds)}/{ii:04d}_{_safe(Path(image).stem)}__{_safe(col)}.jpg"
                write_image(out_dir / rel, rgb, overwrite=True, quality=90)
                src[(ds, image, col)] = rel

    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<title>chromatize evaluation</title><style>", _CSS, "</style></head><body>",
        "<h1>chromatize evaluation</h1>",
        f"<p class='note'>{html.escape(result.protocol_text())}</p>",
    ]
    headers, _ = result.table(result.datasets[0]) if result.datasets else ([], [])
    for ds in result.datasets:
        images = result.images(ds)
        parts.append(f"<h2>{html.escape(ds)} <small>({len(images)} images)</small></h2>")
        _, rows = result.table(ds)
        parts.append(html_table(headers, rows))
        parts.append(_best_worst(result, ds, src))
        parts.append(_gallery(result, ds, images, src))
    if result.failed:
        parts.append("<h2>Files that failed</h2><ul class='failed'>")
        parts += [f"<li>{html.escape(reason)}</li>" for _, reason in result.failed]
        parts.append("</ul>")
    parts.append("</body></html>")
    return atomic_write_text(index, "\n".join(parts), overwrite=True)


def _best_worst(result: EvalResult, ds: str, src: dict) -> str:
    """For each model that is not a baseline (else every model): best and worst images per metric."""
    models = [m for m in result.models if m not in result.baselines] or result.models
    parts = ["<h3>Best and worst images per metric</h3>"]
    for model in models:
        parts.append(f"<details><summary><b>{html.escape(model)}</b></summary>")
        for key, (label, better) in METRICS.items():
            if better == "info":
                continue
            ranked = result.ranked(ds, model, key)
            if not ranked:
                continue
            k = min(BEST_WORST_K, len(ranked))
            for title, chosen in (("best", ranked[:k]), ("worst", ranked[::-1][:k])):
                parts.append(f"<div><b>{html.escape(label)}</b>, {title}:<div class='strip'>")
                for image, value in chosen:
                    pics = "".join(
                        _img(src[(ds, image, col)], f"{image} {col}")
                        for col in ("truth", model) if (ds, image, col) in src
                    )
                    parts.append(
                        f"<figure class='pair'>{pics}<figcaption>{html.escape(image)}: "
                        f"{format_value(key, value)}</figcaption></figure>"
                    )
                parts.append("</div></div>")
        parts.append("</details>")
    return "\n".join(parts)


def _gallery(result: EvalResult, ds: str, images: list[str], src: dict) -> str:
    """Every image: ground truth | each model, with PSNR and CIEDE2000 under each."""
    cols = ["truth"] + result.models
    head = "".join(f"<th>{html.escape('ground truth' if c == 'truth' else c)}</th>" for c in cols)
    rows = []
    scores = {(r["image"], r["model"]): r for r in result.rows if r["dataset"] == ds}
    for image in images:
        cells = []
        for col in cols:
            pic = _img(src[(ds, image, col)], f"{image} {col}") if (ds, image, col) in src else ""
            r = scores.get((image, col), {})
            cap = image if col == "truth" else ", ".join(
                f"{METRICS[k][0]} {format_value(k, r[k])}" for k in ("psnr_rgb", "ciede2000_mean") if k in r
            )
            cells.append(f"<td>{pic}{html.escape(cap)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        "<h3>All images</h3><details open><summary>side by side</summary>"
        f"<table class='gallery'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></details>"
    )
