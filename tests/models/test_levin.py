"""Levin et al.'s propagation: the weights against a per-pixel loop, known answers, the cascade, the model."""

import numpy as np
import pytest

from chromatize.hints import Guide, Hint, rasterize
from chromatize.models import load_model
from chromatize.models.levin import OFFSETS, LevinColorizer, levin_weights, propagate


def weights_loop(L):
    """The weights pixel by pixel, as the authors' getColorExact.m computes them (Y = L / 100)."""
    Y = L.astype(np.float64) / 100
    h, w = Y.shape
    out = np.zeros((8, h, w))
    for y in range(h):
        for x in range(w):
            nbs = [(i, y + dy, x + dx) for i, (dy, dx) in enumerate(OFFSETS) if 0 <= y + dy < h and 0 <= x + dx < w]
            if not nbs:
                continue
            vals = np.array([Y[yy, xx] for _, yy, xx in nbs])
            window = np.append(vals, Y[y, x])
            csig = np.mean((window - window.mean()) ** 2) * 0.6
            mgv = np.min((vals - Y[y, x]) ** 2)
            csig = max(csig, -mgv / np.log(0.01), 0.000002)
            g = np.exp(-((vals - Y[y, x]) ** 2) / csig)
            for (i, _, _), v in zip(nbs, g / g.sum()):
                out[i, y, x] = v
    return out


@pytest.mark.parametrize("shape", [(1, 1), (1, 6), (5, 7), (9, 4)])
def test_weights_match_the_per_pixel_loop(rng, shape):
    L = (rng.random(shape) * 100).astype(np.float32)
    L[:, : shape[1] // 2] = 40  # flat parts too: the 2e-6 floor and the 0.01 rule
    W = levin_weights(L)
    assert W.dtype == np.float32 and W.shape == (8,) + shape
    np.testing.assert_allclose(W, weights_loop(L), atol=2e-5)
    if shape != (1, 1):
        np.testing.assert_allclose(W.sum(axis=0), 1, atol=1e-5)


def two_regions(h=24, w=32):
    """Left half dark, right half bright, a sharp vertical edge; a vertical stroke in each half."""
    L = np.full((h, w), 30, np.float32)
    L[:, w // 2 :] = 75
    strokes = [Hint(4, y, (40.0, 25.0)) for y in range(4, h - 4)] + [Hint(w - 5, y, (-35.0, 30.0)) for y in range(4, h - 4)]
    return L, rasterize(strokes, (h, w))


def test_each_region_takes_its_scribbles_colour():
    L, guide = two_regions()
    ab = propagate(L, guide)
    assert ab.shape == L.shape + (2,) and ab.dtype == np.float32
    w = L.shape[1]
    np.testing.assert_allclose(ab[:, : w // 2], np.broadcast_to([40, 25], ab[:, : w // 2].shape), atol=2.0)
    np.testing.assert_allclose(ab[:, w // 2 :], np.broadcast_to([-35, 30], ab[:, w // 2 :].shape), atol=2.0)


def test_hinted_pixels_keep_their_colour_and_one_hint_fills_a_flat_photo():
    L = np.full((10, 12), 50, np.float32)
    ab = propagate(L, rasterize([Hint(3, 4, (30.0, -20.0))], L.shape))
    np.testing.assert_allclose(ab, np.broadcast_to([30, -20], ab.shape), atol=1e-3)
    L, guide = two_regions()
    ab = propagate(L, guide)
    hinted = guide.mask > 0
    np.testing.assert_array_equal(ab[hinted], guide.ab[hinted])


def test_cascade_agrees_with_the_exact_solve():
    L, guide = two_regions(64, 96)
    exact = propagate(L, guide, max_direct_pixels=10**9)
    cascade = propagate(L, guide, max_direct_pixels=16 * 24)  # 2 levels below
    assert np.abs(cascade - exact).mean() < 1.0
    np.testing.assert_array_equal(cascade[guide.mask > 0], guide.ab[guide.mask > 0])


def test_reach_lets_colours_fade_with_distance():
    L = np.full((41, 121), 50, np.float32)
    guide = rasterize([Hint(60, 20, (30.0, 0.0))], L.shape)
    a = propagate(L, guide, reach=10, max_direct_pixels=10**9)[20, :, 0]
    assert a[60] == 30 and 0 < a[100] < a[80] < a[70] < 30
    assert a[80] / a[100] == pytest.approx(np.exp(2) * np.sqrt(2), rel=0.35)  # ~ exp(-d / reach) / sqrt(d) in 2-D
    cascade = propagate(L, guide, reach=10, max_direct_pixels=21 * 61)[20, :, 0]
    assert cascade[100] < 0.2 * cascade[65]
    with pytest.raises(ValueError, match="reach must be a positive"):
        propagate(L, guide, reach=0)


def test_empty_guide_and_bad_shapes():
    L = np.full((4, 5), 50, np.float32)
    empty = Guide(np.zeros((4, 5, 2), np.float32), np.zeros((4, 5), np.float32))
    assert not propagate(L, empty).any()
    with pytest.raises(ValueError, match=r"guide of shape \(4, 5\) for L of shape \(5, 4\)"):
        propagate(L.T, empty)
    with pytest.raises(ValueError, match="L must be"):
        propagate(L[None], empty)


def test_levin_model():
    model = load_model("levin")
    assert isinstance(model, LevinColorizer) and model.name == "levin" and model.accepts_hints
    assert model.work_shape(1024, 768) == (512, 384)
    assert model.work_shape(100, 60) == (100, 60)  # never enlarged
    assert model.work_shape(1024, 768, 256) == (256, 192)
    L, guide = two_regions()
    assert not model.predict_ab(L).any()  # no hints: gray
    np.testing.assert_allclose(model.predict_ab(L, guide), propagate(L, guide))
