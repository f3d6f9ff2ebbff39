"""Guided colorization through the API, the batch and the CLI: hints, scribbles, a reference photo."""

import json

import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import chromatize
from chromatize.batch import colorize_files
from chromatize.cli import main
from chromatize.color import rgb_to_lab
from chromatize.hints import HintError
from chromatize.io import read_image
from chromatize.models.cnn import CNNFolderConfig, NetColorizer
from chromatize.guidance import Guidance

HINT_AB = (25.0, -20.0)  # in gamut at L ~ 50


def gray_photo(h=48, w=64):
    """A gray photo, mid lightness with a gentle gradient (no colour of its own)."""
    v = np.linspace(100, 150, w, dtype=np.float32)[None, :].repeat(h, axis=0)
    return np.repeat(v.astype(np.uint8)[..., None], 3, axis=2)


def ab_at(rgb, x, y):
    return rgb_to_lab(rgb)[y, x, 1:]


class FakeNet(NetColorizer):
    """A regression 'network' without weights: a*b* = 0, or, with hint channels, the hint channels themselves.

    With it the path from ``colorize(hints=...)`` to the network's input is
    checked whatever the bundled CNN has learnt: the hybrid (no hint channels:
    a*b* 0 plus the propagated hints) and the hint channels (their a*b* at the
    right place and scale come back out).
    """

    def __init__(self, hint_channels: int):
        super().__init__(CNNFolderConfig(mean_ab=(0.0, 0.0), centers=np.zeros((0, 2), np.float32), model={},
                                         hint_channels=hint_channels, name=f"fake{hint_channels}"))

    def raw(self, L, guide=None):
        x = self.net_input(L, guide)[0]  # (1 + hint_channels, h, w)
        out = x[1:3] if self.hint_channels else np.zeros((2,) + L.shape, np.float32)
        h, w = L.shape
        return np.stack([cv2.resize(c, (w // 4, h // 4), interpolation=cv2.INTER_AREA) for c in out])


@pytest.mark.parametrize("model", [FakeNet(0), FakeNet(3), "levin"], ids=["hybrid", "hint-channels", "levin"])
def test_hints_colour_the_hinted_pixel(model):
    photo = gray_photo()
    hints = [{"x": 20, "y": 24, "ab": list(HINT_AB), "size": 5}]
    out = chromatize.colorize(photo, model, hints=hints)
    assert out.shape == photo.shape and out.dtype == np.uint8
    np.testing.assert_allclose(ab_at(out, 20, 24), HINT_AB, atol=4)
    auto = chromatize.colorize(photo, model)
    assert np.abs(ab_at(auto, 20, 24) - HINT_AB).max() > 10  # the hint made the difference


def test_hints_reach_the_bundled_cnn():
    photo = gray_photo()
    out = chromatize.colorize(photo, "cnn", hints=[{"x": 20, "y": 24, "ab": list(HINT_AB), "size": 5}])
    auto = chromatize.colorize(photo, "cnn")
    assert out.shape == photo.shape
    # how closely a trained net follows a hint is the net's business; it must move towards it
    assert np.linalg.norm(ab_at(out, 20, 24) - HINT_AB) < np.linalg.norm(ab_at(auto, 20, 24) - HINT_AB) - 2


@pytest.mark.parametrize("model", [FakeNet(0), "levin"], ids=["hybrid", "levin"])
def test_hints_win_over_saturation_and_reference(model):
    photo = gray_photo()
    hints = {"hints": [{"x": 40, "y": 10, "ab": list(HINT_AB), "size": 5}]}
    ref = np.zeros((32, 32, 3), np.uint8)
    ref[:] = (40, 120, 220)  # blue
    out = chromatize.colorize(photo, model, hints=hints, saturation=2.0, reference=ref, reference_strength=1.0)
    np.testing.assert_allclose(ab_at(out, 40, 10), HINT_AB, atol=4)


def test_scribble_file_with_levin(tmp_path):
    photo = gray_photo()
    strokes = np.zeros(photo.shape[:2] + (4,), np.uint8)
    strokes[10:40, 30:33] = (60, 160, 60, 255)  # a green stroke
    path = tmp_path / "strokes.png"
    Image.fromarray(strokes, "RGBA").save(path)
    out = chromatize.colorize(photo, "levin", scribbles=path)
    a, b = rgb_to_lab(out)[..., 1:].reshape(-1, 2).mean(axis=0)
    assert a < -10 and b > 5  # green everywhere: one stroke, nothing else to say


@pytest.mark.parametrize("model", ["cnn", "levin", "mlp"])
def test_reference_moves_the_colours_towards_it(model):
    photo = gray_photo()
    ref = np.zeros((40, 40, 3), np.uint8)
    ref[:] = (230, 120, 40)  # orange: a* and b* well above 0
    auto = rgb_to_lab(chromatize.colorize(photo, model))[..., 1:].reshape(-1, 2).mean(axis=0)
    guided = rgb_to_lab(chromatize.colorize(photo, model, reference=ref))[..., 1:].reshape(-1, 2).mean(axis=0)
    target = rgb_to_lab(ref)[0, 0, 1:]
    assert np.linalg.norm(guided - target) < np.linalg.norm(auto - target) - 3


@pytest.mark.parametrize("model", ["mlp", "gray"])
def test_models_without_hint_support_refuse_hints(model):
    with pytest.raises(ValueError, match=f"model '{model}' takes no hints") as err:
        chromatize.colorize(gray_photo(), model, hints=[{"x": 1, "y": 1, "ab": [1, 1]}])
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="takes no hints"):
        chromatize.colorize(gray_photo(), model, scribbles=np.zeros((48, 64, 4), np.uint8) + 255)


def test_api_errors_are_hint_errors():
    with pytest.raises(HintError, match=r"hints: hint 0: \(64, 1\) is outside the photo \(64x48\)"):
        chromatize.colorize(gray_photo(), "levin", hints=[{"x": 64, "y": 1, "ab": [1, 1]}])
    with pytest.raises(HintError, match="scribbles: scribbles are 4x4"):
        chromatize.colorize(gray_photo(), "levin", scribbles=np.zeros((4, 4, 4), np.uint8))


def test_batch_applies_hints_to_each_file_and_fails_only_those_they_miss(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(gray_photo(48, 64)).save(src / "wide.png")
    Image.fromarray(gray_photo(20, 20)).save(src / "small.png")
    hints = tmp_path / "h.json"
    hints.write_text(json.dumps([{"x": 30, "y": 10, "ab": list(HINT_AB), "size": 3}]))
    result = colorize_files([src], tmp_path / "out", "levin", Guidance.build(hints=hints))
    assert [p.name for p in result.written] == ["wide.png"]
    (bad, reason), = result.failed
    assert bad.name == "small.png" and "h.json: hint 0: (30, 10) is outside the photo (20x20)" in reason
    np.testing.assert_allclose(ab_at(read_image(tmp_path / "out" / "wide.png").rgb, 30, 10), HINT_AB, atol=4)


@pytest.fixture
def photo_file(tmp_path):
    path = tmp_path / "photo.png"
    Image.fromarray(gray_photo()).save(path)
    return path


@pytest.mark.parametrize("content, expected", [
    ('[{"x": 1, "y": 1, "colour": "#ff0000"}]', "hints.json: hint 0: unknown key(s) 'colour'"),
    ('[{"x": 1, "y": 1, "color": "red"}]', "hints.json: hint 0: 'color' must be '#rrggbb'"),
    ('{"hints": [{"x": 1, "y": 1, "ab": [1, 1]}, {"x": 1, "y": 1, "ab": [500, 1]}]}', "hints.json: hint 1: 'ab' values"),
    ('[{"x": 1, "y": 1,', "hints.json: not a JSON hints file"),
    ("[" * 5_000 + "]" * 5_000, "hints.json: not a JSON hints file (JSON nested too deeply)"),  # was RecursionError
    ('{"hints": ' * 100_000, "hints.json: not a JSON hints file (JSON nested too deeply)"),
    ('[{"x": 100, "y": 1, "ab": [1, 1]}]', "hints.json: hint 0: (100, 1) is outside the photo (64x48)"),
])
def test_cli_bad_hints_are_one_line_naming_file_and_entry(tmp_path, photo_file, content, expected):
    hints = tmp_path / "hints.json"
    hints.write_text(content)
    res = CliRunner().invoke(main, ["colorize", str(photo_file), "-o", str(tmp_path / "out"), "-m", "levin",
                                    "--hints", str(hints)])
    assert res.exit_code == 1, res.output
    assert expected in res.output and "Traceback" not in res.output
    errors = [line for line in res.output.splitlines() if expected in line]
    assert len(errors) == 1


def test_cli_scribbles_of_the_wrong_size_and_models_without_hints(tmp_path, photo_file):
    strokes = tmp_path / "strokes.png"
    Image.fromarray(np.zeros((5, 5, 4), np.uint8), "RGBA").save(strokes)
    res = CliRunner().invoke(main, ["colorize", str(photo_file), "-o", str(tmp_path / "o1"), "-m", "levin",
                                    "--scribbles", str(strokes)])
    assert res.exit_code == 1 and "strokes.png: scribbles are 5x5, the photo is 64x48" in res.output
    hints = tmp_path / "h.json"
    hints.write_text('[{"x": 1, "y": 1, "ab": [1, 1]}]')
    res = CliRunner().invoke(main, ["colorize", str(photo_file), "-o", str(tmp_path / "o2"), "-m", "mlp",
                                    "--hints", str(hints)])
    assert res.exit_code == 1 and "model 'mlp' takes no hints" in res.output
    assert len(res.output.strip().splitlines()) == 1
    res = CliRunner().invoke(main, ["colorize", str(photo_file), "-o", str(tmp_path / "o3"),
                                    "--hints", str(tmp_path / "missing.json")])
    assert res.exit_code == 2 and "missing.json" in res.output


def test_cli_guided_run_writes_the_photo(tmp_path, photo_file):
    hints = tmp_path / "h.json"
    hints.write_text(json.dumps({"hints": [{"x": 10, "y": 10, "ab": list(HINT_AB), "size": 5}]}))
    ref = tmp_path / "ref.png"
    Image.fromarray(np.full((16, 16, 3), (200, 150, 60), np.uint8)).save(ref)
    res = CliRunner().invoke(main, ["colorize", str(photo_file), "-o", str(tmp_path / "out"), "-m", "levin",
                                    "--hints", str(hints), "--reference", str(ref), "--reference-strength", "0.5"])
    assert res.exit_code == 0, res.output
    out = read_image(tmp_path / "out" / "photo.png").rgb
    np.testing.assert_allclose(ab_at(out, 10, 10), HINT_AB, atol=4)
    res = CliRunner().invoke(main, ["colorize", "--help"])
    assert "--hints" in res.output and "levin" in res.output
