"""The learned hint head: keys, attention (numpy == torch), training, export, loading."""

from __future__ import annotations

import json
import shutil

import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import chromatize  # noqa: E402
from chromatize.color import AB_NORM  # noqa: E402
from chromatize.hints import Guide  # noqa: E402
from chromatize.models import ModelFormatError, bundled_model_dir, load_model  # noqa: E402
from chromatize.models.cnn.config import HintHeadConfig, HintHeadEntry  # noqa: E402
from chromatize.models.cnn.hint_head import (  # noqa: E402
    PRIOR_FLOOR, QUERY_STRIDE, Keys, Reach, attend, bin_prior, hint_keys, pool)
from chromatize.models.cnn.hint_head_net import HintHeadNet, attend_batch  # noqa: E402


def test_hint_keys_pool_each_hinted_cell():
    h, w = 16, 24
    mask = np.zeros((h, w), np.float32)
    ab = np.zeros((h, w, 2), np.float32)
    mask[1:3, 1:3] = 1  # 4 px in cell (0, 0)
    ab[1:3, 1:3] = (40.0, -20.0)
    mask[10, 21] = 1  # 1 px in cell (2, 5)
    ab[10, 21] = (10.0, 10.0)
    auto = np.full((h, w, 2), 5.0, np.float32)
    index, residual, logw = hint_keys(ab, mask, auto, cell=4)
    assert index.tolist() == [2 * w + 2, 10 * w + 21]  # centroid (1.5, 1.5) rounds to (2, 2)
    np.testing.assert_allclose(residual * AB_NORM, [[35.0, -25.0], [5.0, 5.0]], atol=1e-4)
    np.testing.assert_allclose(logw, np.log([4 / 16, 1 / 16]), rtol=1e-6)


def test_hint_keys_coarsen_to_fit_max_keys():
    mask = np.ones((64, 64), np.float32)  # every 4x4 cell hinted: 256 cells
    ab = np.zeros((64, 64, 2), np.float32)
    index, residual, logw = hint_keys(ab, mask, ab, cell=4, max_keys=100)
    assert len(index) == 64  # cells of 8 px
    np.testing.assert_allclose(logw, 0.0, atol=1e-6)


def test_bin_prior_raises_the_bins_near_the_hints_and_floors_the_rest():
    centers = np.array([[60.0, 60.0], [55.0, 60.0], [0.0, 0.0], [-60.0, -60.0]], np.float32)
    ab, mask = np.zeros((8, 8, 2), np.float32), np.zeros((8, 8), np.float32)
    mask[2, 2], ab[2, 2] = 1.0, (60.0, 60.0)
    prior = bin_prior(centers, ab, mask, gamma=0.5, sigma=10.0)
    np.testing.assert_allclose(prior[:2], [0.0, -0.5 * 25 / 200], atol=1e-6)
    np.testing.assert_allclose(prior[2:], -0.5 * PRIOR_FLOOR)  # far bins are lowered, never ruled out
    np.testing.assert_array_equal(bin_prior(centers, ab, mask, 0.0, 10.0), 0.0)
    np.testing.assert_array_equal(bin_prior(centers, ab, np.zeros_like(mask), 0.5, 10.0), 0.0)  # no keys: no prior


def test_bin_prior_moves_only_pixels_that_hold_the_hinted_colour():
    from chromatize.models.cnn import decode

    centers = np.array([[60.0, 40.0], [-50.0, 40.0], [10.0, -60.0]], np.float32)  # red, green, blue
    out = np.zeros((5, 1, 2), np.float32)
    out[:3, 0, 0] = [2.0, 2.2, -8.0]  # torn between red and green, leaning green
    out[:3, 0, 1] = [-8.0, -8.0, 3.0]  # sure it is blue
    ab, mask = np.zeros((4, 4, 2), np.float32), np.zeros((4, 4), np.float32)
    mask[1, 1], ab[1, 1] = 1.0, (60.0, 40.0)  # a red hint
    biased = out.copy()
    biased[:3] += bin_prior(centers, ab, mask, 0.1, 10.0)[:, None, None]
    before, after = decode(out, centers, 0.7), decode(biased, centers, 0.7)
    assert before[0, 0, 0] < 0 < 50 < after[0, 0, 0]  # the torn pixel takes the hinted red
    np.testing.assert_allclose(after[0, 1], before[0, 1], atol=0.01)  # the blue one does not move


