import json

import numpy as np
import pytest

import chromatize
from chromatize.data import prepare_photo
from chromatize.models import ModelFormatError, load_model
from chromatize.models import mlp
from chromatize.models.mlp_engines import ENGINES
from chromatize.patches import extract_patches
from conftest import make_photo


def tiny_set(rng, n=3, size=12):
    photos = [prepare_photo(make_photo(rng, 20, 16), size) for _ in range(n)]
    return np.stack([p[0] for p in photos]), np.stack([p[1] for p in photos])


def half_loss(weights, X, T):
    """Sum over pixels of E = 1/2 ||y - t||^2, straight from the forward pass."""
    y = mlp.forward(weights, X)
    return 0.5 * float(np.sum((y - T) ** 2))


@pytest.mark.parametrize("engine", ["reference", "fast"])
def test_backprop_matches_finite_differences(rng, engine):
    # With a tiny learning rate one epoch over one image moves the weights by
    # -lr * (sum of the per-pixel gradients), up to O(lr) drift: compare that
    # with central differences of the summed loss.
    L = rng.random((1, 3, 4))
    ab = rng.random((1, 3, 4, 2))
    cfg = mlp.MLPConfig(n_hidden=5, seed=7, init_scale=1.0)
    w0 = mlp.init_weights(cfg, np.random.default_rng(7))
    w0["b1"] = rng.normal(size=5)
    w0["b2"] = rng.normal(size=2)
    w = {k: v.copy() for k, v in w0.items()}
    lr = 1e-7
    ENGINES[engine](w, L, ab, np.array([0]), lr)
    X, T = extract_patches(L[0]), ab[0].reshape(-1, 2)
    eps = 1e-6
    for name in mlp.WEIGHT_NAMES:
        grad_bp = (w0[name] - w[name]) / lr
        grad_fd = np.empty_like(w0[name])
        for idx in np.ndindex(w0[name].shape):
            wp = {k: v.copy() for k, v in w0.items()}
            wm = {k: v.copy() for k, v in w0.items()}
            wp[name][idx] += eps
            wm[name][idx] -= eps
            grad_fd[idx] = (half_loss(wp, X, T) - half_loss(wm, X, T)) / (2 * eps)
        np.testing.assert_allclose(grad_bp, grad_fd, rtol=1e-4, atol=1e-6, err_msg=name)


def test_reference_and_fast_engines_agree(rng):
    L, ab = tiny_set(rng)
    out = {}
    for engine in ("reference", "fast"):
        out[engine] = mlp.fit(L, ab, mlp.MLPConfig(seed=11, epochs=2, engine=engine))
    (wr, lr_), (wf, lf) = out["reference"], out["fast"]
    assert lr_.shape == (2, 3)
    for k in mlp.WEIGHT_NAMES:
        assert np.max(np.abs(wr[k] - wf[k])) <= 1e-9
    np.testing.assert_allclose(lr_, lf, atol=1e-9)
    # and training moved the weights away from the start
    w0 = mlp.init_weights(mlp.MLPConfig(seed=11), np.random.default_rng(11))
    assert np.max(np.abs(wf["W1"] - w0["W1"])) > 1e-4


def test_seed_decides_everything(rng):
    L, ab = tiny_set(rng)
    a, la = mlp.fit(L, ab, mlp.MLPConfig(seed=1))
    b, lb = mlp.fit(L, ab, mlp.MLPConfig(seed=1))
    c, _ = mlp.fit(L, ab, mlp.MLPConfig(seed=2))
    np.testing.assert_array_equal(a["W1"], b["W1"])
    np.testing.assert_array_equal(la, lb)
    assert not np.allclose(a["W1"], c["W1"])


def test_minibatch_is_seeded_and_learns(rng):
    L, ab = tiny_set(rng, n=4)
    cfg = mlp.MLPConfig(seed=3, epochs=30, engine="minibatch", batch_size=16, lr=0.05)
    w1, l1 = mlp.fit(L, ab, cfg)
    w2, l2 = mlp.fit(L, ab, cfg)
    np.testing.assert_array_equal(w1["W2"], w2["W2"])
    assert l1[-1].mean() < l1[0].mean()


