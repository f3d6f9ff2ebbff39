"""A generated corpus of bad (and awkward but good) inputs, each run through ``chromatize colorize``.

Every case builds its files in a folder of its own, runs the CLI once or more
(in-process with click's ``CliRunner``, or in a subprocess for a few) and
states what must come out: a correct output (it decodes, with the right size,
alpha, darkness, ...) or one clear line naming the file. For every case, and
whatever it expects: no traceback, and no file left behind but the outputs.

``run_corpus(root)`` runs them all and returns per-case results;
``totals(results)`` counts them. ``tests/test_corpus.py`` asserts the totals and
``bench/corpus_totals.py`` prints them.
"""

from __future__ import annotations

import contextlib
import io
import os
import struct
import subprocess
import sys
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from unittest import mock

import numpy as np
from click.testing import CliRunner
from PIL import Image

from chromatize.cli import main
from chromatize.io import IMAGE_SUFFIXES, is_temp_file, read_image, temp_prefix, write_image

from conftest import make_photo

OK, ERROR = "output", "error"


@dataclass
class Run:
    """What a case's CLI runs gave."""

    code: int
    output: str
    traceback: bool


@dataclass
class Case:
    """One kind of input: ``build(d)`` makes the files and returns the CLI arguments (OUT is ``d/out``)."""

    name: str
    expect: str  # OK: exit 0 and correct outputs; ERROR: exit != 0 and a line naming ``names``
    build: Callable[[Path], list[str]]
    check: Callable[[Path, Run], str | None] = lambda d, run: None  # extra checks: None if fine, else what is wrong
    names: tuple[str, ...] = ()  # file names the error line must mention
    model: str = "gray"
    subprocess: bool = False
    reruns: int = 0  # run the same command again this many times (each must meet the expectation)
    patch: Callable[[], "mock._patch"] | None = None


@dataclass
class Result:
    case: str
    expect: str
    correct: bool = False
    clear_error: bool = False
    traceback: bool = False
    leftovers: list[str] = field(default_factory=list)
    problem: str | None = None
    seconds: float = 0.0


# --- file makers -------------------------------------------------------------------------------

def photo(h: int = 24, w: int = 32, seed: int = 0) -> np.ndarray:
    """A small smooth RGB uint8 photo."""
    return make_photo(np.random.default_rng(seed), h, w)


