"""The web server under load, and the time to re-colorize after an edit.

Starts ``chromatize serve`` on 127.0.0.1 (a fresh server process per part, so
that each part's peak memory is its own) and measures:

* edit latency: a 512x512 photo re-colorized after each hint edit (a hint
  moved by one pixel), one request at a time, from sending the request to
  holding the decoded image;
* load: N requests at once (50, then 200) of the same photo: how many are
  answered (200, or 503 with Retry-After when the queue is full), p50 and p99
  latency, the server's peak resident memory (VmHWM), and whether its log
  holds a traceback.

Every request has a client timeout, so the run is bounded in count and time.
Prints a Markdown section and writes it into docs/BENCHMARKS.md between
``<!-- serve:start -->`` and ``<!-- serve:end -->``.

Usage::

    python bench/serve_load.py                     # the figures in docs/BENCHMARKS.md
    python bench/serve_load.py --counts 50 --edits 10 --no-write
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

from chromatize.io import atomic_write_text, decode_image
from chromatize.text import markdown_table
from chromatize.web import Limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from infer_speed import sample_photo

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- serve:start -->", "<!-- serve:end -->"
#: The hints of the edit-latency run (the first one moves by a pixel per edit).
EDIT_HINTS = [{"x": 200, "y": 256, "color": "#c03030", "size": 9}, {"x": 380, "y": 120, "color": "#2050c0", "size": 9}]
#: A request not answered within this long counts as unanswered.
CLIENT_TIMEOUT_S = 180.0


class Server:
    """``chromatize serve`` in a child process on a free port; its log goes to a temp file."""

    def __init__(self, model: str, workers: int):
        self.log = tempfile.NamedTemporaryFile("w+", prefix="chromatize-serve-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "chromatize", "serve", "--port", "0", "--model", model, "--workers", str(workers)],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        match = re.search(r"(http://\S+/)", line)
        if not match:
            self.stop()
            raise RuntimeError(f"the server did not start: {line!r} {Path(self.log.name).read_text()[-500:]}")
        self.url = match.group(1)

    def peak_mb(self) -> float:
        """Peak resident memory of the server process so far (VmHWM), in MB."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> str:
        """Stop the server and return its log."""
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        text = Path(self.log.name).read_text()
        os.unlink(self.log.name)
        return text


def png_of(rgb: np.ndarray) -> bytes:
    buf = BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


def colorize(client: httpx.Client, url: str, image: bytes, hints: list | None = None) -> tuple[int, float, str]:
    """(status, seconds to the decoded image or the answer, server work ms) of one request."""
    data = {"hints": json.dumps({"hints": hints})} if hints else {}
    t = time.perf_counter()
    r = client.post(url + "api/colorize", files={"image": ("photo.png", image, "image/png")}, data=data)
    if r.status_code == 200:
        decode_image(r.content)
    return r.status_code, time.perf_counter() - t, r.headers.get("x-work-ms", "")


def edit_latency(args, image: bytes) -> dict:
    server = Server(args.model, args.workers)
    try:
        with httpx.Client(timeout=CLIENT_TIMEOUT_S) as client:
            colorize(client, server.url, image)  # warm-up: the model loads
            colorize(client, server.url, image, EDIT_HINTS)
            auto = [colorize(client, server.url, image)[1] for _ in range(args.edits)]
            edits, work = [], []
            for i in range(args.edits):
                hints = [{**EDIT_HINTS[0], "x": EDIT_HINTS[0]["x"] + i}, EDIT_HINTS[1]]  # the first one moves
                status, seconds, work_ms = colorize(client, server.url, image, hints)
                assert status == 200, status
                edits.append(seconds)
                work.append(float(work_ms))
        return {"auto": np.array(auto) * 1000, "edits": np.array(edits) * 1000, "work": np.array(work),
                "peak": server.peak_mb()}
    finally:
        log = server.stop()
        assert "Traceback" not in log, log[-2000:]


