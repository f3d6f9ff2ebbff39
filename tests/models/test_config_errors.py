"""A damaged config.json in a CNN or MLP model folder is one line naming the file and the key, never a traceback."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from chromatize.cli import main
from chromatize.models import ModelFormatError, bundled_model_dir, load_model


def damaged(tmp_path, family: str, change) -> str:
    folder = tmp_path / f"{family}_model"
    shutil.copytree(bundled_model_dir(family), folder)
    path = folder / "config.json"
    if isinstance(change, bytes):
        path.write_bytes(change)
    else:
        config = json.loads(path.read_text())
        change(config)
        path.write_text(json.dumps(config))
    return str(folder)


def _set(*keys, value):
    def change(config):
        d = config
        for k in keys[:-1]:
            d = d[k]
        d[keys[-1]] = value
    return change


CASES = [
    ("cnn", bytes(range(256)), "cannot read config"),
    ("cnn", _set("mean_ab", value=5), "'mean_ab'"),
    ("cnn", _set("decoding", "render_size", value="abc"), "'render_size' must be an integer"),
    ("cnn", _set("decoding", "render_size", value=100000), "'render_size'"),
    ("cnn", _set("family", value=5), "family"),
    ("cnn", _set("family", value=["cnn"]), "'family' must be a name"),  # was TypeError: unhashable type: 'list'
    ("cnn", b"[" * 100_000, "nested too deeply"),  # was RecursionError
    ("cnn", b"[" * 5_000 + b"]" * 5_000, "nested too deeply"),
    ("cnn", _set("stride", value=7), "loads but cannot run"),  # was an ONNX Runtime error on every photo
    ("cnn", _set("hint_channels", value=3), "loads but cannot run"),
    ("mlp", bytes(range(256)), "cannot read config"),
    ("mlp", b"{\"a\": " * 100_000, "nested too deeply"),
    ("mlp", _set("mean_ab", value=5), "'mean_ab'"),
    ("mlp", _set("config", "size", value="abc"), "'size' must be an integer"),
    ("mlp", _set("config", "size", value=100000), "size must be at most 4096"),
    ("mlp", _set("config", value=5), "'config' must be an object"),
    ("mlp", _set("config", "engine", value="warp"), "unknown engine"),
]


@pytest.mark.parametrize("family, change, message", CASES)
def test_damaged_config_is_one_line_naming_file_and_key(tmp_path, family, change, message):
    folder = damaged(tmp_path, family, change)
    with pytest.raises(ModelFormatError) as exc:
        load_model(folder)
    text = str(exc.value)
    assert folder in text and message in text and "\n" not in text
    res = CliRunner().invoke(main, ["colorize", "--samples", "-m", folder, "-o", str(tmp_path / "out")])
    assert res.exit_code == 1 and res.output.strip() == f"Error: {text}"
    assert not (tmp_path / "out").exists()  # nothing written when the model cannot load


def test_a_swapped_hint_head_fails_at_load(tmp_path):
    """A folder whose hint_head.onnx is another network's loads, then could not run: it fails at load, one line."""
    folder = damaged(tmp_path, "cnn", lambda config: None)
    shutil.copy(bundled_model_dir("cnn-small") / "model.onnx", tmp_path / "cnn_model" / "hint_head.onnx")
    with pytest.raises(ModelFormatError, match="loads but cannot run") as exc:
        load_model(folder)
    assert folder in str(exc.value) and "\n" not in str(exc.value)