def png_bytes(img: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", **kw)
    return buf.getvalue()


def save(path: Path, img: Image.Image, **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, **kw)
    return path


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(w: int, h: int) -> bytes:
    """A tiny PNG whose header claims w x h pixels."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + png_chunk(b"IEND", b""))


def inp(d: Path) -> Path:
    (d / "in").mkdir(exist_ok=True)
    return d / "in"


def out(d: Path) -> Path:
    return d / "out"


# --- checks ------------------------------------------------------------------------------------

def outputs(d: Path) -> dict[str, Path]:
    """Output files by path relative to OUT."""
    o = out(d)
    return {str(p.relative_to(o)): p for p in sorted(o.rglob("*")) if p.is_file()} if o.is_dir() else {}


def expect_outputs(*names: str, shape: tuple | None = None, alpha: bool | None = None,
                   dark: bool | None = None) -> Callable[[Path, Run], str | None]:
    """Exactly these outputs exist and decode, optionally with this shape (H, W), alpha, darkness."""
    def check(d: Path, run: Run) -> str | None:
        got = outputs(d)
        if sorted(got) != sorted(names):
            return f"outputs {sorted(got)}, expected {sorted(names)}"
        for name in names:
            p = read_image(got[name])
            if shape is not None and p.rgb.shape[:2] != shape:
                return f"{name}: shape {p.rgb.shape[:2]}, expected {shape}"
            if alpha is not None and (p.alpha is not None) != alpha:
                return f"{name}: alpha {p.alpha is not None}, expected {alpha}"
            if dark is not None and (p.rgb.mean() < 8) != dark:
                return f"{name}: mean {p.rgb.mean():.1f}, expected {'dark' if dark else 'bright'}"
        return None
    return check


def both(*checks: Callable[[Path, Run], str | None]) -> Callable[[Path, Run], str | None]:
    def check(d: Path, run: Run) -> str | None:
        return next((p for p in (c(d, run) for c in checks) if p), None)
    return check


def says(text: str) -> Callable[[Path, Run], str | None]:
    return lambda d, run: None if text in run.output else f"output does not say {text!r}"


def unchanged(path_of: Callable[[Path], Path], data_of: Callable[[Path], bytes]) -> Callable[[Path, Run], str | None]:
    return lambda d, run: None if path_of(d).read_bytes() == data_of(d) else f"{path_of(d)} was changed"


# --- the cases ---------------------------------------------------------------------------------

def _one(d: Path, name: str, data: bytes | Image.Image, **kw) -> list[str]:
    p = inp(d) / name
    if isinstance(data, bytes):
        p.write_bytes(data)
    else:
        save(p, data, **kw)
    return [str(p)]


def _rgb(h=24, w=32):
    return Image.fromarray(photo(h, w))


def _exif_folder(d: Path) -> list[str]:
    for k in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = k
        save(inp(d) / f"o{k}.jpg", _rgb(), exif=exif)
    return [str(inp(d))]


def _exif_check(d: Path, run: Run) -> str | None:
    for k in range(1, 9):
        shape = (32, 24) if k >= 5 else (24, 32)  # orientations 5..8 turn the photo a quarter
        got = read_image(out(d) / f"o{k}.jpg").rgb.shape[:2]
        if got != shape:
            return f"orientation {k}: {got}, expected {shape}"
    return None


def _frames(d: Path, name: str) -> list[str]:
    frames = [Image.fromarray(photo(seed=i)).convert("L") for i in range(3)]
    p = inp(d) / name
    frames[0].save(p, save_all=True, append_images=frames[1:])
    return [str(p)]


def _pal_transparent(d: Path) -> list[str]:
    img = _rgb().convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    return _one(d, "pal.png", img, transparency=0)


def _jpeg(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="JPEG")
    return buf.getvalue()


def _truncated(kind: str) -> bytes:
    buf = io.BytesIO()
    _rgb(64, 64).save(buf, format=kind)
    data = buf.getvalue()
    return data[: len(data) // 2]


def _bad_crc() -> bytes:
    data = bytearray(png_bytes(_rgb()))
    data[8 + 8 + 3] ^= 0xFF  # a byte of IHDR's data; its CRC no longer matches
    return bytes(data)


def _leading_dash(d: Path) -> list[str]:
    save(d / "-rf.png", _rgb())
    return ["--", "-rf.png"]  # relative: the CLI runs in the case's folder


def _dangling(d: Path) -> list[str]:
    save(inp(d) / "good.png", _rgb())
    os.symlink(d / "nowhere.jpg", inp(d) / "dangling.jpg")
    return [str(inp(d))]


def _loop(d: Path) -> list[str]:
    os.symlink(inp(d) / "loop_b.jpg", inp(d) / "loop_a.jpg")
    os.symlink(inp(d) / "loop_a.jpg", inp(d) / "loop_b.jpg")
    return [str(inp(d) / "loop_a.jpg")]


def _folder_named_jpg(d: Path) -> list[str]:
    (inp(d) / "x.jpg").mkdir()
    return [str(inp(d) / "x.jpg")]


def _subfolders(d: Path) -> list[str]:
    save(inp(d) / "top.png", _rgb())
    save(inp(d) / "x.jpg" / "inner.png", _rgb())  # a sub-folder named like an image
    return [str(inp(d))]


def _recursive(d: Path) -> list[str]:
    save(inp(d) / "top.png", _rgb())
    save(inp(d) / "2020" / "a.png", _rgb())
    save(inp(d) / "2020" / "deeper" / "b.png", _rgb())
    os.symlink(inp(d), inp(d) / "2020" / "up")  # a link back up the tree must not loop
    return [str(inp(d)), "--recursive"]


def _same_names(d: Path) -> list[str]:
    save(d / "trip1" / "img.png", _rgb())
    save(d / "trip2" / "img.png", _rgb(20, 20))
    save(d / "trip1" / "a.gif", _rgb().convert("P"))
    save(d / "trip1" / "a.png", _rgb())
    return [str(d / "trip1"), str(d / "trip2")]


def _existing(d: Path) -> list[str]:
    write_image(out(d) / "img.png", np.zeros((4, 4, 3), np.uint8))  # an earlier run's output (it carries the mark)
    return _one(d, "img.png", _rgb())


def _users_file(d: Path) -> list[str]:
    save(out(d) / "img.png", Image.new("RGB", (4, 4)))  # the user's own file in the output's place
    return _one(d, "img.png", _rgb())


# Issue 22: no file the run did not write is replaced or taken as done, whatever the flags.

def _original_under_out(d: Path) -> list[str]:
    save(d / "photos" / "a.png", _rgb())
    save(d / "photos" / "2020" / "a.png", _rgb(20, 20))  # the user's original, where photos/a.png's output goes
    return [str(d / "photos"), "-o", str(d / "photos" / "2020"), "-r", "--overwrite"]


def _sibling_original(d: Path) -> list[str]:
    save(inp(d) / "p2.png", _rgb())
    save(inp(d) / "p2.jpg", _rgb(20, 20))
    return [str(inp(d) / "p2.png"), "-o", str(inp(d)), "--format", "jpg", "--overwrite"]


def _users_compare(d: Path) -> list[str]:
    save(inp(d) / "p0.png", _rgb())
    save(inp(d) / "p0_compare.png", _rgb(20, 20))
    return [str(inp(d) / "p0.png"), "-o", str(inp(d)), "--compare", "--format", "jpg", "--overwrite"]


def _deep_hints(d: Path) -> list[str]:
    (d / "hints.json").write_text("[" * 100_000)
    return _one(d, "img.png", _rgb()) + ["--hints", str(d / "hints.json")]


def _model_folder(d: Path, change) -> list[str]:
    """A copy of the bundled CNN whose config.json ``change`` damages; the args name it with -m."""
    import json
    import shutil

    from chromatize.models import bundled_model_dir

    folder = d / "model"
    shutil.copytree(bundled_model_dir("cnn-small"), folder)
    config = folder / "config.json"
    if isinstance(change, bytes):
        config.write_bytes(change)
    else:
        data = json.loads(config.read_text())
        data.update(change)
        config.write_text(json.dumps(data))
    return _one(d, "img.png", _rgb()) + ["-m", str(folder)]


def _not_utf8(d: Path) -> list[str]:
    name = os.fsencode(inp(d)) + b"/caf\xe9.png"
    _rgb().save(name, format="PNG")
    return [str(inp(d))]


def dead_pid() -> int:
    """The id of a process that has ended."""
    return int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True).stdout)


def _stale_temp(d: Path) -> list[str]:
    out(d).mkdir()
    (out(d) / (temp_prefix(out(d) / "img.png", dead_pid()) + "abcd1234.tmp")).write_bytes(b"")
    return _one(d, "img.png", _rgb())


def _output_is_file(d: Path) -> list[str]:
    out(d).write_text("I am a file")
    return _one(d, "img.png", _rgb())


def _output_equals_input(d: Path) -> list[str]:
    save(inp(d) / "a.png", _rgb())
    save(inp(d) / "b.jpg", _rgb())
    return [str(inp(d)), "-o", str(inp(d)), "--overwrite"]


def _output_is_input_file(d: Path) -> list[str]:
    save(inp(d) / "a.png", _rgb())
    return [str(inp(d) / "a.png"), "-o", str(inp(d)), "--overwrite"]


def _output_inside_input(d: Path) -> list[str]:
    save(inp(d) / "a.png", _rgb())
    save(inp(d) / "sub" / "b.png", _rgb())
    return [str(inp(d)), "-o", str(inp(d) / "out"), "--recursive"]


def _read_only(d: Path) -> list[str]:
    args = _one(d, "img.png", _rgb())
    out(d).mkdir()
    if os.geteuid() != 0:
        out(d).chmod(0o555)
    return args


def _read_only_patch():
    """As root a folder's mode does not stop writes: make creating the temp file fail as the kernel would."""
    if os.geteuid() != 0:
        return None

    def refuse(*args, dir=None, **kwargs):
        raise PermissionError(13, "Permission denied", str(dir))

    return mock.patch("chromatize.io.atomic.tempfile.mkstemp", refuse)


def _no_torch(d: Path) -> list[str]:
    return _one(d, "img.png", _rgb(40, 56))


CASES: list[Case] = [
    Case("empty file", ERROR, lambda d: _one(d, "empty.jpg", b""), names=("empty.jpg",)),
    Case("text named .jpg", ERROR, lambda d: _one(d, "notes.jpg", b"just some text\n" * 20), names=("notes.jpg",)),
    Case("random bytes named .png", ERROR, lambda d: _one(d, "noise.png", np.random.default_rng(0).bytes(999)),
         names=("noise.png",)),
    Case("truncated JPEG", ERROR, lambda d: _one(d, "half.jpg", _truncated("JPEG")), names=("half.jpg",)),
    Case("truncated PNG", ERROR, lambda d: _one(d, "half.png", _truncated("PNG")), names=("half.png",)),
    Case("PNG with a bad CRC", ERROR, lambda d: _one(d, "crc.png", _bad_crc()), names=("crc.png",)),
    Case("decompression bomb (30000x30000 header)", ERROR, lambda d: _one(d, "bomb.png", bomb_png(30000, 30000)),
         names=("bomb.png",)),
    Case("1x1", OK, lambda d: _one(d, "dot.png", _rgb(1, 1)), expect_outputs("dot.png", shape=(1, 1))),
    Case("1x100000 (one row)", OK, lambda d: _one(d, "row.png", Image.new("L", (100000, 1), 90)),
         expect_outputs("row.png", shape=(1, 100000))),
    Case("100000x1 (one column)", OK, lambda d: _one(d, "col.png", Image.new("L", (1, 100000), 90)),
         expect_outputs("col.png", shape=(100000, 1))),
    Case("40000x300 panorama", OK, lambda d: _one(d, "pano.png", Image.new("L", (40000, 300), 120)),
         expect_outputs("pano.png", shape=(300, 40000))),
    Case("16-bit dark PNG (values <= 255)", OK,
         lambda d: _one(d, "dark16.png", Image.fromarray(np.full((24, 32), 200, np.uint16))),
         expect_outputs("dark16.png", dark=True)),
    Case("16-bit bright PNG", OK,
         lambda d: _one(d, "bright16.png", Image.fromarray(np.full((24, 32), 60000, np.uint16))),
         expect_outputs("bright16.png", dark=False)),
    Case("16-bit dark TIFF", OK,
         lambda d: _one(d, "dark16.tif", Image.fromarray(np.full((24, 32), 100, np.uint16))),
         expect_outputs("dark16.tif", dark=True)),
    Case("float TIFF (0..1)", OK,
         lambda d: _one(d, "float.tif", Image.fromarray(np.linspace(0, 1, 24 * 32, dtype=np.float32).reshape(24, 32))),
         expect_outputs("float.tif", shape=(24, 32))),
    Case("float TIFF with NaN", ERROR,
         lambda d: _one(d, "nan.tif", Image.fromarray(np.full((8, 8), np.nan, np.float32))), names=("nan.tif",)),
    Case("CMYK JPEG", OK, lambda d: _one(d, "cmyk.jpg", _rgb().convert("CMYK")), expect_outputs("cmyk.jpg", shape=(24, 32))),
    Case("palette PNG with transparency", OK, _pal_transparent, expect_outputs("pal.png", alpha=True)),
    Case("LA PNG", OK, lambda d: _one(d, "la.png", _rgb().convert("LA")), expect_outputs("la.png", alpha=True)),
    Case("RGBA PNG", OK, lambda d: _one(d, "rgba.png", _rgb().convert("RGBA")), expect_outputs("rgba.png", alpha=True)),
    Case("RGBA PNG to --format jpg (alpha dropped, with a note)", OK,
         lambda d: _one(d, "rgba.png", _rgb().convert("RGBA")) + ["--format", "jpg"],
         both(expect_outputs("rgba.jpg", alpha=False), says("cannot store transparency"))),
    Case("EXIF orientations 1-8", OK, _exif_folder, _exif_check),
    Case("animated GIF (with a note)", OK, lambda d: _frames(d, "anim.gif"),
         both(expect_outputs("anim.png"), says("3 frames"))),
    Case("multi-page TIFF (with a note)", OK, lambda d: _frames(d, "pages.tif"),
         both(expect_outputs("pages.tif"), says("3 frames"))),
    Case("WebP", OK, lambda d: _one(d, "w.webp", _rgb()), expect_outputs("w.webp", shape=(24, 32))),
    Case("BMP", OK, lambda d: _one(d, "b.bmp", _rgb()), expect_outputs("b.bmp", shape=(24, 32))),
    Case("JPEG named .png", OK, lambda d: _one(d, "liar.png", _jpeg(_rgb())),
         expect_outputs("liar.png", shape=(24, 32))),
    Case("unicode file name", OK, lambda d: _one(d, "фото 😀 été.png", _rgb()), expect_outputs("фото 😀 été.png")),
    Case("leading-dash file name (after --)", OK, _leading_dash, expect_outputs("-rf.png")),
    Case("missing input", ERROR, lambda d: [str(d / "nope.png")], names=("nope.png",)),
    Case("folder with no images", ERROR, lambda d: [str(inp(d))], names=("in",)),
    Case("folder named x.jpg given as input", ERROR, _folder_named_jpg, names=("x.jpg",)),
    Case("sub-folders without --recursive (with a note)", OK, _subfolders,
         both(expect_outputs("top.png"), says("--recursive"))),
    Case("--recursive keeps the layout (and a link up the tree)", OK, _recursive,
         expect_outputs("top.png", "2020/a.png", "2020/deeper/b.png")),
    Case("dangling symlink in a folder", ERROR, _dangling, both(expect_outputs("good.png")), names=("dangling.jpg",)),
    Case("looping symlinks", ERROR, _loop, names=("loop_a.jpg",)),
    Case("same names from different folders", OK, _same_names,
         expect_outputs("trip1/img.png", "trip2/img.png", "a.gif.png", "a.png.png"), reruns=1),
    Case("output is a file", ERROR, _output_is_file, names=("out",)),
    Case("output folder is the input folder (--overwrite)", ERROR, _output_equals_input,
         unchanged(lambda d: inp(d) / "a.png", lambda d: png_bytes(_rgb())), names=("in",)),
    Case("output would replace an input file (--overwrite)", ERROR, _output_is_input_file,
         unchanged(lambda d: inp(d) / "a.png", lambda d: png_bytes(_rgb())), names=("a.png",)),
    Case("output inside input (rerun skips, never rescans)", OK, _output_inside_input,
         lambda d, run: (None if sorted(p.name for p in (inp(d) / "out").rglob("*")) == ["a.png", "b.png", "sub"]
                         else f"in/out holds {sorted(str(p) for p in (inp(d) / 'out').rglob('*'))}"), reruns=1),
    Case("read-only output folder", ERROR, _read_only, names=("img.png",), patch=_read_only_patch),
    Case("existing output (skipped, untouched)", OK, _existing,
         both(says("1 already done, skipped"), expect_outputs("img.png", shape=(4, 4)))),
    Case("existing output with --overwrite", OK, lambda d: _existing(d) + ["--overwrite"],
         expect_outputs("img.png", shape=(24, 32))),
    # Issue 22: nothing the run did not write is replaced or taken as done; no traceback; bounded work.
    Case("a file of the user's in an output's place (not taken as done)", ERROR, _users_file,
         both(expect_outputs("img.png", shape=(4, 4))), names=("img.png", "did not write")),
    Case("a file of the user's in an output's place (--overwrite)", ERROR, lambda d: _users_file(d) + ["--overwrite"],
         both(expect_outputs("img.png", shape=(4, 4))), names=("img.png", "did not write")),
    Case("an original under -o inside the input (-r --overwrite)", ERROR, _original_under_out,
         unchanged(lambda d: d / "photos" / "2020" / "a.png", lambda d: png_bytes(_rgb(20, 20))),
         names=("2020/a.png", "did not write")),
    Case("--format jpg onto a sibling original (--overwrite)", ERROR, _sibling_original,
         unchanged(lambda d: inp(d) / "p2.jpg", lambda d: _jpeg(_rgb(20, 20))), names=("p2.jpg", "did not write")),
    Case("--compare onto the user's own _compare.png (--overwrite)", ERROR, _users_compare,
         unchanged(lambda d: inp(d) / "p0_compare.png", lambda d: png_bytes(_rgb(20, 20))),
         names=("p0_compare.png", "did not write")),
    Case("hints JSON nested 100000 deep", ERROR, _deep_hints, names=("hints.json", "nested too deeply"),
         model="levin"),
    Case("model config.json of nested brackets", ERROR, lambda d: _model_folder(d, b"[" * 5000 + b"]" * 5000),
         names=("config.json", "nested too deeply"), model="default"),
    Case("model config.json with \"family\": [\"cnn\"]", ERROR, lambda d: _model_folder(d, {"family": ["cnn"]}),
         names=("config.json", "'family'"), model="default"),
    Case("model folder that loads but cannot run (\"stride\": 7)", ERROR, lambda d: _model_folder(d, {"stride": 7}),
         names=("model", "cannot run"), model="default"),
    Case("model folder that loads but cannot run (\"hint_channels\": 3)", ERROR,
         lambda d: _model_folder(d, {"hint_channels": 3}), names=("model", "cannot run"), model="default"),
    Case("--render-size 4096 on a small photo (lowered to its size)", OK,
         lambda d: _one(d, "small.png", _rgb(64, 96)) + ["--render-size", "4096"],
         expect_outputs("small.png", shape=(64, 96)), model="default"),
    Case("file name that is not UTF-8", OK, _not_utf8, expect_outputs("caf\udce9.png")),
    Case("--compare on a gray photo (two panels, with a note)", OK,
         lambda d: _one(d, "g.png", Image.new("L", (32, 24), 100)) + ["--compare"],
         both(expect_outputs("g.png", "g_compare.png"), says("gray already"))),
    Case("temp file of a killed run (removed)", OK, _stale_temp,
         both(expect_outputs("img.png"), says("removed 1 temp file"))),
    # The default model (the CNN) where the model matters.
    Case("default model: RGBA", OK, lambda d: _one(d, "rgba.png", _rgb(40, 56).convert("RGBA")),
         expect_outputs("rgba.png", shape=(40, 56), alpha=True), model="default"),
    Case("default model: 16-bit dark", OK,
         lambda d: _one(d, "dark16.png", Image.fromarray(np.full((40, 56), 150, np.uint16))),
         expect_outputs("dark16.png", dark=True), model="default"),
    Case("default model: 1x1", OK, lambda d: _one(d, "dot.png", _rgb(1, 1)), expect_outputs("dot.png", shape=(1, 1)),
         model="default"),
    Case("default model on a core install (no torch), in a subprocess", OK, _no_torch,
         expect_outputs("img.png", shape=(40, 56)), model="default", subprocess=True),
    Case("bad file among good ones, in a subprocess", ERROR,
         lambda d: _one(d, "ok.png", _rgb()) + _one(d, "bad.jpg", b"\xff\xd8\xff\xe0 not a jpeg"),
         expect_outputs("ok.png"), names=("bad.jpg",), subprocess=True),
]


# --- running -----------------------------------------------------------------------------------

#: Run in a subprocess: torch made unimportable, as on a core install.
_NO_TORCH = "import sys; sys.modules['torch'] = None; from chromatize.cli import main; main()"


def invoke(args: list[str], subprocess_: bool = False) -> Run:
    """Run ``chromatize`` with ``args``; a traceback is any exception other than an exit."""
    if subprocess_:
        res = subprocess.run([sys.executable, "-c", _NO_TORCH, *args], capture_output=True, text=True, timeout=120)
        text = res.stdout + res.stderr
        return Run(res.returncode, text, "Traceback" in text)
    res = CliRunner().invoke(main, args)
    crashed = res.exception is not None and not isinstance(res.exception, SystemExit)
    return Run(res.exit_code, res.output, crashed or "Traceback" in res.output)


def leftovers(d: Path) -> list[str]:
    """Temp files anywhere under ``d``, and empty or undecodable images in OUT."""
    bad = [str(p) for p in d.rglob("*") if is_temp_file(p) or p.name.endswith(".tmp")]
    for name, p in outputs(d).items():
        if p.suffix.lower() in IMAGE_SUFFIXES and p.stat().st_size == 0:
            bad.append(str(p))
    return bad


def run_case(case: Case, d: Path) -> Result:
    """Build, run and judge one case in the empty folder ``d``."""
    t0 = time.perf_counter()
    d.mkdir(parents=True, exist_ok=True)
    args = case.build(d)
    options = ([] if "-o" in args else ["-o", str(out(d))]) + ([] if case.model == "default" else ["-m", case.model])
    result = Result(case.name, case.expect)
    patcher = case.patch() if case.patch else None
    try:
        if patcher is not None:
            patcher.start()
        with contextlib.chdir(d):
            runs = [invoke(["colorize", *options, *args], case.subprocess) for _ in range(1 + case.reruns)]
    finally:
        if patcher is not None:
            patcher.stop()
        if (out(d)).is_dir():
            out(d).chmod(0o755)
    result.traceback = any(r.traceback for r in runs)
    result.leftovers = leftovers(d)
    problems = []
    for i, run in enumerate(runs):
        where = f"run {i + 1}: " if len(runs) > 1 else ""
        if case.expect == OK and run.code != 0:
            problems.append(f"{where}exit {run.code}: {run.output.strip()[-300:]}")
        if case.expect == ERROR:
            lines = [ln for ln in run.output.splitlines() if ln.lower().startswith("error")]
            if run.code == 0:
                problems.append(f"{where}exit 0, expected an error")
            elif not any(all(n in ln for n in case.names) for ln in lines):
                problems.append(f"{where}no error line naming {case.names}: {run.output.strip()[-300:]}")
    extra = case.check(d, runs[-1])
    if extra:
        problems.append(extra)
    if result.traceback:
        problems.append("traceback: " + runs[-1].output.strip()[-500:])
    if result.leftovers:
        problems.append(f"left behind: {result.leftovers}")
    result.problem = "; ".join(problems) or None
    result.correct = case.expect == OK and result.problem is None
    result.clear_error = case.expect == ERROR and result.problem is None
    result.seconds = time.perf_counter() - t0
    return result


def run_corpus(root: Path, cases: list[Case] = CASES) -> list[Result]:
    """Run every case in a sub-folder of ``root``."""
    return [run_case(case, root / f"case{i:02d}") for i, case in enumerate(cases)]


def totals(results: list[Result]) -> dict[str, int]:
    """Kinds, correct outputs, clear errors, tracebacks, leftovers, and cases that went wrong otherwise."""
    return {
        "kinds": len(results),
        "correct outputs": sum(r.correct for r in results),
        "clear errors": sum(r.clear_error for r in results),
        "tracebacks": sum(r.traceback for r in results),
        "leftovers": sum(bool(r.leftovers) for r in results),
        "wrong": sum(r.problem is not None for r in results),
    }
