import csv
import json
import re
from dataclasses import dataclass

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from chromatize import metrics
from chromatize.cli import main
from chromatize.color import gray_to_rgb
from chromatize.evaluate import (
    evaluate,
    format_table,
    lineup,
    resize_longer,
    run_evaluation,
    score_model,
    write_csv,
    write_json,
)
from chromatize.io import OutputExistsError, read_image
from chromatize.models.base import Colorizer, MeanABBaseline
from chromatize.evaluate import write_eval_report
from chromatize.io import atomic_write_text
from chromatize.text import markdown_table

from conftest import make_photo

TINT = MeanABBaseline(mean_ab=(6.0, 12.0))


@dataclass
class Model(Colorizer):
    """A stand-in for a trained model (not a baseline class): it predicts its training mean."""

    mean_ab: tuple[float, float] = (0.0, 0.0)
    name: str = "tinter"
    work_shape = MeanABBaseline.work_shape
    predict_ab = MeanABBaseline.predict_ab


@pytest.fixture
def dataset(tmp_path, rng):
    """Three small photos (one larger than the evaluation size) and a corrupt file."""
    d = tmp_path / "tiny"
    d.mkdir()
    for i, (h, w) in enumerate([(24, 32), (40, 60), (30, 20)]):
        Image.fromarray(make_photo(rng, h, w)).save(d / f"p{i}.png")
    (d / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    return d


def truths(dataset, size):
    return {p.name: resize_longer(read_image(p).rgb, size) for p in sorted(dataset.glob("p*.png"))}


def test_resize_longer_only_downscales():
    x = np.zeros((40, 60, 3), np.uint8)
    assert resize_longer(x, 32).shape == (21, 32, 3)
    assert resize_longer(x, 100) is x
    assert resize_longer(x, None) is x
    with pytest.raises(ValueError, match="-3"):
        resize_longer(x, -3)


def test_lineup_baselines():
    _, names, base = lineup(["gray", TINT])
    assert names == ["gray", "mean-ab"] and base == {"gray", "mean-ab"}
    models, names, base = lineup([Model(mean_ab=(1.0, 2.0))])
    assert names == ["gray", "mean-ab", "tinter"] and base == {"gray", "mean-ab"}
    assert models[1].mean_ab == (1.0, 2.0)
    _, names, _ = lineup([Model(mean_ab=(1.0, 2.0), name="a"), Model(mean_ab=(3.0, 2.0), name="b"), Model(name="a")])
    assert names == ["gray", "mean-ab:a", "mean-ab:b", "mean-ab:a#2", "a", "b", "a#2"]


def test_evaluate_scores_match_metrics(dataset):
    seen = []
    res = evaluate([dataset], ["gray", TINT], size=32, progress=lambda d, t, p: seen.append((d, t)))
    assert seen[-1] == (4, 4)
    assert res.models == ["gray", "mean-ab"]
    assert len(res.failed) == 1 and "broken.png" in res.failed[0][1]
    assert res.images("tiny") == ["p0.png", "p1.png", "p2.png"]
    t = truths(dataset, 32)
    assert {(r["height"], r["width"]) for r in res.rows} == {(24, 32), (21, 32), (30, 20)}
    for r in res.rows:
        truth = t[r["image"]]
        pred = gray_to_rgb(truth) if r["model"] == "gray" else None
        if pred is not None:
            assert r["psnr_rgb"] == pytest.approx(metrics.psnr_rgb(pred, truth))
            assert r["auc_ab"] == pytest.approx(metrics.auc_ab(pred, truth))
            assert r["colorfulness_ratio"] < 0.05
    summ = res.summary()["tiny"]
    for model in res.models:
        vals = [r["ciede2000_mean"] for r in res.rows if r["model"] == model]
        assert summ[model]["n"] == 3
        assert summ[model]["ciede2000_mean"]["mean"] == pytest.approx(np.mean(vals))
        assert summ[model]["ciede2000_mean"]["median"] == pytest.approx(np.median(vals))
    # the tint is more colourful than gray
    assert summ["mean-ab"]["colorfulness"]["mean"] > summ["gray"]["colorfulness"]["mean"] + 5
    # the training loop's entry point agrees with the table
    sm = score_model("gray", list(t.values()))
    assert sm["auc_ab"] == pytest.approx(summ["gray"]["auc_ab"]["mean"])
    assert list(score_model(TINT, [read_image(dataset / "p1.png")], size=32, metrics=["psnr_rgb"])) == ["psnr_rgb"]


def test_evaluate_bad_datasets(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope"):
        evaluate([tmp_path / "nope"], ["gray"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no image files"):
        evaluate([tmp_path / "empty"], ["gray"])
    with pytest.raises(ValueError, match="at least one photo"):
        score_model("gray", [])


def test_writers_and_report(dataset, tmp_path):
    res = evaluate([dataset], ["gray", Model(mean_ab=(6.0, 12.0))], size=32, thumb_size=24)
    assert res.models == ["gray", "mean-ab", "tinter"]

    data = json.loads(write_json(res, tmp_path / "r.json").read_text())
    assert data["models"] == res.models and data["baselines"] == ["gray", "mean-ab"]
    assert data["summary"]["tiny"]["gray"]["psnr_rgb"]["mean"] == pytest.approx(res.summary()["tiny"]["gray"]["psnr_rgb"]["mean"])
    assert len(data["images"]) == 9 and data["failed"][0]["path"].endswith("broken.png")
    with pytest.raises(OutputExistsError):
        write_json(res, tmp_path / "r.json")

    rows = list(csv.DictReader((write_csv(res, tmp_path / "r.csv")).open()))
    assert [r["model"] for r in rows] == res.models
    assert float(rows[0]["auc_ab_mean"]) == pytest.approx(res.summary()["tiny"]["gray"]["auc_ab"]["mean"])
    # the tint and the model that predicts it score the same
    assert rows[1]["psnr_rgb_mean"] == rows[2]["psnr_rgb_mean"]

    text = format_table(res)
    assert "| tinter" in text and "tiny" in text

    index = write_eval_report(res, tmp_path / "rep")
    page = index.read_text()
    srcs = re.findall(r'<img src="([^"]+)"', page)
    # gallery: truth + 3 columns per image, then best/worst pairs
    assert len(srcs) >= 3 * 4
    for s in srcs:
        assert (index.parent / s).is_file(), s
    assert "broken.png" in page and "Best and worst" in page and "<table" in page
    with pytest.raises(OutputExistsError):
        write_eval_report(res, tmp_path / "rep")


def test_run_evaluation_refuses_existing_output_first(dataset, tmp_path):
    (tmp_path / "r.csv").write_text("keep")
    calls = []
    with pytest.raises(OutputExistsError, match="r.csv"):
        run_evaluation([dataset], ["gray"], csv_path=tmp_path / "r.csv", progress=lambda *a: calls.append(a))
    assert calls == [] and (tmp_path / "r.csv").read_text() == "keep"


def test_report_helpers(tmp_path):
    table = markdown_table(["model", "x"], [["gray", "1.50"], ["mlp", "-0.25"]])
    assert table.splitlines()[1] == "|-------|------:|"
    assert table.splitlines()[3] == "| mlp   | -0.25 |"
    p = atomic_write_text(tmp_path / "a.txt", "one", overwrite=False)
    with pytest.raises(OutputExistsError):
        atomic_write_text(p, "two", overwrite=False)
    assert atomic_write_text(p, "two", overwrite=True).read_text() == "two"
    assert [q.name for q in tmp_path.iterdir()] == ["a.txt"]  # no temp files left


def test_cli_evaluate(dataset, tmp_path):
    out = tmp_path / "out"
    args = ["evaluate", str(dataset), "--model", "gray", "--size", "32",
            "--json", str(out / "s.json"), "--csv", str(out / "s.csv"), "--report", str(out / "rep")]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 1, res.output  # the corrupt file
    assert "broken.png" in res.output and "Traceback" not in res.output
    assert "| gray" in res.output
    data = json.loads((out / "s.json").read_text())
    lib = evaluate([dataset], ["gray"], size=32)
    assert data["summary"]["tiny"]["gray"]["ciede2000_mean"]["mean"] == pytest.approx(
        lib.summary()["tiny"]["gray"]["ciede2000_mean"]["mean"])
    assert (out / "s.csv").is_file() and (out / "rep" / "index.html").is_file()
    # outputs are not replaced without --overwrite; with it they are
    res = CliRunner().invoke(main, args)
    assert res.exit_code != 0 and "--overwrite" in res.output and "Traceback" not in res.output
    (dataset / "broken.png").unlink()
    res = CliRunner().invoke(main, args + ["--overwrite"])
    assert res.exit_code == 0, res.output
    assert json.loads((out / "s.json").read_text())["failed"] == []


def test_cli_evaluate_bad_input(dataset, tmp_path):
    res = CliRunner().invoke(main, ["evaluate", str(tmp_path / "missing"), "-m", "gray"])
    assert res.exit_code != 0 and "missing" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(main, ["evaluate", str(dataset), "-m", "no-such-model"])
    assert res.exit_code != 0 and "no-such-model" in res.output and "Traceback" not in res.output
