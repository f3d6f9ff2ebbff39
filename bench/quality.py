"""Quality of every bundled model and the baselines on the evaluation sets.

Runs ``chromatize.evaluate`` (protocol: docs/EVALUATION.md; longer side 512,
never upscaled) with every model in ``chromatize.bundled_models()`` plus the
gray and mean-a*b* baselines over kodak24, cbsd68, mcmaster, set14 and
sun_hays80, prints the tables and the default CNN's targets of issue 12 (gain over gray
in RGB PSNR and CIEDE2000, colorfulness ratio, on kodak24 and cbsd68), and
writes them into docs/BENCHMARKS.md between ``<!-- quality:start -->`` and
``<!-- quality:end -->`` (the rest of the file is kept).

It also scores ``package_photos``: six real colour photos that are not in
``../shared`` and that no model here was trained on, taken from files that
scikit-image and matplotlib install (astronaut, chelsea, coffee,
motorcycle_left, rocket; grace_hopper), so that the shipped models are judged
on photos in general, not only on the evaluation sets.

Usage::

    python bench/quality.py                              # ../shared/datasets
    python bench/quality.py --data /path/to/datasets --report eval_report
    python bench/quality.py --sets kodak24 --no-write    # quick look, docs untouched
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shlex
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from tqdm import tqdm

from chromatize import bundled_models
from chromatize.evaluate import evaluate, format_table, write_json
from chromatize.evaluate import write_eval_report
from chromatize.io import atomic_write_text
from chromatize.text import markdown_table

ROOT = Path(__file__).resolve().parents[1]
SETS = ["kodak24", "cbsd68", "mcmaster", "set14", "sun_hays80"]
TARGET_SETS = ["kodak24", "cbsd68"]
#: The semantic CNN's targets against the gray baseline (issue 12), per set.
TARGETS = {
    "kodak24": {"psnr_gain": 1.5, "ciede_drop": 1.5, "colorfulness_ratio": 0.7},
    "cbsd68": {"psnr_gain": 2.3, "ciede_drop": 2.5, "colorfulness_ratio": 0.7},
}
START, END = "<!-- quality:start -->", "<!-- quality:end -->"
#: Real photos installed with our dependencies (not in ../shared, never trained on).
PACKAGE_PHOTOS = {
    "skimage": ["astronaut.png", "chelsea.png", "coffee.png", "motorcycle_left.png", "rocket.jpg"],
    "matplotlib": ["grace_hopper.jpg"],
}


def package_photos(dst: Path) -> Path:
    """Copy the photos of ``PACKAGE_PHOTOS`` into ``dst/package_photos`` and return that folder."""
    import matplotlib
    import skimage

    roots = {"skimage": Path(skimage.__file__).parent / "data",
             "matplotlib": Path(matplotlib.get_data_path()) / "sample_data"}
    folder = dst / "package_photos"
    folder.mkdir(parents=True, exist_ok=True)
    for pkg, names in PACKAGE_PHOTOS.items():
        for name in names:
            shutil.copyfile(roots[pkg] / name, folder / name)
    return folder


def target_rows(result) -> list[list[str]]:
    """Per target set and non-baseline model: the three figures against gray, and whether each is met."""
    summ = result.summary()
    rows = []
    for ds in (d for d in TARGET_SETS if d in summ):
        gray = summ[ds]["gray"]
        for model in (m for m in result.models if m not in result.baselines or m.startswith("mean-ab")):
            s = summ[ds][model]
            gain = s["psnr_rgb"]["mean"] - gray["psnr_rgb"]["mean"]
            drop = gray["ciede2000_mean"]["mean"] - s["ciede2000_mean"]["mean"]
            ratio = s["colorfulness_ratio"]["mean"]
            ratio_of_means = s["colorfulness"]["mean"] / s["colorfulness_true"]["mean"]
            t = TARGETS[ds]
            ok = [gain >= t["psnr_gain"], drop >= t["ciede_drop"], ratio >= t["colorfulness_ratio"]]
            shown = [f"{gain:+.2f}", f"{-drop:+.2f}", f"{ratio:.3f}"]
            rows.append([ds, model, f"{gray['psnr_rgb']['mean']:.2f}"]
                        + [v + ("" if good else " ✗") for v, good in zip(shown, ok)]
                        + [f"{ratio_of_means:.3f}", "yes" if all(ok) else "no"])
    return rows


def build_section(result, command: str, seconds: float) -> str:
    """The Markdown written between the markers."""
    models = ", ".join(f"`{m}` (training mean a*b* {a:+.2f}, {b:+.2f})" for m, (a, b) in result.mean_ab.items() if m != "gray")
    targets = target_rows(result)
    heads = ["set", "model", "gray PSNR", "PSNR vs gray", "dE2000 vs gray", "colorful ratio", "ratio of means", "all 3 met"]
    return "\n".join([
        START,
        "## Quality on the evaluation sets",
        "",
        f"Measured {date.today().isoformat()} on {platform.machine()} ({os.cpu_count()} CPUs), "
        f"{seconds / 60:.1f} min, with:",
        "",
        "```",
        command,
        "```",
        "",
        f"Protocol (docs/EVALUATION.md): {result.protocol_text()}",
        f"Columns: {models or 'baselines only (no bundled model)'}. "
        "PSNR and dE2000 (CIEDE2000) show mean and median over images; ab L2 is the report's L2 on "
        "8-bit a*b* scaled to 0..1; AuC and AuC rb are Zhang et al.'s raw and class-rebalanced AuC "
        "(thresholds 0..150); colorful ratio is the mean over images of colorfulness(prediction) / "
        "colorfulness(ground truth) (Hasler and Suesstrunk 2003).",
        "",
        format_table(result),
        "",
        "### The default CNN's targets (against gray: kodak24 PSNR at least +1.5 dB, CIEDE2000 at least "
        "1.5 lower; cbsd68 +2.3 dB and 2.5 lower; colorfulness ratio at least 0.7 on both; ✗ marks a miss)",
        "",
        markdown_table(heads, targets) if targets else "(no model besides gray on kodak24 / cbsd68 in this run)",
        "",
        *(["Files that failed: " + "; ".join(r for _, r in result.failed), ""] if result.failed else []),
        END,
    ])


def update_benchmarks(path: Path, section: str, markers: tuple[str, str] = (START, END)) -> None:
    """Replace the text between the markers (or append it), atomically; ``section`` holds the markers."""
    text = path.read_text() if path.exists() else "# Benchmarks\n\nFigures measured by the scripts in `bench/`.\n"
    pattern = re.compile(re.escape(markers[0]) + ".*?" + re.escape(markers[1]), re.S)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section + "\n"
    atomic_write_text(path, text, overwrite=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "datasets", help="folder holding the sets")
    ap.add_argument("--sets", nargs="+", default=SETS, help="sets to run (default: %(default)s)")
    ap.add_argument("--models", nargs="+", default=None, help="models (default: every bundled model)")
    ap.add_argument("--size", type=int, default=512, help="longer side (default 512)")
    ap.add_argument("--report", type=Path, default=None, help="also write the HTML report into this folder")
    ap.add_argument("--json", type=Path, default=None, help="also write the full results as JSON")
    ap.add_argument("--no-write", action="store_true", help="print only; leave docs/BENCHMARKS.md alone")
    ap.add_argument("--no-package-photos", action="store_true", help="leave out the photos installed with scikit-image and matplotlib")
    args = ap.parse_args(argv)

    paths = [args.data / s for s in args.sets]
    missing = [str(p) for p in paths if not p.is_dir()]
    if missing:
        print(f"missing dataset folder(s): {', '.join(missing)} (see --data)", file=sys.stderr)
        return 2
    models = args.models or bundled_models() or ["gray"]
    print(f"models: {', '.join(models)}; sets: {', '.join(args.sets)}; size {args.size}", file=sys.stderr)
    bar = tqdm(desc="evaluating", unit="img", file=sys.stderr)

    def progress(done, total, _path):
        bar.total = total
        bar.update(done - bar.n)

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_package_photos:
            paths.append(package_photos(Path(tmp)))
        result = evaluate(paths, models, args.size, thumb_size=200 if args.report else None, progress=progress)
    seconds = time.perf_counter() - t0
    bar.close()
    command = "python bench/quality.py " + shlex.join(argv if argv is not None else sys.argv[1:])
    section = build_section(result, command.strip(), seconds)
    print(section)
    if args.report:
        print(f"wrote {write_eval_report(result, args.report, overwrite=True)}", file=sys.stderr)
    if args.json:
        print(f"wrote {write_json(result, args.json, overwrite=True)}", file=sys.stderr)
    if not args.no_write:
        update_benchmarks(ROOT / "docs" / "BENCHMARKS.md", section)
        print(f"updated {ROOT / 'docs' / 'BENCHMARKS.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
