"""The CNN colorizer: training, checkpoints, resume, fine-tuning, ONNX export and loading.

Training runs here are a few steps of a tiny net on tiny generated photos.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from chromatize.models import ModelFormatError, load_model
from chromatize.models.cnn import CNNColorizer

from conftest import make_photo

torch = pytest.importorskip("torch")

from chromatize.models.cnn.small_net import CNNConfig, ColorNet, receptive_field  # noqa: E402

from chromatize.models.cnn.torch_io import load_torch  # noqa: E402

from chromatize.models.cnn.losses import soft_encode  # noqa: E402
from chromatize.train.cnn import train_cnn  # noqa: E402
from chromatize.train.config import TrainConfig  # noqa: E402

TINY = dict(batch_size=4, crop=32, long_side=48, val_split=2, widths=(4, 8, 8, 16), warmup_steps=1, threads=1)


@pytest.fixture(scope="module")
def trained(photo_dir, tmp_path_factory):
    """A finished 4-step run, interrupted at step 2 by Ctrl-C and resumed."""
    out = tmp_path_factory.mktemp("run") / "run"
    calls = []

    def interrupt(info):
        calls.append(info)
        if info.get("step") == 2 and "loss" in info:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_cnn([photo_dir], out, TrainConfig(steps=4, checkpoint_every=100, **TINY), progress=interrupt)
    saved = json.loads((out / "config.json").read_text())
    assert saved["state"]["step"] == 2  # the checkpoint was written before the interrupt propagated
    result = train_cnn([photo_dir], out, resume=True)
    return out, result, calls


def test_interrupt_checkpoint_and_resume_continue_the_step_count(trained):
    out, result, calls = trained
    assert result["step"] == 4
    assert not result["interrupted"]
    assert [c["step"] for c in calls if "loss" in c] == [1, 2]
    saved = json.loads((out / "config.json").read_text())
    assert saved["state"]["step"] == 4
    for name in ("weights.safetensors", "optimizer.safetensors", "log.jsonl", "best/model.onnx"):
        assert (out / name).is_file(), name


def test_a_resumed_run_ends_with_the_weights_of_an_uninterrupted_one(trained, photo_dir, tmp_path):
    """Same batches, same class-rebalancing weights (saved in the run state), same optimiser state: bit for bit."""
    out, _, _ = trained
    train_cnn([photo_dir], tmp_path / "u", TrainConfig(steps=4, checkpoint_every=100, **TINY))
    resumed, _ = load_torch(out)
    straight, _ = load_torch(tmp_path / "u")
    for name, w in straight.state_dict().items():
        assert torch.equal(w, resumed.state_dict()[name]), name


def test_new_run_refuses_to_overwrite(trained, photo_dir):
    out, _, _ = trained
    with pytest.raises(FileExistsError):
        train_cnn([photo_dir], out, TrainConfig(steps=1, **TINY))


def test_best_model_loads_and_colorizes(trained):
    out, result, _ = trained
    model = load_model(out / "best")
    assert isinstance(model, CNNColorizer)
    cfg = json.loads((out / "best" / "config.json").read_text())
    assert model.decoding.temperature == cfg["decoding"]["temperature"] and "val_metrics" in cfg
    rgb = np.random.default_rng(0).integers(0, 256, (37, 53, 3), dtype=np.uint8)
    from chromatize import colorize

    out_rgb = colorize(rgb, model)
    assert out_rgb.shape == (37, 53, 3) and out_rgb.dtype == np.uint8


def test_onnx_matches_torch(trained):
    out, _, _ = trained
    net, cfg = load_torch(out / "best")
    net.eval()
    onnx_model = load_model(out / "best")
    L = np.random.default_rng(1).uniform(0, 100, (48, 80)).astype(np.float32)  # not the export size
    with torch.no_grad():
        ref = net(torch.from_numpy((L - 50) / 50)[None, None])[0].numpy()
    got = onnx_model.raw(L)
    assert got.shape == ref.shape == (cfg.model["n_bins"] + 2, 12, 20)
    np.testing.assert_allclose(got, ref, atol=2e-4, rtol=1e-3)


def test_fine_tune_from_a_saved_model(trained, photo_dir, tmp_path):
    out, _, _ = trained
    base, base_cfg = load_torch(out / "best")
    result = train_cnn([photo_dir], tmp_path / "ft", TrainConfig(steps=2, init=str(out / "best"), **TINY))
    tuned, cfg = load_torch(tmp_path / "ft")
    assert result["step"] == 2
    assert np.array_equal(cfg.centers, base_cfg.centers)  # the head keeps the initial model's classes
    a, b = base.state_dict()["head.weight"], tuned.state_dict()["head.weight"]
    assert a.shape == b.shape and not torch.equal(a, b)


def test_l2_model_has_two_outputs(photo_dir, tmp_path):
    train_cnn([photo_dir], tmp_path / "l2", TrainConfig(loss="l2", steps=1, **TINY))
    model = load_model(tmp_path / "l2" / "best")
    assert model.centers is None
    assert model.predict_ab(np.full((32, 48), 50, np.float32)).shape == (32, 48, 2)


def test_bad_model_folders(trained, tmp_path):
    out, _, _ = trained
    cfg = json.loads((out / "best" / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelFormatError, match="no model.onnx"):
        load_model(tmp_path)
    (tmp_path / "model.onnx").write_bytes(b"not onnx")
    with pytest.raises(ModelFormatError, match="not a valid ONNX"):
        load_model(tmp_path)
    cfg["bins"] = cfg["bins"][:-1]  # the config no longer matches the network
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    (tmp_path / "model.onnx").write_bytes((out / "best" / "model.onnx").read_bytes())
    with pytest.raises(ModelFormatError, match="output shape"):
        load_model(tmp_path)
    (tmp_path / "weights.safetensors").write_bytes(b"junk")
    with pytest.raises(ModelFormatError):
        load_torch(tmp_path)


def test_soft_encode_and_receptive_field():
    centers = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    q = soft_encode(torch.tensor([[[[1.0]], [[0.0]]]]), centers, k=2)
    assert q.shape == (1, 3, 1, 1) and torch.isclose(q.sum(), torch.tensor(1.0))
    assert q[0, 0, 0, 0] > q[0, 1, 0, 0] > 0 and q[0, 2, 0, 0] == 0
    cfg = CNNConfig(n_bins=3)
    assert receptive_field(cfg) > 200
    out = ColorNet(cfg)(torch.zeros(2, 1, 32, 48))
    assert out.shape == (2, 5, 8, 12)


def test_cli_train_cnn_help_has_example():
    from click.testing import CliRunner

    from chromatize.cli import main

    res = CliRunner().invoke(main, ["train", "cnn", "--help"])
    assert res.exit_code == 0 and "Example:" in res.output


def test_hint_training_gives_a_model_that_takes_hints(photo_dir, tmp_path):
    """A tiny effnet run (no pretrained weights) widened for hints: ONNX takes L + 3 hint channels."""
    from chromatize.infer import colorize

    cfg = TrainConfig(arch="effnet", pretrained=False, loss="l1", hint_inputs=True, steps=2, batch_size=2, crop=32,
                      long_side=48, val_split=2, widths=(16, 8, 8), warmup_steps=1, threads=1)
    train_cnn([photo_dir], tmp_path / "h", cfg)
    model = load_model(tmp_path / "h")
    assert model.name == "h" and model.hint_channels == 3
    rgb = np.random.default_rng(0).integers(0, 256, (64, 96, 3), dtype=np.uint8)
    auto = colorize(rgb, model)
    hinted = colorize(rgb, model, hints=[{"x": 40, "y": 30, "color": "#20a040", "size": 9}])
    assert hinted.shape == auto.shape == (64, 96, 3)


def test_a_run_folder_is_a_model(trained, tmp_path):
    """``-m runs/NAME`` and ``load_model("runs/NAME")`` use its best/ model, named after the run."""
    from click.testing import CliRunner

    from chromatize.cli import main

    out, _, _ = trained
    model = load_model(out)
    assert isinstance(model, CNNColorizer) and model.name == out.name
    assert model.decoding == load_model(out / "best").decoding
    src = tmp_path / "in.png"
    Image.fromarray(make_photo(np.random.default_rng(3), 30, 40)).save(src)
    res = CliRunner().invoke(main, ["colorize", str(src), "-m", str(out), "-o", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "o" / "in.png").is_file()


def tuned_decoding_is_shipped(folder) -> bool:
    shipped = json.loads((__import__("chromatize").models.bundled_model_dir("cnn") / "config.json").read_text())
    return json.loads((folder / "config.json").read_text())["decoding"] == shipped["decoding"]


def test_fine_tune_the_bundled_default(photo_dir, tmp_path):
    """--init default: the shipped (pretrained-encoder) CNN fine-tuned for two steps, then used by name of its run."""
    cfg = TrainConfig(init="default", loss="classify", reg_loss="l1", steps=2, batch_size=2, crop=32, long_side=48,
                      val_split=2, warmup_steps=1, threads=1, lr=1e-4)
    result = train_cnn([photo_dir], tmp_path / "mine", cfg)
    base, _ = load_torch(__import__("chromatize").models.bundled_model_dir("cnn"))
    # 2 validation photos: the shipped decoding stays; the learned hint head is carried over, and said so
    assert tuned_decoding_is_shipped(tmp_path / "mine" / "best")
    assert any("decoding not re-tuned" in n for n in result["notes"])
    assert any("kept the hint head" in n and "chromatize train hints" in n for n in result["notes"])
    assert load_model(tmp_path / "mine").hint_head is not None  # it loads, head and all
    tuned, tuned_cfg = load_torch(tmp_path / "mine")
    assert tuned_cfg.arch == "effnet" and tuned_cfg.stride == 32
    a, b = base.state_dict()["head.weight"], tuned.state_dict()["head.weight"]
    assert a.shape == b.shape and not torch.equal(a, b)
    model = load_model(tmp_path / "mine")
    assert model.name == "mine" and model.predict_ab(np.full((64, 96), 50, np.float32)).shape == (64, 96, 2)
