"""The hint sweep: the points, the hints, scoring per count, outputs and the CLI."""

import json

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from chromatize.cli import main
from chromatize.color import rgb_to_lab
from chromatize.evaluate import parse_counts, sweep
from chromatize.evaluate.sweep import run_sweep, sweep_hints, sweep_points
from chromatize.hints import rasterize
from conftest import make_photo


def test_points_are_seeded_nested_central_and_inside():
    a = sweep_points((60, 80), 200, np.random.default_rng(3))
    b = sweep_points((60, 80), 200, np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    assert a.shape == (200, 2) and a.min() >= 0 and a[:, 0].max() <= 55 and a[:, 1].max() <= 75
    np.testing.assert_array_equal(sweep_points((60, 80), 20, np.random.default_rng(3)), a[:20])  # nested
    assert abs(np.median(a[:, 0]) - 28) < 5 and abs(np.median(a[:, 1]) - 38) < 6  # around the centre
    assert sweep_points((60, 80), 0, np.random.default_rng(3)).shape == (0, 2)


def test_hints_carry_the_mean_true_colour_of_their_square(rng):
    truth = make_photo(rng, 30, 40)
    ab = rgb_to_lab(truth)[..., 1:]
    corners = np.array([[0, 0], [10, 20], [25, 35]])
    hints = sweep_hints(ab, corners)
    g = rasterize(hints, ab.shape[:2])
    assert g.mask.sum() == 3 * 25
    for (r, c), h in zip(corners, hints):
        np.testing.assert_allclose(h.ab, ab[r : r + 5, c : c + 5].reshape(-1, 2).mean(axis=0), atol=1e-4)
        assert g.mask[r : r + 5, c : c + 5].all()  # the square is exactly the one averaged


def test_parse_counts():
    assert parse_counts("5, 0,1,5") == (0, 1, 5)
    with pytest.raises(ValueError, match=r"got '-1'"):
        parse_counts("0,-1")
    with pytest.raises(ValueError, match=r"got 'x'"):
        parse_counts("x")


@pytest.fixture
def dataset(tmp_path, rng):
    d = tmp_path / "ds"
    d.mkdir()
    for i in range(2):
        Image.fromarray(make_photo(rng, 40, 56)).save(d / f"p{i}.png")
    return d


def test_sweep_scores_every_model_and_count(dataset):
    result = sweep([dataset], ["levin"], counts=(0, 2, 50), size=None)
    assert result.models == ["levin"] and result.counts == (0, 2, 50)
    assert len(result.rows) == 2 * 3 and not result.failed
    psnr = [result.mean("ds", "levin", n, "psnr_rgb") for n in (0, 2, 50)]
    assert psnr[2] > psnr[0] + 3  # 50 true colours say a lot about a smooth photo
    again = sweep([dataset], ["levin"], counts=(0, 2, 50), size=None)
    assert again.rows == result.rows  # same points every run
    headers, rows = result.table("ds", "ciede2000_mean")
    assert headers == ["model", "0", "2", "50"] and rows[0][0] == "levin"


def test_sweep_refuses_models_without_hints(dataset):
    with pytest.raises(ValueError, match="model 'mlp' takes no hints; the sweep needs models that do"):
        sweep([dataset], ["mlp"], counts=(0, 1))


def test_run_sweep_writes_json_csv_and_report(dataset, tmp_path):
    out = tmp_path / "rep"
    run_sweep([dataset], ["levin"], (0, 1), None, json_path=tmp_path / "s.json", csv_path=tmp_path / "s.csv",
              report_dir=out)
    data = json.loads((tmp_path / "s.json").read_text())
    assert data["protocol"]["counts"] == [0, 1] and set(data["summary"]["ds"]["levin"]) == {"0", "1"}
    assert (tmp_path / "s.csv").read_text().splitlines()[0].startswith("dataset,model,points,n,psnr_rgb_mean")
    assert (out / "index.html").is_file() and (out / "sweep_psnr_rgb.png").stat().st_size > 1000
    with pytest.raises(FileExistsError):
        run_sweep([dataset], ["levin"], (0,), None, json_path=tmp_path / "s.json")


def test_cli_sweep(dataset, tmp_path):
    res = CliRunner().invoke(main, ["evaluate", str(dataset), "-m", "levin", "--hint-counts", "0,1,2", "--size", "0",
                                    "--json", str(tmp_path / "s.json")])
    assert res.exit_code == 0, res.output
    assert "| levin |" in res.output and "PSNR" in res.output
    res = CliRunner().invoke(main, ["evaluate", str(dataset), "-m", "levin", "--hint-counts", "0,two"])
    assert res.exit_code == 2 and "--hint-counts" in res.output and "'two'" in res.output
    res = CliRunner().invoke(main, ["evaluate", str(dataset), "-m", "mlp", "--hint-counts", "0,1"])
    assert res.exit_code == 1 and "takes no hints" in res.output and "Traceback" not in res.output