def breakdown(args, rgb: np.ndarray) -> list[list[str]] | None:
    """Where an edit's time goes, in this process: the net, and Levin's propagation exact vs cascaded (ms)."""
    import cv2

    from chromatize.guidance import Guidance
    from chromatize.hints import resize_guide
    from chromatize.infer import lightness
    from chromatize.models import load_model
    from chromatize.models.cnn import NetColorizer
    from chromatize.models.levin import DIRECT_MAX_PIXELS, propagate

    model = load_model(args.model)
    if not isinstance(model, NetColorizer) or model.hint_channels or model.hint_head is not None:
        return None  # only a net that takes hints by propagation (not by hint channels or a learned head)
    L = lightness(rgb)
    wh, ww = model.work_shape(*L.shape)
    small = np.ascontiguousarray(cv2.resize(L, (ww, wh), interpolation=cv2.INTER_AREA))
    guide = resize_guide(Guidance.build(hints=EDIT_HINTS).guide(L.shape), (wh, ww))

    def median_ms(fn, runs=7):
        fn()
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return f"{np.median(times) * 1000:.0f}"

    side = int(DIRECT_MAX_PIXELS ** 0.5)
    return [[f"the net at {ww}x{wh}", median_ms(lambda: model.raw(small))],
            [f"propagation of the hints' residual, exact (sparse LU up to {side}x{side})",
             median_ms(lambda: propagate(small, guide))],
            ["the same, exact at 128x128 then the cascade's Jacobi sweeps",
             median_ms(lambda: propagate(small, guide, max_direct_pixels=128 * 128))]]


def load(args, image: bytes, count: int) -> dict:
    server = Server(args.model, args.workers)
    try:
        with httpx.Client(timeout=5) as warm:
            colorize(warm, server.url, image)
        idle_mb = server.peak_mb()
        answers: list = [None] * count
        gate = threading.Barrier(count)
        limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
        with httpx.Client(timeout=CLIENT_TIMEOUT_S, limits=limits) as client:
            def one(i):
                gate.wait()
                try:
                    answers[i] = colorize(client, server.url, image)[:2]
                except httpx.HTTPError as exc:
                    answers[i] = (type(exc).__name__, float("nan"))

            t = time.perf_counter()
            threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
            for th in threads:
                th.start()
            for th in threads:
                th.join(CLIENT_TIMEOUT_S + 10)
            wall = time.perf_counter() - t
        peak = server.peak_mb()
    finally:
        log = server.stop()
    codes = [a[0] if a else "none" for a in answers]
    times = np.array([a[1] for a in answers if a and isinstance(a[0], int)]) * 1000
    ok = np.array([a[1] for a in answers if a and a[0] == 200]) * 1000
    return {"count": count, "codes": codes, "times": times, "ok": ok, "wall": wall, "peak": peak, "idle": idle_mb,
            "tracebacks": log.count("Traceback")}


