"""The CNN at inference time: config checks, decoding, the bundled model, no torch needed."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from chromatize.infer import predict_ab
from chromatize.models import ModelFormatError, bundled_model_dir, load_model
from chromatize.models.cnn import decode
from chromatize.train.bins import ab_bins, rebalance_weights
from chromatize.guidance import Guidance


def test_bundled_cnn_colorizes():
    model = load_model("cnn")
    assert model.name == "cnn" and model.work_shape(512, 768) == (160, 256)  # multiples of 32
    out = __import__("chromatize").colorize(np.full((30, 40), 120, np.uint8))
    assert out.shape == (30, 40, 3) and out.dtype == np.uint8
    L = np.linspace(0, 100, 64 * 64, dtype=np.float32).reshape(64, 64)
    ab = predict_ab(model, L)
    np.testing.assert_allclose(predict_ab(model, L, Guidance(saturation=1.5)), 1.5 * ab, rtol=1e-4, atol=1e-3)
    np.testing.assert_array_equal(predict_ab(model, L), ab)  # the knob did not change the loaded model


def test_colorizing_needs_no_torch(tmp_path):
    import subprocess
    import sys

    code = ("import sys, numpy as np, chromatize; chromatize.colorize(np.zeros((20, 20), np.uint8)); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_decode_and_bins():
    ab = np.array([[0, 0], [1, 2], [31, -12], [30, -9]], np.float32)
    centers, counts = ab_bins(ab)
    assert centers.tolist() == [[0, 0], [30, -10]] and counts.tolist() == [2, 2]
    w = rebalance_weights(centers, counts)
    assert np.isclose((w * counts / counts.sum()).sum(), 1.0)
    logits = np.zeros((4, 1, 1), np.float32)
    logits[0] = 5.0  # bin 0 favoured; channels 2-3 are the regression head
    low = decode(logits, centers, temperature=0.1)
    assert np.allclose(low[0, 0], [0, 0], atol=1e-3)
    with pytest.raises(ValueError):
        decode(logits, centers, temperature=0.0)


@pytest.mark.parametrize("change, key", [
    ({"decoding": {"render_size": "abc"}}, "render_size"),
    ({"decoding": {"render_size": 0}}, "render_size"),
    ({"decoding": {"saturaton": 1.2}}, "saturaton"),
    ({"decoding": {"temperature": True}}, "temperature"),
    ({"mean_ab": 5}, "mean_ab"),
    ({"mean_ab": [1, "x"]}, "mean_ab"),
    ({"colour": 1}, "colour"),
    ({"model": []}, "model"),
])
def test_bad_config_values_name_file_and_key(tmp_path, change, key):
    folder = tmp_path / "m"
    shutil.copytree(bundled_model_dir("cnn"), folder)
    cfg = json.loads((folder / "config.json").read_text())
    for k, v in change.items():
        cfg[k] = {**cfg[k], **v} if isinstance(v, dict) and isinstance(cfg.get(k), dict) else v
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelFormatError) as exc:
        load_model(folder)
    msg = str(exc.value)
    assert "config.json" in msg and key in msg and "\n" not in msg


def test_config_of_random_bytes_is_one_clear_line(tmp_path):
    folder = tmp_path / "m"
    shutil.copytree(bundled_model_dir("cnn"), folder)
    (folder / "config.json").write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ModelFormatError, match="config.json: cannot read config"):
        load_model(folder)