def test_shipped_head_has_the_prior_and_it_changes_the_result():
    from chromatize.hints import as_hints, rasterize

    model = load_model("cnn")
    assert model.hint_head.prior == (0.1, 10.0)
    L = np.tile(np.linspace(25, 85, 96, dtype=np.float32), (64, 1))
    guide = rasterize(as_hints([{"x": 20, "y": 30, "ab": [50, 30], "size": 3}]), L.shape)
    with_prior = model.predict_ab(L, guide)
    model.hint_head.prior = None
    plain = model.predict_ab(L, guide)
    np.testing.assert_allclose(with_prior[guide.mask > 0], plain[guide.mask > 0])  # the hint itself is exact
    assert np.abs(with_prior - plain).max() > 0.5


def test_attention_numpy_matches_torch_and_respects_padding():
    rng = np.random.default_rng(0)
    heads, dim, h, w = 2, 4, 8, 12
    emb = rng.normal(size=(heads * dim, h, w)).astype(np.float32)
    beta = rng.normal(size=(h, w)).astype(np.float32)
    index = np.array([5, 40, 77], np.int64)
    residual = rng.normal(size=(3, 2)).astype(np.float32) / 5
    logw = np.log(np.array([1.0, 0.5, 0.25], np.float32))
    sigmas = np.array([3.0, 20.0], np.float32)
    edge = rng.normal(size=(h, w, 3)).astype(np.float32)
    edge_w = np.array([[0.5, 0.1, 0.0], [0.0, 0.2, 1.0]], np.float32)
    auto = rng.normal(size=(h, w, 2)).astype(np.float32) * 20
    keys = Keys(index, residual, logw)
    want = attend(emb.reshape(heads, dim, h, w), beta, keys, Reach(sigmas, 2.0, edge_w, 0.6), block=13, edge=edge,
                  auto_ab=auto)
    # torch: the same keys padded to 5 with -inf weights, every pixel a query
    pad = lambda a, v: np.concatenate([a, np.full((2,) + a.shape[1:], v, a.dtype)])[None]  # noqa: E731
    padded = Keys(torch.from_numpy(pad(index, 0)), torch.from_numpy(pad(residual, 0.0)),
                  torch.from_numpy(pad(logw, -np.inf)))

    def torch_attend(locality=None):
        got = attend_batch(torch.from_numpy(emb)[None], torch.from_numpy(beta)[None, None], padded,
                           torch.arange(h * w)[None], heads,
                           Reach(torch.from_numpy(sigmas), torch.tensor([2.0]), torch.from_numpy(edge_w), 0.6),
                           edge=torch.from_numpy(edge.transpose(2, 0, 1))[None],
                           auto=torch.from_numpy(auto.transpose(2, 0, 1) / AB_NORM)[None], locality=locality)
        return got[0].numpy().reshape(h, w, 2) * AB_NORM

    np.testing.assert_allclose(torch_attend(), want, rtol=1e-4, atol=1e-4)
    # with a locality: training (torch, per query pixel) and inference (numpy, per block) weigh each key by
    # its factor at the query's block alike
    s = QUERY_STRIDE
    near = rng.uniform(size=(3, (h // s) * (w // s))).astype(np.float32)
    near[0, -1] = 0.0  # a block the first key does not reach
    per_pixel = near.reshape(3, h // s, w // s).repeat(s, axis=1).repeat(s, axis=2).reshape(3, -1)
    local = attend(emb.reshape(heads, dim, h, w), beta, keys, Reach(sigmas, 2.0, edge_w, 0.6), edge=edge,
                   auto_ab=auto, locality=per_pixel)
    np.testing.assert_allclose(torch_attend(torch.from_numpy(pad(near, 1.0))), local, rtol=1e-4, atol=1e-4)
    assert np.abs(local - want).max() > 0.1  # the locality changed the result
    # alpha 0 spreads residuals only; alpha 1 at a pixel attending to one key alone gives that key's hinted colour
    plain = attend(emb.reshape(heads, dim, h, w), beta, keys, Reach(sigmas, 2.0, edge_w), edge=edge)
    assert np.abs(plain - want).max() > 0.1
    one = attend(np.zeros((1, 1, h, w), np.float32), np.full((h, w), -50.0, np.float32),
                 Keys(index[:1], residual[:1], logw[:1]), Reach(np.array([1e6], np.float32), alpha=1.0), auto_ab=auto)
    hinted = auto.reshape(-1, 2)[index[0]] + residual[0] * AB_NORM
    np.testing.assert_allclose(auto + one, np.broadcast_to(hinted, (h, w, 2)), atol=1e-3)
    # far from every key and with a large null logit, nothing changes
    quiet = attend(emb.reshape(heads, dim, h, w), np.full((h, w), 50.0, np.float32), keys, Reach(sigmas))
    assert np.abs(quiet).max() < 1e-6


def test_training_step_weighs_the_keys_by_the_locality(tmp_path):
    # a locality of almost no reach leaves the crop nearly as the automatic result had it: the loss of a
    # step with it differs from the loss of the same step without it
    from chromatize.models.cnn.torch_io import load_torch
    from chromatize.train.config import HintTrainConfig
    from chromatize.train.hints import _Trainer, draw_hint_batch

    photos = [cv2.cvtColor(cv2.imread(str(f)), cv2.COLOR_BGR2RGB) for f in sorted(_photos(tmp_path / "p").iterdir())]
    cfg = HintTrainConfig(batch_size=3, crop=64, long_side=128, queries=256, init_head="default")
    base, folder = load_torch(bundled_model_dir("cnn"))
    base.eval()
    step = next(i for i in range(100) if draw_hint_batch(photos, cfg, i)[2][:, 2].any(axis=(1, 2)).all())
    losses = {}
    for name, locality in (("none", None), ("tight", (0.5, 10.0, 15.0, 0.3)), ("shipped", load_model("cnn").hint_head.locality)):
        torch.manual_seed(0)
        losses[name] = _Trainer(cfg, base, folder, photos, locality).train_step(step, 0.0)
    assert losses["tight"] != pytest.approx(losses["none"], rel=1e-3)
    assert losses["shipped"] != pytest.approx(losses["tight"], rel=1e-3)


def test_attention_on_blocks_approximates_every_pixel():
    rng = np.random.default_rng(1)
    h, w = 64, 96  # reaches of 12 and 60 px: the shipped head's shortest is 7.5 px at 256
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    emb = np.stack([np.sin(yy / 18 + i) + np.cos(xx / 22 - i) for i in range(8)]).reshape(2, 4, h, w).astype(np.float32)
    beta = np.full((h, w), 1.0, np.float32)
    edge = np.stack([yy / 40, xx / 60, np.zeros_like(yy)], axis=-1)
    index = rng.choice(h * w, 6, replace=False)
    residual = rng.normal(size=(6, 2)).astype(np.float32) / 3
    keys = Keys(index, residual, np.zeros(6, np.float32))
    reach = Reach(np.array([12.0, 60.0], np.float32), edge_weights=np.full((2, 3), 0.1, np.float32))
    full = attend(emb, beta, keys, reach, edge=edge)
    assert np.abs(full).max() > 5
    for s, tol in [(2, 0.02), (4, 0.03)]:  # keys take their block's embedding too
        blocks = attend(pool(emb, s), pool(beta, s), keys, reach, edge=edge, stride=s)
        assert np.abs(blocks - full).mean() < tol * np.abs(full).mean()


def test_head_shapes_and_blocks_are_exact_means():
    net = HintHeadNet(HintHeadConfig(feat_channels=8, heads=2, dim=3, sigmas=(4, 9)))
    torch.nn.init.normal_(net.beta.weight)
    feats, x = torch.randn(2, 8, 4, 6), torch.randn(2, 1, 16, 24)
    emb, beta = net(feats, x)
    assert emb.shape == (2, 6, 16, 24) and beta.shape == (2, 1, 16, 24)
    for s in (2, 4):  # what the exported head gives: the blocks' means, computed directly
        emb_s, beta_s = net(feats, x, stride=s)
        torch.testing.assert_close(emb_s, torch.nn.functional.avg_pool2d(emb, s), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(beta_s, torch.nn.functional.avg_pool2d(beta, s), atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="alpha"):
        HintHeadConfig(alpha=1.5)


def _photos(folder, n=10, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir()
    for i in range(n):
        im = np.zeros((96, 128, 3), np.uint8)
        im[:] = rng.integers(0, 255, 3)
        cv2.circle(im, (int(rng.integers(30, 100)), 48), 30, [int(v) for v in rng.integers(0, 255, 3)], -1)
        cv2.imwrite(str(folder / f"p{i}.png"), im)
    return folder


@pytest.fixture(scope="module")
def trained_head(tmp_path_factory):
    from chromatize.train.config import HintTrainConfig
    from chromatize.train.hints import train_hint_head

    root = tmp_path_factory.mktemp("hints")
    data = _photos(root / "photos")
    cfg = HintTrainConfig(steps=4, batch_size=3, crop=64, long_side=128, val_every=2, val_split=2, val_quick=2,
                          queries=256)
    result = train_hint_head([data], root / "run", cfg)
    return root / "run", result, data


def test_training_writes_a_loadable_model_that_uses_hints(trained_head):
    run, result, data = trained_head
    assert result["step"] == 4
    lines = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines] == [2, 4] and all("psnr_10" in x for x in lines)
    model = load_model(run / "best")
    assert model.hint_head is not None
    assert model.hint_head.prior == (0.1, 10.0)  # trained with the shipped prior, and saved with it
    assert model.hint_head.locality is None  # no --init-head, no --locality: none
    assert json.loads((run / "best" / "config.json").read_text())["train_hints"]["prior_gamma"] == 0.1
    photo = next(data.iterdir())
    auto = chromatize.colorize(photo, model=model)
    base = chromatize.colorize(photo, model="cnn")
    np.testing.assert_array_equal(auto, base)  # no hints: exactly the automatic model
    hinted = chromatize.colorize(photo, model=model, hints=[{"x": 64, "y": 48, "color": "#ff0000", "size": 5}])
    assert np.abs(hinted.astype(int) - auto).mean() > 0.1
    lab = cv2.cvtColor(hinted[46:51, 62:67].astype(np.float32) / 255, cv2.COLOR_RGB2LAB)
    assert lab[..., 1].mean() > 30  # the hinted square is red


def test_onnx_head_matches_torch_head(trained_head):
    from chromatize.hints import rasterize, as_hints
    from chromatize.models.cnn.torch_io import load_torch
    from chromatize.models.cnn.hint_head import HintHead
    from chromatize.models.cnn.hint_head_net import load_head

    run, _, _ = trained_head
    onnx_model = load_model(run / "best")
    base, cfg = load_torch(run / "best")
    head = load_head(run / "best", cfg.hint_head).eval()

    def query(feats, x):
        with torch.no_grad():
            e, b = head(torch.from_numpy(feats), torch.from_numpy(x), stride=QUERY_STRIDE)
        return e.numpy(), b.numpy()

    from chromatize.models.cnn.torch_io import TorchCNN

    torch_model = TorchCNN(base.eval(), cfg)
    entry = cfg.hint_head
    assert isinstance(entry, HintHeadEntry) and entry.bin_prior is not None
    assert entry.alpha == pytest.approx(float(head.alpha.detach())) and 0 < entry.alpha < 1
    assert HintHeadEntry.from_dict(entry.to_dict(), "x") == entry  # the typed entry round-trips through JSON
    torch_model.hint_head = HintHead(query, entry)
    L = np.tile(np.linspace(20, 80, 96, dtype=np.float32), (64, 1))
    guide = rasterize(as_hints([{"x": 10, "y": 10, "ab": [30, 40], "size": 3}, {"x": 70, "y": 40, "ab": [-20, 5]}]),
                      L.shape)
    a = onnx_model.predict_ab(L, guide)
    b = torch_model.predict_ab(L, guide)
    np.testing.assert_allclose(a, b, atol=0.05)


def test_bad_hint_head_entries_are_one_line_errors(trained_head, tmp_path):
    run, _, _ = trained_head
    folder = tmp_path / "m"
    shutil.copytree(run / "best", folder)
    config = json.loads((folder / "config.json").read_text())
    edges = [[0.1, 0.1, 0.1]] * 4
    for bad, words in [({"config": {"heads": 2}, "sigmas": [1.0], "edge_weights": edges[:2]}, "sigmas"),
                       ("x", "hint_head"), ({"config": {"colour": 1}, "sigmas": [], "edge_weights": []}, "colour"),
                       ({**config["hint_head"], "edge_weights": [[-1, 0, 0]] * 4}, "edge_weights"),
                       ({**config["hint_head"], "alpha": 2}, "alpha"),
                       ({**config["hint_head"], "bin_prior": {"gamma": 0.1}}, "bin_prior"),
                       ({**config["hint_head"], "bin_prior": {"gamma": -1, "sigma": 10}}, "gamma"),
                       ({**config["hint_head"], "locality": {"tau": 64, "kappa": 10, "sigma": 15, "rho0": 0.3,
                                                             "rival": 1.5}}, "rival")]:
        (folder / "config.json").write_text(json.dumps({**config, "hint_head": bad}))
        with pytest.raises(ModelFormatError, match=words) as err:
            load_model(folder)
        assert "\n" not in str(err.value) and "config.json" in str(err.value)
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "hint_head.onnx").unlink()
    with pytest.raises(ModelFormatError, match="no hint_head.onnx"):
        load_model(folder)


def test_guide_with_mask_is_pasted_exactly(trained_head):
    run, _, _ = trained_head
    model = load_model(run / "best")
    L = np.full((64, 64), 60.0, np.float32)
    guide = Guide(np.full((64, 64, 2), (25.0, -15.0), np.float32), np.zeros((64, 64), np.float32))
    guide.mask[20:24, 30:33] = 1
    ab = model.predict_ab(L, guide)
    np.testing.assert_allclose(ab[20:24, 30:33], np.broadcast_to((25.0, -15.0), (4, 3, 2)), atol=1e-5)


def test_refining_step_is_local_and_keeps_hints(trained_head):
    run, _, _ = trained_head
    model = load_model(run / "best")
    L = np.tile(np.linspace(30, 70, 96, dtype=np.float32), (64, 1))
    guide = Guide(np.zeros((64, 96, 2), np.float32), np.zeros((64, 96), np.float32))
    guide.mask[30:33, 10:13] = 1
    guide.ab[30:33, 10:13] = (60.0, 60.0)
    model.hint_head.refine_reach = None
    plain = model.predict_ab(L, guide)
    model.hint_head.refine_reach = 4.0
    refined = model.predict_ab(L, guide)
    np.testing.assert_allclose(refined[30:33, 10:13], 60.0, atol=1e-4)
    change = np.abs(refined - plain).sum(axis=-1)
    assert change[25:38, 5:18].max() > 0.5  # around the hint the rest of its residual is spread ...
    assert change[:, 60:].max() < 0.05 * change[25:38, 5:18].max()  # ... and fades far from it


def test_geodesic_locality_stops_at_an_edge():
    from chromatize.models.cnn.hint_head import geodesic_locality

    h, w = 16, 32
    edge = np.zeros((3, h, w), np.float32)
    edge[0, :, 16:] = 5.0  # a hard seam at x = 16 (a lightness jump of 50)
    source = np.array([8 * w + 8])  # (8, 8), left of the seam
    loc = geodesic_locality(edge, source, step=4.0, tau=64.0, kappa=5.0)[0].reshape(h, w)
    assert loc[8, 8] == pytest.approx(1.0)
    # the same distance on the same side and across the seam: the seam costs (1 + 5 * 5) steps
    assert loc[8, 15] > 0.5 and loc[8, 15 + 1] < 0.2 * loc[8, 15]
    flat = geodesic_locality(np.zeros_like(edge), source, step=4.0, tau=64.0, kappa=5.0)[0].reshape(h, w)
    np.testing.assert_allclose(flat[8, 8 + 8], np.exp(-8 * 4.0 / 64.0), rtol=1e-5)  # plain distance on flat ground


def test_a_plausible_colour_travels_far_but_only_through_what_joins_it():
    from chromatize.hints import Guide
    from chromatize.models.cnn.config import HintHeadEntry
    from chromatize.models.cnn.hint_head import HintHead

    h, w = 32, 64  # a query grid of 8 x 16 cells, 16 px at 256 each
    centers = np.array([[60.0, 0.0], [-60.0, 0.0], [0.0, -60.0]], np.float32)  # red, green, blue
    entry = HintHeadEntry(HintHeadConfig(), (8.0, 24.0, 64.0, 256.0), ((0.1,) * 3,) * 4,
                          locality=(32.0, 5.0, 15.0, 0.3))
    head = HintHead(None, entry)

    def far_reach(colour, L, out):
        guide = Guide(np.zeros((h, w, 2), np.float32), np.zeros((h, w), np.float32))
        guide.mask[16, 4], guide.ab[16, 4] = 1, colour  # grid cell (4, 1)
        loc = head.key_locality(L, np.zeros((h, w, 2), np.float32), guide, out, centers)
        grid = loc[0].reshape(h // 4, w // 4)
        assert grid[4, 1] == pytest.approx(1.0, abs=1e-3)  # the hint's own cell
        return grid[4, 14]

    flat = np.full((h, w), 50, np.float32)
    red = np.zeros((3 + 2, h // 4, w // 4), np.float32)
    red[0] = 8.0  # the network is sure: red everywhere
    assert far_reach([60, 0], flat, red) > 0.75  # a colour the photo supports fills what joins it
    assert far_reach([-60, 0], flat, red) < 0.01  # one it does not stays near where it was put
    barrier = flat.copy()
    barrier[:, 28:36] = 90  # a band of another lightness across the grid ...
    red[:, :, 7:9] = 0
    red[2, :, 7:9] = 8.0  # ... that the network finds blue
    assert far_reach([60, 0], barrier, red) < 0.01  # red is plausible beyond it, but does not join the hint


def test_rival_lets_farther_hints_compete_but_not_reach_further():
    from chromatize.hints import Guide
    from chromatize.models.cnn.config import parse_locality
    from chromatize.models.cnn.hint_head import key_locality

    h, w = 32, 64
    L = np.full((h, w), 50, np.float32)
    L[:, 32:] = 90  # an edge between the two hints
    auto = np.zeros((h, w, 2), np.float32)
    guide = Guide(np.zeros((h, w, 2), np.float32), np.zeros((h, w), np.float32))
    guide.mask[16, 4], guide.ab[16, 4] = 1, (40, 0)
    one = {r: key_locality((64.0, 5.0, 15.0, 0.3, r), L, auto, guide) for r in (1.0, 0.5)}
    np.testing.assert_array_equal(one[1.0], one[0.5])  # one hint: its reach is its own
    guide.mask[16, 60], guide.ab[16, 60] = 1, (0, 40)
    own, half = (key_locality((64.0, 5.0, 15.0, 0.3, r), L, auto, guide) for r in (1.0, 0.5))
    top = own.max(axis=0)
    np.testing.assert_array_equal(half.max(axis=0), top)  # how far colour reaches: unchanged
    np.testing.assert_allclose(half, top * np.sqrt(own / top), rtol=1e-5)
    near_right = (16 // 4) * (w // 4) + 14  # a block beside the right hint
    assert own[0, near_right] < 0.001 < 0.01 < half[0, near_right] < 0.05 * half[1, near_right]  # competes, weaker
    saved_before = {"tau": 64, "kappa": 10, "sigma": 15, "rho0": 0.3}  # a config.json from before rival
    assert parse_locality(saved_before, "config.json") == (64.0, 10.0, 15.0, 0.3, 1.0)


def test_the_shipped_head_keeps_a_hint_on_its_photo():
    """Issue 20: the left halves of two sample photos side by side, a contradicting hint on the left one."""
    from chromatize.batch import sample_images
    from chromatize.guidance import Guidance
    from chromatize.hints import Hint
    from chromatize.infer import colorize_photo
    from chromatize.io import Photo, read_image

    model = load_model("cnn")
    assert model.hint_head.locality is not None
    left, right = (read_image(next(p for p in sample_images() if p.stem == s)).rgb for s in ("kodim05", "kodim23"))
    both = np.concatenate([left[:, :192], right[:, :192]], axis=1)
    auto = colorize_photo(Photo(both), model).rgb
    hint = Hint(60.0, 128.0, (20.0, -70.0), 5)  # a blue the left photo does not have there
    hinted = colorize_photo(Photo(both), model, Guidance(hints=(hint,))).rgb
    change = np.abs(hinted.astype(int) - auto.astype(int)).sum(axis=2)
    assert change[:, :192].mean() > 5 and change[:, 200:].mean() < 0.1 * change[:, :192].mean()
    from chromatize.color import rgb_to_lab

    got = rgb_to_lab(hinted[126:131, 58:63]).reshape(-1, 3)[:, 1:].mean(axis=0)
    before = rgb_to_lab(auto[126:131, 58:63]).reshape(-1, 3)[:, 1:].mean(axis=0)
    # the hinted pixels take the hint, as far as the gamut at their lightness allows
    assert np.linalg.norm(got - hint.ab) < 0.25 * np.linalg.norm(before - hint.ab)


def test_a_head_trained_from_the_shipped_one_keeps_its_locality_and_split_settings(tmp_path):
    from chromatize.train.config import HintTrainConfig
    from chromatize.train.hints import train_hint_head

    data = _photos(tmp_path / "photos")
    cfg = HintTrainConfig(steps=2, batch_size=2, crop=64, long_side=128, val_every=2, val_split=2, val_quick=2,
                          queries=64, init_head="default", mix="equal", store=str(tmp_path / "s"))
    train_hint_head([data], tmp_path / "run", cfg)
    model = load_model(tmp_path / "run" / "best")
    shipped = load_model("cnn").hint_head.locality
    assert shipped is not None and model.hint_head.locality == shipped  # validated and saved with it
    saved = json.loads((tmp_path / "run" / "best" / "config.json").read_text())["train_hints"]
    assert saved["mix"] == "equal" and any((tmp_path / "s").iterdir())  # the split settings, the store used


def test_locality_setting_reads_four_or_five_numbers_none_or_the_init_heads(tmp_path):
    from chromatize.train.config import HintTrainConfig
    from chromatize.train.hints import read_locality

    assert read_locality(HintTrainConfig()) is None  # no init head, no setting: none
    assert read_locality(HintTrainConfig(init_head=str(bundled_model_dir("cnn")))) == \
        load_model("cnn").hint_head.locality
    assert read_locality(HintTrainConfig(init_head=str(bundled_model_dir("cnn")), locality="none")) is None
    assert read_locality(HintTrainConfig(init_head="default")) == load_model("cnn").hint_head.locality
    assert read_locality(HintTrainConfig(locality=" 64, 5, 10, 0.5 ")) == (64.0, 5.0, 10.0, 0.5, 1.0)  # rival 1
    assert read_locality(HintTrainConfig(locality="64,5,10,0.5,0.25")) == (64.0, 5.0, 10.0, 0.5, 0.25)
    for bad in ("1,2,3", "a,b,c,d", "1,2,3,0.5,2", "1,2,3,0.5,-1", "1,2,3,0.5,1,1", "-1,2,3,0.5", "1,2,3,2"):
        with pytest.raises(ValueError, match="locality"):
            read_locality(HintTrainConfig(locality=bad))
    (tmp_path / "config.json").write_text("[1]")
    with pytest.raises(ValueError, match="config.json"):
        read_locality(HintTrainConfig(init_head=str(tmp_path)))
