import json

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from chromatize.cli import main
from chromatize.experiments.seed_trials import KINDS, run_seed_trials
from chromatize.experiments.trials import TrialSettings
from conftest import make_photo

pytestmark = pytest.mark.filterwarnings("ignore:skipped 1 unreadable file:UserWarning")


@pytest.fixture
def scenes(tmp_path):
    """Three categories of 8 tiny photos each, tinted differently, plus one corrupt file."""
    rng = np.random.default_rng(5)
    root = tmp_path / "scenes"
    for c, tint in zip(["beach", "forest", "sunrise"], [(0.9, 0.9, 1.1), (0.8, 1.1, 0.8), (1.2, 0.9, 0.7)]):
        (root / c).mkdir(parents=True)
        for i in range(8):
            img = np.clip(make_photo(rng, 18, 20) * np.array(tint), 0, 255).astype(np.uint8)
            Image.fromarray(img).save(root / c / f"{c}{i}.png")
    (root / "forest" / "broken.jpg").write_bytes(b"\xff\xd8 no jpeg")
    return root


SETTINGS = TrialSettings(seeds=(0, 1), n_train=6, n_test=2, size=12, grid_photos=1)


def test_seed_trials_write_everything_and_are_reproducible(scenes, tmp_path):
    with pytest.warns(UserWarning, match="broken.jpg"):
        a = run_seed_trials(scenes, tmp_path / "a", SETTINGS, kinds=("mlp", "mlp-minibatch"))
    out = tmp_path / "a"
    names = {p.name for p in out.iterdir()}
    assert {"results.json", "report.md", "report.html", "trial1_loss.png", "trial2_loss.png", "test_loss.png",
            "trial1_grid_seed0.png", "trial2_grid_seed0.png", "trial2_grid_seed1.png"} <= names
    assert not [n for n in names if n.startswith(".")]
    assert json.loads((out / "results.json").read_text()) == a
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 6 and "Trial 2" in html
    md = (out / "report.md").read_text()
    assert "mlp, mean +- std" in md and "](trial2_loss.png)" in md

    t1, t2 = a["trials"]["trial1"], a["trials"]["trial2"]
    assert len(t1["train"]) == 6 and all(p.startswith("beach/") for p in t1["train"])
    assert sorted({p.split("/")[0] for p in t2["train"]}) == ["beach", "forest", "sunrise"]
    tests = {p for c in t1["test"].values() for p in c}
    assert len(tests) == 6 and not tests & set(t1["train"]) and not tests & set(t2["train"])
    assert a["categories"]["forest"]["skipped"][0].endswith("broken.jpg")
    run0 = t2["kinds"]["mlp"]["seeds"]["0"]
    assert len(run0["train_loss"]) == 6 and set(run0["test_loss"]) == {"beach", "forest", "sunrise"}
    # different seeds train different models
    assert run0["test_loss"] != t2["kinds"]["mlp"]["seeds"]["1"]["test_loss"]

    b = run_seed_trials(scenes, tmp_path / "b", SETTINGS, kinds=("mlp", "mlp-minibatch"))
    assert b["trials"] == a["trials"]


def test_seed_trials_refuse_to_overwrite(scenes, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not empty"):
        run_seed_trials(scenes, out, SETTINGS)
    with pytest.raises(FileExistsError, match="not a seed-trials folder"):
        run_seed_trials(scenes, out, SETTINGS, overwrite=True)
    assert (out / "notes.txt").read_text() == "mine"


def test_a_new_kind_plugs_in(scenes, tmp_path, monkeypatch):
    from chromatize.experiments.trials import Trained
    from chromatize.models.base import MeanABBaseline

    seen = []

    def constant(train, seed, settings, progress=None):
        seen.append((len(train), seed))
        return Trained(MeanABBaseline(mean_ab=(seed * 10.0, 0.0)), None)

    monkeypatch.setitem(KINDS, "constant", constant)
    r = run_seed_trials(scenes, tmp_path / "k", SETTINGS, kinds=("constant",))
    assert seen == [(6, 0), (6, 1), (6, 0), (6, 1)]
    assert r["trials"]["trial2"]["kinds"]["constant"]["seeds"]["0"]["test_loss"]["beach"] == pytest.approx(
        r["trials"]["trial2"]["baselines"]["gray"]["beach"])


def test_unknown_kind_and_category(scenes, tmp_path):
    with pytest.raises(ValueError, match="unknown model kind 'svm'"):
        run_seed_trials(scenes, tmp_path / "x", SETTINGS, kinds=("svm",))
    with pytest.raises(ValueError, match="'desert'"):
        run_seed_trials(scenes, tmp_path / "x", TrialSettings(seeds=(0,), n_train=3, n_test=1, size=8,
                                                              trial1_category="desert"))


def test_cli_seed_trials(scenes, tmp_path):
    out = tmp_path / "cli"
    args = ["experiment", "seed-trials", "--data", str(scenes), "--out", str(out), "--seeds", "2",
            "--n-train", "6", "--n-test", "2", "--size", "12"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    assert "trial2 mlp: test loss beach" in res.output
    r = json.loads((out / "results.json").read_text())
    assert r["settings"]["seeds"] == [0, 1] and r["command"].startswith("chromatize experiment seed-trials --data")
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 1 and "not empty" in again.output and "Traceback" not in again.output
    assert CliRunner().invoke(main, args + ["--overwrite"]).exit_code == 0


def test_cli_train_mlp(scenes, tmp_path):
    from chromatize.models import load_model

    out = tmp_path / "model"
    res = CliRunner().invoke(main, ["train", "mlp", str(scenes / "beach"), str(scenes / "sunrise"), "--out", str(out),
                                    "--epochs", "2", "--size", "16", "--seed", "3"])
    assert res.exit_code == 0, res.output
    model = load_model(out)
    assert model.config.epochs == 2 and model.config.size == 16 and model.config.seed == 3
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["training"]["n_images"] == 16 and len(cfg["training"]["epoch_mean_loss"]) == 2
    res = CliRunner().invoke(main, ["train", "mlp", str(scenes / "beach"), "--out", str(out)])
    assert res.exit_code == 1 and "already holds a model" in res.output
    res = CliRunner().invoke(main, ["train", "mlp", str(scenes / "forest" / "broken.jpg"), "--out", str(tmp_path / "m2")])
    assert res.exit_code == 1 and "broken.jpg" in res.output and "Traceback" not in res.output
