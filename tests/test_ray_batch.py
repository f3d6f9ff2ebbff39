"""The batch on Ray Data: a local Ray on 2 CPUs gives the local batch's outputs, byte for byte, and its report.

One module-scoped Ray (``ray.init(num_cpus=2)``) serves every test; the archive
(``conftest.archive``) is a few tiny generated photos, a sub-folder, two bad
files and a text file.
"""

from __future__ import annotations

import shutil
import sys

import pytest
from click.testing import CliRunner

from chromatize.batch import colorize_files
from chromatize.cli import main
from chromatize.models import load_model

ray = pytest.importorskip("ray")

from chromatize.batch import BatchOptions  # noqa: E402
from chromatize.batch.ray import colorize_files_ray  # noqa: E402


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield
    ray.shutdown()


def outputs(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_ray_gives_the_local_outputs_and_report(local_ray, archive, local, tmp_path):
    out, res_local = local
    res = CliRunner().invoke(main, ["colorize", str(archive), "-o", str(tmp_path / "out"), "-r", "--compare",
                                    "--ray", "--ray-workers", "2"])
    assert res.exit_code == res_local.exit_code == 1  # two bad files, listed at the end
    # the same summary, the same error lines in the same order
    assert res.output.replace(str(tmp_path / "out"), "OUT") == res_local.output.replace(str(out), "OUT")
    assert "broken.jpg" in res.output and "empty.png: empty file" in res.output
    got, want = outputs(tmp_path / "out"), outputs(out)
    assert len(want) == 10 and got.keys() == want.keys()  # 5 photos, each with its compare strip
    assert all(got[k] == want[k] for k in want)  # byte for byte, PNG and JPEG


def test_a_rerun_finishes_only_what_is_missing(local_ray, archive, local, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(local[0], out)
    (out / "a.png").unlink()  # as if the job had been killed before these
    (out / "sub" / "d_compare.png").unlink()
    result = colorize_files_ray([archive], out, options=BatchOptions(recursive=True, compare=True), workers=1)
    assert sorted(p.name for p in result.written) == ["a.png", "d_compare.png"]
    assert sorted(p.name for p in result.colorized) == ["a.png", "d.png"]
    assert len(result.skipped) == 3
    want = colorize_files([archive], tmp_path / "again", options=BatchOptions(recursive=True, compare=True))
    assert result.failed == want.failed  # the bad files again, named and explained as locally
    assert outputs(out) == outputs(local[0])


def test_uris_give_the_local_outputs_report_and_resume(local_ray, archive, local, tmp_path):
    # file:// URIs take the object-store path: listed, checked and read through pyarrow on the driver and the actors
    out, res_local = local
    res = CliRunner().invoke(main, ["colorize", archive.as_uri(), "-o", (tmp_path / "out").as_uri(), "-r",
                                    "--compare", "--ray", "--ray-workers", "2"])
    assert res.exit_code == 1
    named = res.output.replace((tmp_path / "out").as_uri(), "OUT").replace(archive.as_uri(), "IN")
    assert named == res_local.output.replace(str(out), "OUT").replace(str(archive), "IN")
    assert "error: IN/broken.jpg: corrupt JPEG" in named and "error: IN/empty.png: empty file" in named
    assert outputs(tmp_path / "out") == outputs(out)  # byte for byte
    (tmp_path / "out" / "c.png").unlink()  # as if the job had been killed before it
    result = colorize_files_ray([archive.as_uri()], (tmp_path / "out").as_uri(), options=BatchOptions(recursive=True, compare=True),
                                workers=1)
    assert [str(p) for p in result.written] == [(tmp_path / "out" / "c.png").as_uri()]
    assert len(result.skipped) == 4 and len(result.failed) == 2
    assert outputs(tmp_path / "out") == outputs(out)


def test_overwrite_redoes_every_file(local_ray, archive, local, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(local[0], out)
    result = colorize_files_ray([archive / "a.png", archive / "b.jpg"], out, options=BatchOptions(overwrite=True), workers=1,
                                threads=2)
    assert sorted(p.name for p in result.written) == ["a.png", "b.jpg"] and not result.skipped


def test_a_users_file_is_neither_skipped_nor_replaced(local_ray, archive, local, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(local[0], out)
    (out / "a.png").write_bytes((archive / "a.png").read_bytes())  # the user's own a.png, not an output
    for overwrite in (False, True):
        result = colorize_files_ray([archive / "a.png"], out, options=BatchOptions(overwrite=overwrite), workers=1)
        assert not result.skipped and not result.written and "chromatize did not write" in result.failed[0][1]
        assert (out / "a.png").read_bytes() == (archive / "a.png").read_bytes()


def test_without_ray_the_cli_says_what_to_install(archive, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray fails as if it were not installed
    res = CliRunner().invoke(main, ["colorize", str(archive / "a.png"), "-o", str(tmp_path), "--ray"])
    assert res.exit_code == 1
    assert res.output.strip() == ("Error: this command needs ray, which is not installed: "
                                  "pip install 'chromatize[scale]'")


def test_a_loaded_model_cannot_be_sent_to_the_workers(archive, tmp_path):
    with pytest.raises(TypeError, match="model name or folder"):
        colorize_files_ray([archive], tmp_path, load_model("gray"))


def test_a_killed_ray_run_leaves_no_ray_process(tmp_path, rng):
    """After a SIGKILL of a --ray run, Ray's agents and workers stayed alive (two, for 22 s and more)."""
    import os
    import signal
    import subprocess
    import time

    from PIL import Image

    from conftest import make_photo

    def session(sid):  # the processes of the run's session (it is started in a session of its own)
        out = subprocess.run(["ps", "-ww", "-e", "-o", "sid=,pid=,args="], capture_output=True, text=True).stdout
        return [line for line in out.splitlines() if line.split()[0] == str(sid)]

    (tmp_path / "in").mkdir()
    for i in range(60):  # enough work that the run is still going when killed
        Image.fromarray(make_photo(rng, 192, 256)).save(tmp_path / "in" / f"p{i}.png")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    run = subprocess.Popen([sys.executable, "-m", "chromatize", "colorize", str(tmp_path / "in"), "-o",
                            str(tmp_path / "out"), "--ray", "--ray-workers", "1"], env=env, start_new_session=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = time.monotonic() + 90
    while time.monotonic() < end and run.poll() is None and not list((tmp_path / "out").glob("*.png")):
        time.sleep(0.1)  # until the actors write their first output
    assert run.poll() is None and any("raylet" in line for line in session(run.pid)), "the run was not going"
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    end = time.monotonic() + 20
    while time.monotonic() < end and session(run.pid):
        time.sleep(0.5)
    assert session(run.pid) == []
