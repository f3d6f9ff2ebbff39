"""Figures and reports of the seed trials (``chromatize.experiments.seed_trials``).

Writes into a folder: ``trial{1,2}_loss.png`` (training loss per photo, seeds
overlaid), ``test_loss.png`` (test loss per category, every seed and mean +-
std), ``trial1_grid_seed<S>.png`` (first seed) and ``trial2_grid_seed<S>.png``
(every seed): original | gray | each kind's prediction; ``report.md``
(figures by relative path), ``report.html`` (figures embedded) and
``results.json``.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..color import gray_to_rgb  # noqa: E402
from ..infer import colorize_photo  # noqa: E402
from ..io import ImageReadError, Photo, atomic_output, atomic_write_text, read_image, thumbnail  # noqa: E402
from ..models.base import Colorizer  # noqa: E402
from ..text import html_table, markdown_table  # noqa: E402
from .trials import Trial, TrialSettings  # noqa: E402

__all__ = ["write_seed_trials_report", "CELL"]

#: Side in pixels of one photo in the grids.
CELL = 96


def _save(fig, path: Path) -> str:
    with atomic_output(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path.name


def _smooth(v: np.ndarray, k: int = 5) -> np.ndarray:
    if len(v) < k:
        return v
    return np.convolve(v, np.ones(k) / k, mode="valid")


def plot_losses(results: dict, trial: str, path: Path) -> str:
    """Training loss per photo, one panel per kind, seeds overlaid (thin: raw, thick: mean of 5)."""
    kinds = [k for k, v in results["trials"][trial]["kinds"].items() if any(r["train_loss"] for r in v["seeds"].values())]
    fig, axes = plt.subplots(1, max(1, len(kinds)), figsize=(6 * max(1, len(kinds)), 3.6), squeeze=False)
    for ax, kind in zip(axes[0], kinds):
        for i, (seed, run) in enumerate(results["trials"][trial]["kinds"][kind]["seeds"].items()):
            v = np.asarray(run["train_loss"])
            color = f"C{i % 10}"
            ax.plot(np.arange(1, len(v) + 1), v, color=color, lw=0.6, alpha=0.35)
            s = _smooth(v)
            ax.plot(np.arange(len(v) - len(s) + 1, len(v) + 1), s, color=color, lw=1.8, label=f"seed {seed}")
        ax.set_title(f"{results['trials'][trial]['title']}: {kind}", fontsize=10)
        ax.set_xlabel("photos seen")
        ax.set_ylabel("training loss (mean ||y - t||^2)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return _save(fig, path)


def plot_test_losses(results: dict, path: Path) -> str:
    """Test loss per category: each seed as a dot, mean +- std as a bar; baselines as dashes."""
    trials = list(results["trials"])
    fig, axes = plt.subplots(1, len(trials), figsize=(6.5 * len(trials), 4), squeeze=False)
    for ax, trial in zip(axes[0], trials):
        tr = results["trials"][trial]
        cats = list(tr["test"])
        kinds = list(tr["kinds"])
        width = 0.7 / max(1, len(kinds))
        for j, kind in enumerate(kinds):
            x = np.arange(len(cats)) - 0.35 + width * (j + 0.5)
            summ = tr["kinds"][kind]["test_loss"]
            ax.errorbar(x, [summ[c]["mean"] for c in cats], yerr=[summ[c]["std"] for c in cats],
                        fmt="o", color=f"C{j}", capsize=4, ms=7, label=f"{kind} (mean +- std)")
            for run in tr["kinds"][kind]["seeds"].values():
                ax.plot(x, [run["test_loss"][c] for c in cats], ".", color=f"C{j}", alpha=0.5, ms=5)
        for m, (name, vals) in zip(("_", "x"), tr["baselines"].items()):
            ax.plot(np.arange(len(cats)), [vals[c] for c in cats], m, color="k", ms=14, mew=2, label=name)
        ax.set_xticks(np.arange(len(cats)), cats)
        ax.set_ylabel("test loss (mean ||y - t||^2)")
        ax.set_title(tr["title"], fontsize=10)
        ax.grid(alpha=0.3, axis="y")
        ax.legend(fontsize=8)
    return _save(fig, path)


def _photo(path: Path, fallback: np.ndarray) -> Photo:
    try:
        return read_image(path)
    except ImageReadError:
        return Photo(fallback)


def plot_grid(trial: Trial, models: dict[str, Colorizer], k: int, title: str, path: Path) -> str:
    """original | gray | each model's colorization (full-resolution L), k test photos per category."""
    rows = [(c, i) for c, s in trial.test.items() for i in range(min(k, len(s)))]
    cols = ["original", "gray"] + list(models)
    fig, axes = plt.subplots(len(rows), len(cols), figsize=(1.1 * len(cols), 1.1 * len(rows) + 0.3),
                             squeeze=False, layout="constrained")
    for r, (cat, i) in enumerate(rows):
        s = trial.test[cat]
        photo = _photo(s.paths[i], s.rgb[i])
        cells = [photo.rgb, gray_to_rgb(photo.rgb)] + [colorize_photo(photo, m).rgb for m in models.values()]
        for ax, img, name in zip(axes[r], cells, cols):
            ax.imshow(thumbnail(img, CELL))
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(name, fontsize=7)
        axes[r][0].set_ylabel(f"{cat}\n{s.paths[i].name}", fontsize=6)
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def _fmt(v: float) -> str:
    return f"{v:.5f}"