def test_predict_ab_units():
    cfg = mlp.MLPConfig(n_hidden=3)
    w = {"W1": np.zeros((3, 25)), "b1": np.zeros(3), "W2": np.zeros((2, 3)), "b2": np.array([0.0, 50.0])}
    model = mlp.MLPColorizer(w, cfg)
    ab = model.predict_ab(np.full((4, 5), 50.0, np.float32))
    assert ab.shape == (4, 5, 2) and ab.dtype == np.float32
    np.testing.assert_allclose(ab[..., 0], 0.5 * 255 - 128)  # sigmoid(0) = 0.5 -> 127.5 - 128
    np.testing.assert_allclose(ab[..., 1], 255 - 128, atol=1e-4)
    assert model.work_shape(100, 30) == (64, 64)
    assert model.work_shape(100, 30, render_size=32) == (32, 32)


def test_predict_ab_uses_l_over_100_as_l8_over_255(rng):
    cfg = mlp.MLPConfig(seed=5)
    w = mlp.init_weights(cfg, np.random.default_rng(5))
    model = mlp.MLPColorizer(w, cfg)
    L01, _, _ = prepare_photo(make_photo(rng, 16, 16), 16)
    direct = mlp.forward(w, extract_patches(L01)) * 255 - 128
    np.testing.assert_allclose(model.predict_ab((L01 * 100).astype(np.float32)).reshape(-1, 2), direct, atol=1e-3)


def trained(rng, tmp_path):
    L, ab = tiny_set(rng)
    cfg = mlp.MLPConfig(seed=4, size=12)
    w, _ = mlp.fit(L, ab, cfg)
    model = mlp.MLPColorizer(w, cfg, mean_ab=(3.5, -2.0), name="tiny")
    folder = mlp.save(model, tmp_path / "m", training={"images": 3})
    return model, folder


def test_save_load_round_trip(rng, tmp_path):
    model, folder = trained(rng, tmp_path)
    back = load_model(folder)
    assert isinstance(back, mlp.MLPColorizer)
    assert back.config == model.config and back.mean_ab == (3.5, -2.0)
    assert back.name == "m"  # a loaded model is named after its folder
    for k in mlp.WEIGHT_NAMES:
        np.testing.assert_array_equal(back.weights[k], model.weights[k])
    L = np.linspace(0, 100, 144, dtype=np.float32).reshape(12, 12)
    np.testing.assert_array_equal(back.predict_ab(L), model.predict_ab(L))
    with pytest.raises(FileExistsError):
        mlp.save(model, folder)
    mlp.save(model, folder, overwrite=True)


def test_bad_model_folders_give_clear_errors(rng, tmp_path):
    model, folder = trained(rng, tmp_path)
    wfile = folder / "weights.safetensors"
    good = wfile.read_bytes()

    wfile.write_bytes(b"not a safetensors file")
    with pytest.raises(ModelFormatError, match="weights.safetensors: cannot read weights"):
        load_model(folder)

    from safetensors.numpy import save_file
    save_file({**model.weights, "W1": np.zeros((16, 9))}, str(wfile))
    with pytest.raises(ModelFormatError, match=r"W1 has shape \(16, 9\), config needs \(16, 25\)"):
        load_model(folder)

    save_file({k: model.weights[k] for k in ("W1", "b1", "W2")}, str(wfile))
    with pytest.raises(ModelFormatError, match="missing weight.*b2"):
        load_model(folder)

    wfile.unlink()
    with pytest.raises(ModelFormatError, match="weights file missing"):
        load_model(folder)

    wfile.write_bytes(good)
    cfg = json.loads((folder / "config.json").read_text())
    cfg["config"]["n_hidden"] = "many"
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelFormatError, match="bad MLP config"):
        load_model(folder)
    with pytest.raises(ModelFormatError, match="no config.json"):
        load_model(tmp_path)


def test_bundled_mlp_colorizes_an_array(rng):
    model = load_model("mlp")
    assert isinstance(model, mlp.MLPColorizer) and model.config.size == 64
    assert all(np.isfinite(model.mean_ab))
    gray = make_photo(rng, 40, 52).mean(axis=2).astype(np.uint8)
    out = chromatize.colorize(gray, model="mlp")
    assert out.shape == (40, 52, 3) and out.dtype == np.uint8
    # colour comes from the model: not every pixel is gray any more
    assert np.abs(out.astype(int) - out.mean(axis=2, keepdims=True)).max() > 2


def test_bad_config_values_are_refused():
    with pytest.raises(ValueError, match="engine"):
        mlp.MLPConfig(engine="turbo").check()
    with pytest.raises(ValueError, match="lr"):
        mlp.MLPConfig(lr=0).check()
