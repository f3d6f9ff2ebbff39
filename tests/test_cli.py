import numpy as np
from click.testing import CliRunner
from PIL import Image

from chromatize.cli import main
from chromatize.io import read_image, write_image


def all_commands(group, prefix=()):
    for name, cmd in group.commands.items():
        if hasattr(cmd, "commands"):
            yield from all_commands(cmd, prefix + (name,))
        yield prefix + (name,)


def test_every_command_has_help_with_example():
    runner = CliRunner()
    for path in all_commands(main):
        res = runner.invoke(main, [*path, "--help"])
        assert res.exit_code == 0, path
        assert "Example:" in res.output, f"{' '.join(path)} help has no example"


def test_colorize_batch_goes_past_a_corrupt_file(image_dir, tmp_path):
    (image_dir / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["colorize", str(image_dir), "--model", "gray", "-o", str(out)])
    assert res.exit_code == 1
    assert "broken.jpg" in res.output and "Traceback" not in res.output
    assert sorted(p.name for p in out.iterdir()) == ["img0.png", "img1.jpg", "img2.png"]
    assert read_image(out / "img0.png").rgb.shape == read_image(image_dir / "img0.png").rgb.shape


def test_colorize_skips_existing_outputs_unless_asked(image_dir, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    write_image(out / "img0.png", np.zeros((4, 4, 3), np.uint8))  # an output of an earlier run
    res = CliRunner().invoke(main, ["colorize", str(image_dir / "img0.png"), "-m", "gray", "-o", str(out)])
    assert res.exit_code == 0 and "1 already done, skipped" in res.output
    assert read_image(out / "img0.png").rgb.shape == (4, 4, 3)  # untouched
    res = CliRunner().invoke(main, ["colorize", str(image_dir / "img0.png"), "-m", "gray", "-o", str(out), "--overwrite"])
    assert res.exit_code == 0
    assert read_image(out / "img0.png").rgb.shape != (4, 4, 3)


def test_colorize_never_replaces_nor_skips_a_users_file(image_dir, tmp_path):
    """An output name taken by a file chromatize did not write: one line, exit 1, the file untouched."""
    out = tmp_path / "out"
    out.mkdir()
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(out / "img0.png")
    for flags in ([], ["--overwrite"]):
        res = CliRunner().invoke(main, ["colorize", str(image_dir), "-m", "gray", "-o", str(out), *flags])
        assert res.exit_code == 1 and "already done" not in res.output and "Traceback" not in res.output
        assert "chromatize did not write" in res.output and "colorized 2 image(s)" in res.output
        assert read_image(out / "img0.png").rgb.shape == (4, 4, 3)


def test_colorize_compare_and_format(image_dir, tmp_path):
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["colorize", str(image_dir / "img0.png"), "-m", "gray", "-o", str(out), "--compare", "--format", "jpg"])
    assert res.exit_code == 0, res.output
    src = read_image(image_dir / "img0.png").rgb
    assert read_image(out / "img0.jpg").rgb.shape == src.shape
    assert read_image(out / "img0_compare.png").rgb.shape == (src.shape[0], 3 * src.shape[1], 3)


def test_bad_model_is_one_line(image_dir, tmp_path):
    res = CliRunner().invoke(main, ["colorize", str(image_dir), "-m", "nope", "-o", str(tmp_path / "o")])
    assert res.exit_code != 0
    assert "nope" in res.output and "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1


def test_no_inputs_is_a_usage_error(tmp_path):
    res = CliRunner().invoke(main, ["colorize", "-o", str(tmp_path)])
    assert res.exit_code == 2 and "INPUT" in res.output


def test_python_dash_m(image_dir, tmp_path):
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-m", "chromatize", "--help"], capture_output=True, text=True)
    assert res.returncode == 0 and "colorize" in res.stdout


def test_serve_on_a_busy_port_is_one_line():
    import socket
    import subprocess
    import sys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        res = subprocess.run([sys.executable, "-m", "chromatize", "serve", "--port", str(port)],
                             capture_output=True, text=True, timeout=60)
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert res.stderr.strip() == (f"Error: cannot serve on 127.0.0.1:{port}: the port is taken "
                                  "(choose another with --port, or --port 0 for a free one)")


def test_train_cnn_without_torch_says_how_to_install_it(image_dir, tmp_path):
    import subprocess
    import sys

    code = "import sys; sys.modules['torch'] = None; from chromatize.cli import main; main()"
    res = subprocess.run([sys.executable, "-c", code, "train", "cnn", str(image_dir), "--out", str(tmp_path / "run")],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert res.stderr.strip() == "Error: this command needs torch, which is not installed: pip install 'chromatize[train]'"


def test_a_file_name_that_is_not_utf8_is_colorized(tmp_path, rng):
    """'utf-8' codec can't encode ... surrogates not allowed, from the temp file's name: the API read it fine."""
    import os

    from conftest import make_photo

    folder = tmp_path / "in"
    folder.mkdir()
    name = os.fsencode(folder) + b"/caf\xe9" + b"\xff" * 130 + b".png"  # not UTF-8, and cut mid-way in the temp name
    Image.fromarray(make_photo(rng, 16, 20)).save(name, format="PNG")
    res = CliRunner().invoke(main, ["colorize", str(folder), "-m", "gray", "-o", str(tmp_path / "out")])
    assert res.exit_code == 0 and "colorized 1 image(s)" in res.output, res.output
    assert os.listdir(os.fsencode(tmp_path / "out")) == [os.path.basename(name)]


def test_compare_on_a_gray_photo_skips_the_identical_panel_and_says_so(tmp_path):
    gray = np.tile(np.linspace(0, 255, 20, dtype=np.uint8), (16, 1))
    Image.fromarray(gray, "L").save(tmp_path / "g.png")
    res = CliRunner().invoke(main, ["colorize", str(tmp_path / "g.png"), "-m", "cnn-small", "-o", str(tmp_path / "out"),
                                    "--compare"])
    assert res.exit_code == 0 and "is gray already: its compare strip is gray | colorized" in res.output
    assert read_image(tmp_path / "out" / "g_compare.png").rgb.shape == (16, 40, 3)  # two panels, not three


def test_model_help_names_every_model_and_those_that_take_hints():
    from chromatize.models import bundled_models

    res = CliRunner().invoke(main, ["colorize", "--help"], terminal_width=1000)
    assert all(name in res.output for name in bundled_models())  # -m listed only cnn and mlp
    assert "cnn, cnn-scans, cnn-small take hints" in res.output
    assert res.output.count("Needs --model cnn, cnn-scans, cnn-small or levin.") == 2  # --hints and --scribbles