def section(args, command: str, edit: dict, loads: list[dict], split: list[list[str]] | None) -> str:
    e, a = edit["edits"], edit["auto"]
    edit_rows = [
        ["re-colorize after a hint edit (2 hints)", f"{np.median(e):.0f}", f"{np.percentile(e, 90):.0f}",
         f"{e.max():.0f}", f"{np.median(edit['work']):.0f}"],
        ["colorize without hints", f"{np.median(a):.0f}", f"{np.percentile(a, 90):.0f}", f"{a.max():.0f}", "-"],
    ]
    load_rows = []
    for r in loads:
        n200, n503 = r["codes"].count(200), r["codes"].count(503)
        answered = sum(isinstance(c, int) for c in r["codes"])
        other = answered - n200 - n503
        load_rows.append([
            str(r["count"]), f"{answered}/{r['count']}", str(n200), str(n503), str(other), f"{np.percentile(r['times'], 50):.0f}", f"{np.percentile(r['times'], 99):.0f}",
            f"{np.percentile(r['ok'], 50):.0f}" if len(r["ok"]) else "-", f"{r['wall']:.1f}",
            f"{r['peak']:.0f} ({r['idle']:.0f} idle)", str(r["tracebacks"]),
        ])
    limits = ", ".join(f"{k} {v}" for k, v in {**Limits().public(), "workers": args.workers}.items())
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    verdict = "met" if np.median(e) <= 300 else "NOT met"
    return "\n".join([
        START,
        "## The web server: edit latency and load",
        "",
        f"Measured {when} on {platform.machine()} ({os.cpu_count()} CPUs; load average {args.load:.1f} when it "
        f"started, {os.getloadavg()[0]:.1f} when it ended, its own load included: "
        f"{'the machine was otherwise idle' if args.load < 1 else 'other jobs may have been sharing the CPUs'}), model "
        f"`{args.model}`, `--workers {args.workers}`, a 512x512 PNG (a bundled sample photo), client and server on "
        "127.0.0.1, with:",
        "",
        "```",
        command,
        "```",
        "",
        f"Re-colorizing after an edit, {len(e)} edits one at a time (ms, from sending the request to holding the "
        "decoded image; server = the server's own work: decode, colorize, encode):",
        "",
        markdown_table(["request", "median", "p90", "max", "server median"], edit_rows),
        "",
        f"Target: at most 300 ms from request to image (median): {verdict}.",
        "",
        *([f"Where an edit's time goes (`{args.model}` takes hints by Levin's propagation of their residual; "
           "median ms, measured in one process just before):", "",
           markdown_table(["step", "ms"], split), "",
           "An exact solve at 256x256 would be most of an edit; a net without hint channels therefore solves "
           "the residuals exactly at 128x128 and refines them by the cascade "
           "(`chromatize.models.cnn.runtime.HYBRID_DIRECT_PIXELS`), the last row, which the edits above include.", ""]
          if split else []),
        "Concurrent requests, all sent at once (ms; a 503 is the queue refusing at once, with Retry-After; "
        "memory is the server's peak resident set):",
        "",
        markdown_table(["requests", "answered", "200", "503", "other", "p50 all", "p99 all", "p50 of 200s",
                        "wall s", "peak MB", "tracebacks"], load_rows),
        "",
        f"Limits in force (`chromatize.web.Limits`, workers from `--workers`): {limits}.",
        END,
    ])


def update_benchmarks(path: Path, text: str) -> None:
    """Replace the text between the markers (or append it), atomically."""
    old = path.read_text()
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.DOTALL)
    new = pattern.sub(lambda _: text, old) if pattern.search(old) else old.rstrip("\n") + "\n\n" + text + "\n"
    atomic_write_text(path, new, overwrite=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="cnn")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--edits", type=int, default=30, help="edits timed one at a time")
    ap.add_argument("--counts", type=int, nargs="+", default=[50, 200], help="concurrent requests per load run")
    ap.add_argument("--no-write", action="store_true", help="print only; leave docs/BENCHMARKS.md alone")
    args = ap.parse_args(argv)
    args.load = os.getloadavg()[0]
    command = shlex.join(["python", "bench/serve_load.py", *(argv if argv is not None else sys.argv[1:])])
    rgb = np.asarray(Image.fromarray(sample_photo(512)).convert("L").convert("RGB"))
    image = png_of(rgb)
    split = breakdown(args, rgb)
    edit = edit_latency(args, image)
    print(f"edit: median {np.median(edit['edits']):.0f} ms", file=sys.stderr)
    loads = []
    for count in args.counts:
        loads.append(load(args, image, count))
        r = loads[-1]
        print(f"{count}: {r['codes'].count(200)} x 200, {r['codes'].count(503)} x 503, p50 {np.percentile(r['times'], 50):.0f} ms",
              file=sys.stderr)
    text = section(args, command, edit, loads, split)
    print(text)
    if not args.no_write:
        update_benchmarks(ROOT / "docs" / "BENCHMARKS.md", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
