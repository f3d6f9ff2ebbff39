"""The old-scan degradations: round trip of the gray conversion, each kind's effect, seeding."""

from __future__ import annotations

import numpy as np
import pytest

from chromatize.color import gray_to_rgb, rgb_to_lab
from chromatize.degrade import KINDS, L_to_gray, degrade_L, gray_to_L, random_degradation

from conftest import make_photo


@pytest.fixture
def L():
    rgb = make_photo(np.random.default_rng(3), 64, 48)
    return rgb_to_lab(rgb)[..., 0]


def test_gray_conversion_matches_opencv_and_round_trips():
    rgb = make_photo(np.random.default_rng(1), 16, 16)
    gray = gray_to_rgb(rgb)  # uint8 gray with the photo's L (OpenCV's Lab)
    L = rgb_to_lab(gray)[..., 0]
    np.testing.assert_allclose(L_to_gray(L) * 255, gray[..., 0], atol=0.6)
    np.testing.assert_allclose(gray_to_L(L_to_gray(L)), L, atol=1e-3)


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_changes_L_and_strength_0_does_not(L, kind):
    out = degrade_L(L, kind, np.random.default_rng(0))
    assert out.dtype == np.float32 and out.shape == L.shape
    assert 0 <= out.min() and out.max() <= 100
    assert np.abs(out - L).mean() > 0.3
    if kind != "jpeg":  # JPEG at quality 95 still rounds
        np.testing.assert_allclose(degrade_L(L, kind, np.random.default_rng(0), strength=0), L, atol=0.05)


def test_what_each_kind_does(L):
    rng = np.random.default_rng(0)
    grad = lambda x: np.abs(np.diff(x, axis=1)).mean()  # noqa: E731
    assert grad(degrade_L(L, "blur", rng)) < 0.7 * grad(L)
    faded = degrade_L(L, "fade", rng)
    assert faded.std() < 0.7 * L.std() and faded.min() > L.min() + 10
    black = degrade_L(np.zeros((4, 4), np.float32), "fade", rng)
    np.testing.assert_allclose(L_to_gray(black), 0.08 + 0.92 * 0.5 * 0.45, atol=1e-4)
    noise = degrade_L(np.full((64, 64), 50, np.float32), "grain", rng)
    assert 0.025 < L_to_gray(noise).std() < 0.038  # sigma 8/255 = 0.031
    sepia_black = degrade_L(np.zeros((2, 2), np.float32), "sepia", rng)
    assert sepia_black.min() > 5  # a sepia print's black is a dark brown


def test_grain_is_seeded_and_blur_scales_with_px_scale(L):
    a = degrade_L(L, "grain", np.random.default_rng(5))
    b = degrade_L(L, "grain", np.random.default_rng(5))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, degrade_L(L, "grain", np.random.default_rng(6)))
    half = degrade_L(L, "blur", None, px_scale=0.5)
    assert np.abs(half - L).mean() < np.abs(degrade_L(L, "blur", None) - L).mean()


def test_random_degradation_draws_every_kind(L):
    rng = np.random.default_rng(0)
    kinds = {random_degradation(L, rng)[1] for _ in range(40)}
    assert kinds == set(KINDS)


def test_bad_input_says_what_it_got(L):
    with pytest.raises(ValueError, match="unknown degradation 'scratch'"):
        degrade_L(L, "scratch", np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"\(H, W\) array, got \(4, 4, 3\)"):
        degrade_L(np.zeros((4, 4, 3), np.float32), "blur", np.random.default_rng(0))