def loss_table(tr: dict) -> tuple[list[str], list[list[str]]]:
    """Rows: each kind's seeds, its mean +- std (sample std over seeds), then the baselines."""
    cats = list(tr["test"])
    rows = []
    for kind, res in tr["kinds"].items():
        for seed, run in res["seeds"].items():
            rows.append([f"{kind}, seed {seed}"] + [_fmt(run["test_loss"][c]) for c in cats])
        if len(res["seeds"]) > 1:
            rows.append([f"**{kind}, mean +- std**"]
                        + [f"{_fmt(res['test_loss'][c]['mean'])} +- {_fmt(res['test_loss'][c]['std'])}" for c in cats])
    for name, vals in tr["baselines"].items():
        rows.append([f"baseline: {name}"] + [_fmt(vals[c]) for c in cats])
    return ["model"] + cats, rows


def _sections(results: dict, figures: dict[str, list[str]], settings: TrialSettings) -> list[tuple[str, object]]:
    """The report as a list of (kind, content): 'h1'/'h2'/'p'/'code'/'table'/'img'."""
    s = results["settings"]
    cats = ", ".join(f"{c} ({v['read']} photos)" for c, v in results["categories"].items())
    out: list[tuple[str, object]] = [
        ("h1", "Seed trials: the report's two experiments"),
        ("p", f"Data: {results['data_dir']} - {cats}. Photos resized to {s['size']}x{s['size']}; "
              f"{s['n_test']} held-out test photos per category (split seed {s['split_seed']}); "
              f"{s['epochs']} epoch(s), learning rate {s['lr']}, seeds {', '.join(map(str, s['seeds']))}; "
              f"kinds: {', '.join(results['kinds'])}."),
        ("p", "Loss: " + results["loss"] + ". sqrt(loss) x 255 is the RMS a*b* error in Lab units. "
              "Baselines: gray (a*b* = 0) and mean-ab (the training photos' mean a*b* everywhere). "
              "std is the sample standard deviation over seeds."),
    ]
    if results.get("command"):
        out.append(("code", results["command"]))
    for name, tr in results["trials"].items():
        n = len(tr["train"])
        out.append(("h2", tr["title"]))
        out.append(("p", f"{n} training photos; test photos per category: "
                         + ", ".join(f"{c} {len(v)}" for c, v in tr["test"].items()) + "."))
        out.append(("table", loss_table(tr)))
        for fig in figures[name]:
            out.append(("img", fig))
    out.append(("h2", "Test loss over seeds"))
    out.append(("img", figures["summary"][0]))
    return out


def write_markdown(folder: Path, sections) -> None:
    lines = []
    for kind, c in sections:
        if kind == "h1":
            lines.append(f"# {c}\n")
        elif kind == "h2":
            lines.append(f"## {c}\n")
        elif kind == "p":
            lines.append(f"{c}\n")
        elif kind == "code":
            lines.append(f"```\n{c}\n```\n")
        elif kind == "table":
            lines.append(markdown_table(*c) + "\n")
        elif kind == "img":
            lines.append(f"![{c}]({c})\n")
    atomic_write_text(folder / "report.md", "\n".join(lines), overwrite=True)  # the caller checked the folder


def write_html(folder: Path, sections) -> None:
    parts = []
    for kind, c in sections:
        if kind in ("h1", "h2"):
            parts.append(f"<{kind}>{html.escape(c)}</{kind}>")
        elif kind == "p":
            parts.append(f"<p>{html.escape(c)}</p>")
        elif kind == "code":
            parts.append(f"<pre><code>{html.escape(c)}</code></pre>")
        elif kind == "table":
            headers, rows = c
            parts.append(html_table(headers, [[cell.replace("**", "") for cell in r] for r in rows]))
        elif kind == "img":
            data = base64.b64encode((folder / c).read_bytes()).decode("ascii")
            parts.append(f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(c)}">'
                         f"<figcaption>{html.escape(c)}</figcaption></figure>")
    css = ("body{font:14px/1.45 system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em}"
           "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}"
           "td:first-child,th:first-child{text-align:left}img{max-width:100%}figure{margin:1em 0}")
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>Seed trials</title><style>{css}</style>"
            f"</head><body>{''.join(parts)}</body></html>\n")
    atomic_write_text(folder / "report.html", page, overwrite=True)


def write_seed_trials_report(folder: Path, results: dict, trials: list[Trial],
                             models: dict[tuple[str, str, int], Colorizer], settings: TrialSettings) -> None:
    """Write every figure, ``report.md``, ``report.html`` and ``results.json`` into ``folder``."""
    folder = Path(folder)
    figures: dict[str, list[str]] = {}
    for trial in trials:
        names = [plot_losses(results, trial.name, folder / f"{trial.name}_loss.png")]
        seeds = settings.seeds if trial.name != "trial1" else settings.seeds[:1]
        for seed in seeds:
            ms = {kind: models[(trial.name, kind, seed)] for kind in results["kinds"]}
            names.append(plot_grid(trial, ms, settings.grid_photos, f"{trial.title}, seed {seed}",
                                   folder / f"{trial.name}_grid_seed{seed}.png"))
        figures[trial.name] = names
    figures["summary"] = [plot_test_losses(results, folder / "test_loss.png")]
    sections = _sections(results, figures, settings)
    write_markdown(folder, sections)
    write_html(folder, sections)
    atomic_write_text(folder / "results.json", json.dumps(results, indent=1) + "\n", overwrite=True)
