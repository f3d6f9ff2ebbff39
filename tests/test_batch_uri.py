"""The batch on URIs (s3://, gs://, ...) through pyarrow: the local path's names, bytes, report and resume.

No bucket is reachable here, so two stand-ins take the URI path: ``file://``
(pyarrow's local filesystem: the writes are temp file + rename) and
``mock:///`` (pyarrow's in-memory filesystem, which writes as an object
store does: one whole stream to the final key, no temp file, no rename).
"""

from __future__ import annotations

import sys

import pytest
from click.testing import CliRunner
from PIL import Image

from chromatize.batch import BatchOptions, colorize_files, plan_outputs
from chromatize.cli import main
from chromatize.io import OutputExistsError, UriPath, as_path, temp_prefix

from conftest import make_photo
from corpus import dead_pid

pytest.importorskip("pyarrow")

from chromatize.io.uri import _filesystem  # noqa: E402


@pytest.fixture
def store():
    """An empty in-memory object store at ``mock:///`` (the filesystem cache is per process: start a fresh one)."""
    _filesystem.cache_clear()
    yield UriPath.parse("mock:///")
    _filesystem.cache_clear()


def outputs(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def stored(folder: UriPath):
    return {p.key[len(folder.key) + 1:]: p.read_bytes() for p, is_dir in folder.listdir(recursive=True) if not is_dir}


def upload(folder, store: UriPath) -> UriPath:
    for path in folder.rglob("*"):
        if path.is_file():
            (store / "in" / path.relative_to(folder)).write_bytes(path.read_bytes())
    return store / "in"


def test_file_uris_give_the_local_outputs_and_report(archive, local, tmp_path):
    out, res_local = local
    res = CliRunner().invoke(main, ["colorize", archive.as_uri(), "-o", (tmp_path / "out").as_uri(), "-r",
                                    "--compare"])
    assert res.exit_code == res_local.exit_code == 1
    named = res.output.replace((tmp_path / "out").as_uri(), "OUT").replace(archive.as_uri(), "IN")
    assert named == res_local.output.replace(str(out), "OUT").replace(str(archive), "IN")
    assert "note: IN: skipped 1 file(s) without an image suffix" in named
    assert "error: IN/empty.png: empty file (0 bytes)" in named
    assert outputs(tmp_path / "out") == outputs(out)  # byte for byte; no temp file left behind


def test_an_object_store_gets_the_same_bytes_and_a_rerun_skips_what_is_done(archive, local, store):
    src = upload(archive, store)
    result = colorize_files([str(src)], "mock:///out", options=BatchOptions(recursive=True, compare=True))
    want = outputs(local[0])
    assert stored(store / "out") == want and len(want) == 10
    assert [(str(p), why) for p, why in result.failed] == [
        ("mock:///in/broken.jpg", "mock:///in/broken.jpg: corrupt JPEG file (its header cannot be read)"),
        ("mock:///in/empty.png", "mock:///in/empty.png: empty file (0 bytes)")]
    assert result.notes == ["mock:///in: skipped 1 file(s) without an image suffix"]
    fs, _ = store._fs()
    with fs.open_input_stream("out/a.png") as f:
        assert f.metadata()["Content-Type"] == b"image/png"

    fs.delete_file("out/sub/d.png")  # as if the job had been killed before this one
    again = colorize_files([src], store / "out", options=BatchOptions(recursive=True, compare=True))
    assert [str(p) for p in again.written] == ["mock:///out/sub/d.png"]
    assert len(again.skipped) == 4 and again.failed == result.failed
    assert stored(store / "out") == want
    redo = colorize_files([src / "a.png"], store / "out", options=BatchOptions(overwrite=True))
    assert [str(p) for p in redo.written] == ["mock:///out/a.png"] and not redo.skipped


def test_names_and_refusals_follow_the_local_rules(tmp_path, store, rng):
    for rel in ["trip1/img.jpg", "trip2/img.jpg", "trip1/a.gif", "trip1/a.png", "trip1/sub/x.png"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(make_photo(rng, 16, 20)).save(tmp_path / rel)
    src = upload(tmp_path, store)

    def names(plan, out):
        return sorted(str(j.dst)[len(str(out)) + 1:] for j in plan.jobs)

    here = plan_outputs([tmp_path / "trip1", tmp_path / "trip2"], tmp_path / "out")
    there = plan_outputs([src / "trip1", src / "trip2"], store / "out")
    assert names(there, store / "out") == names(here, tmp_path / "out") == ["a.gif.png", "a.png.png", "trip1/img.jpg",
                                                                            "trip2/img.jpg"]
    assert there.notes == [f"{src / 'trip1'}: skipped 1 sub-folder(s) (sub); use --recursive to include them"]
    with pytest.raises(ValueError, match="is the input folder"):
        plan_outputs([src], src)
    refused = colorize_files([src / "trip1" / "a.png"], src / "trip1", "gray", options=BatchOptions(overwrite=True))
    assert refused.written == [] and "refusing to write" in refused.failed[0][1]
    store._fs()[0].create_dir("in/empty")
    missing = plan_outputs([src / "nowhere", src / "empty"], store / "out")
    assert [why for _, why in missing.failed] == [
        "mock:///in/nowhere: no such file or folder",
        "mock:///in/empty: no images found in this folder (use --recursive to search its sub-folders)"]


def test_object_writes_are_whole_and_never_replace_unasked(store):
    path = store / "out" / "x.png"
    path.write_bytes(b"first")
    with pytest.raises(OutputExistsError, match="use --overwrite"):
        path.write_bytes(b"second")
    path.write_bytes(b"second", overwrite=True)
    assert path.read_bytes() == b"second" and [p.name for p, _ in (store / "out").listdir()] == ["x.png"]


def test_file_uri_outputs_get_the_temp_file_clean_up(archive, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    stale = out / (temp_prefix(out / "a.png", dead_pid()) + "x1y2z3ab.tmp")
    stale.write_bytes(b"half a photo")
    result = colorize_files([archive.as_uri() + "/a.png"], out.as_uri(), "gray")
    assert result.removed_temp == [stale] and not stale.exists()
    assert [p.name for p in out.iterdir()] == ["a.png"]


def test_without_pyarrow_a_uri_says_what_to_install(tmp_path, monkeypatch):
    _filesystem.cache_clear()
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow fails as if it were not installed
    monkeypatch.setitem(sys.modules, "pyarrow.fs", None)
    res = CliRunner().invoke(main, ["colorize", "s3://bucket/scans", "-o", str(tmp_path)])
    assert res.exit_code == 1
    assert res.output.strip() == ("Error: this command needs pyarrow, which is not installed: "
                                  "pip install 'chromatize[scale]'")


def test_an_unknown_scheme_is_one_line(tmp_path):
    res = CliRunner().invoke(main, ["colorize", "nosuch://bucket/scans", "-o", str(tmp_path)])
    assert res.exit_code == 1 and res.output.startswith("Error: nosuch://bucket: ")
    assert len(res.output.strip().splitlines()) == 1


@pytest.mark.parametrize("text, uri", [("s3://bucket/in", True), ("gs://b/a b.png", True), ("file:///tmp", True),
                                       ("C://x", False), (r"C:\scans", False), ("scans/a.png", False),
                                       ("/abs/a.png", False)])
def test_what_is_a_uri(text, uri):
    assert isinstance(as_path(text), UriPath) is uri


def test_uri_paths_work_like_pathlib():
    p = UriPath.parse("S3://bucket//scans/./1950/a.tif?region=eu-west-1")
    assert str(p) == "s3://bucket/scans/1950/a.tif?region=eu-west-1"  # options stay on every derived path
    assert (p.name, p.stem, p.suffix) == ("a.tif", "a", ".tif")
    assert str(p.parent.parent / "1951" / "b.png") == "s3://bucket/scans/1951/b.png?region=eu-west-1"
    assert str(p.with_name("a.png").parent.parent.parent) == "s3://bucket/?region=eu-west-1"
    assert p.local is None and as_path("file:///tmp/a b.png").local.as_posix() == "/tmp/a b.png"
    assert UriPath.parse("s3://bucket/scans") == UriPath.parse("s3://bucket/scans/")
    with pytest.raises(ValueError, match="absolute"):
        p / "/etc"


def test_a_store_that_never_answers_is_one_line_in_bounded_time(tmp_path, monkeypatch, store):
    """gs:// with no network sat 300 s in pyarrow's get_file_info: every store call now has a deadline."""
    import threading

    from chromatize.io import uri

    fs, _ = _filesystem(store.root, store.options)
    monkeypatch.setattr(uri, "CALL_TIMEOUT_S", 0.5)
    hang = threading.Event()
    monkeypatch.setattr(uri, "_filesystem", lambda root, options: (Hanging(fs, hang), "/"))
    res = CliRunner().invoke(main, ["colorize", "mock:///scans", "-o", str(tmp_path / "out")])
    hang.set()
    assert res.exit_code == 1 and res.output.strip().splitlines() == [
        "Error: mock:///scans: no answer from the store in 0.5 s (is the network up, and are the credentials found?)"]


class Hanging:
    """A filesystem whose calls wait until ``event`` is set (a store behind a dead network)."""

    def __init__(self, fs, event):
        self.fs, self.event = fs, event

    def __getattr__(self, name):
        def call(*args, **kwargs):
            self.event.wait(30)
            return getattr(self.fs, name)(*args, **kwargs)
        return call


def test_ctrl_c_stops_a_wait_on_the_store():
    """The native call cannot be interrupted, the wait for it can: Ctrl-C works at once."""
    import signal
    import threading
    import time

    from chromatize.io.uri import _bounded

    # Python's own Ctrl-C handler (an earlier test or library may have left another; one full run here saw
    # no KeyboardInterrupt), and the signal sent to the main thread, the one that waits
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    main = threading.main_thread().ident
    try:
        threading.Timer(0.2, lambda: signal.pthread_kill(main, signal.SIGINT)).start()
        t0 = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            _bounded("gs://bucket", time.sleep, 30)
        assert time.monotonic() - t0 < 10  # at once, not when the call ends
    finally:
        signal.signal(signal.SIGINT, before)


def test_gcs_retries_are_bounded_and_store_errors_name_the_uri(monkeypatch):
    import pyarrow.fs

    from chromatize.io.uri import GCS_RETRY_S, _bounded

    seen = []

    class FileSystem:
        @staticmethod
        def from_uri(probe):
            seen.append(probe)
            return None, "b/_"

    monkeypatch.setattr(pyarrow.fs, "FileSystem", FileSystem)
    _filesystem.cache_clear()
    _filesystem("gs://b", "")
    _filesystem("gs://b", "retry_limit_seconds=3")
    _filesystem.cache_clear()
    assert seen == [f"gs://b/_?retry_limit_seconds={GCS_RETRY_S}", "gs://b/_?retry_limit_seconds=3"]

    def fail():
        raise OSError("google::cloud::Status(UNAVAILABLE: Retry policy exhausted" + " x" * 1000)

    with pytest.raises(OSError, match=r"^gs://b/scans: google::cloud::Status\(UNAVAILABLE.{100,200}\.\.\.$"):
        _bounded("gs://b/scans", fail)
