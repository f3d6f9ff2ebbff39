import numpy as np
import pytest

from chromatize.patches import average_pad, extract_patches


def naive_patches(L, size=5):
    """The 5x5 window of every pixel, with out-of-image places set to the mean L."""
    h, w = L.shape
    r = size // 2
    mean = L.mean()
    out = np.empty((h * w, size * size))
    for y in range(h):
        for x in range(w):
            for dy in range(-r, r + 1):
                for dx in range(-r, r + 1):
                    yy, xx = y + dy, x + dx
                    inside = 0 <= yy < h and 0 <= xx < w
                    out[y * w + x, (dy + r) * size + (dx + r)] = L[yy, xx] if inside else mean
    return out


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (6, 1), (3, 4), (9, 13)])
def test_patches_match_naive_loop(rng, shape):
    L = rng.random(shape)
    np.testing.assert_array_equal(extract_patches(L), naive_patches(L))


def test_patches_size_3(rng):
    L = rng.random((4, 5))
    np.testing.assert_array_equal(extract_patches(L, 3), naive_patches(L, 3))


def test_average_pad_border_is_image_mean(rng):
    L = rng.random((5, 6)).astype(np.float32)
    P = average_pad(L)
    assert P.shape == (9, 10) and P.dtype == np.float32
    np.testing.assert_array_equal(P[2:-2, 2:-2], L)
    border = np.ones(P.shape, bool)
    border[2:-2, 2:-2] = False
    np.testing.assert_allclose(P[border], L.mean(), rtol=1e-6)


def test_centre_of_each_patch_is_the_pixel(rng):
    L = rng.random((7, 8))
    np.testing.assert_array_equal(extract_patches(L)[:, 12], L.ravel())


@pytest.mark.parametrize("bad", [np.zeros((2, 2, 2)), np.zeros((0, 3)), np.zeros((3, 3), np.uint8)])
def test_bad_planes_raise(bad):
    with pytest.raises((ValueError, TypeError)):
        extract_patches(bad)


def test_even_patch_size_raises():
    with pytest.raises(ValueError, match="odd"):
        extract_patches(np.zeros((3, 3)), 4)
