"""Reference colours: band weights, statistics, and moving a prediction towards a reference."""

import numpy as np
import pytest

from chromatize.color import lab_to_rgb
from chromatize.transfer import BANDS, band_weights, check_strength, color_stats, match_reference, reference_stats


def test_band_weights_partition_lightness():
    L = np.linspace(-5, 105, 221, dtype=np.float32)
    w = band_weights(L)
    assert w.shape == (221, BANDS) and (w >= 0).all()
    np.testing.assert_allclose(w.sum(axis=1), 1, atol=1e-6)
    assert w[L == 0][0, 0] == 1 and w[L == 100][0, -1] == 1


def test_color_stats_per_band_and_sparse_bands_pulled_to_the_mean():
    L = np.concatenate([np.full((10, 10), 10.0), np.full((10, 10), 90.0)]).astype(np.float32)
    ab = np.zeros((20, 10, 2), np.float32)
    ab[:10] = [20, 0]  # dark: red
    ab[10:] = [0, -20]  # bright: blue
    s = color_stats(L, ab, prior=0)
    dark, bright = band_weights(np.float32(10)), band_weights(np.float32(90))
    np.testing.assert_allclose(dark @ s.means, [20, 0], atol=1e-4)
    np.testing.assert_allclose(bright @ s.means, [0, -20], atol=1e-4)
    np.testing.assert_allclose(s.overall, [10, -10])
    with_prior = color_stats(L, ab)
    mid = band_weights(np.float32(50)) @ with_prior.means  # no pixel at L = 50: the overall mean
    np.testing.assert_allclose(mid, [10, -10], atol=1e-4)


def test_match_reference_moves_the_mean_towards_the_reference(rng):
    L = (rng.random((16, 16)) * 80 + 10).astype(np.float32)
    ab = rng.normal(0, 5, (16, 16, 2)).astype(np.float32)
    warm = np.dstack([L, np.full_like(L, 35), np.full_like(L, 45)])  # an orange reference at the same lightness
    ref = reference_stats(lab_to_rgb(warm))
    before = ab.reshape(-1, 2).mean(axis=0)
    target = (band_weights(L) @ ref.means).reshape(-1, 2).mean(axis=0)  # the reference's colours at these L
    assert np.linalg.norm(target - before) > 30
    for strength, share in ((0.0, 0.0), (0.25, 0.25), (1.0, 1.0)):
        out = match_reference(L, ab, ref, strength)
        moved = out.reshape(-1, 2).mean(axis=0)
        np.testing.assert_allclose(moved, before + share * (target - before), atol=1.0)
    np.testing.assert_array_equal(match_reference(L, ab, ref, 0.0), ab)


def test_strength_is_checked():
    assert check_strength(1) == 1.0
    with pytest.raises(ValueError, match="between 0 and 1, got 1.5"):
        check_strength(1.5)
    with pytest.raises(TypeError, match="must be a number"):
        check_strength("0.5")
