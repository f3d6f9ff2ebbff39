import numpy as np
import pytest
from skimage import color as skcolor

from chromatize.color import gray_to_rgb, lab_to_rgb, merge_lab, rgb_to_lab, rgb_to_lab8, split_lab


def test_rgb_to_lab_matches_scikit_image(photo):
    # scikit-image is an independent implementation of the same sRGB/D65 formulas;
    # OpenCV's float path uses a slightly different gamma approximation (< 0.3).
    ours = rgb_to_lab(photo)
    ref = skcolor.rgb2lab(photo)
    assert ours.dtype == np.float32 and ours.shape == photo.shape
    np.testing.assert_allclose(ours, ref, atol=0.3)


def test_known_values():
    white = rgb_to_lab(np.full((1, 1, 3), 255, np.uint8))[0, 0]
    np.testing.assert_allclose(white, [100, 0, 0], atol=0.01)
    # Pure sRGB red: L=53.24, a=80.09, b=67.20 (Lindbloom's calculator, D65).
    red = rgb_to_lab(np.array([[[255, 0, 0]]], np.uint8))[0, 0]
    np.testing.assert_allclose(red, [53.24, 80.09, 67.20], atol=0.05)


def test_round_trip(photo):
    back = lab_to_rgb(rgb_to_lab(photo))
    assert back.dtype == np.uint8
    assert np.abs(back.astype(int) - photo).max() <= 1


def test_lab8_is_opencv_8bit_encoding(photo):
    lab8 = rgb_to_lab8(photo)
    lab = rgb_to_lab(photo)
    assert lab8.dtype == np.uint8
    np.testing.assert_allclose(lab8[..., 0] / 255 * 100, lab[..., 0], atol=0.5)
    np.testing.assert_allclose(lab8[..., 1:].astype(float) - 128, lab[..., 1:], atol=1.0)


def test_split_merge_and_gray(photo):
    L, ab = split_lab(rgb_to_lab(photo))
    assert merge_lab(L, ab).shape == photo.shape
    g = gray_to_rgb(photo)
    assert np.abs(g[..., 0].astype(int) - g[..., 2]).max() <= 1  # neutral
    with pytest.raises(ValueError, match=r"\(4, 4\)"):
        merge_lab(np.zeros((4, 4)), np.zeros((3, 3, 2)))


def test_out_of_gamut_warns_with_count():
    lab = np.array([[[50, 127, -127]]], np.float32)
    with pytest.warns(RuntimeWarning, match="out of the sRGB gamut"):
        lab_to_rgb(lab, clip=False)


@pytest.mark.parametrize("bad", [np.zeros((4, 4)), np.zeros((4, 4, 4), np.uint8), np.zeros((2, 2, 3), np.int64)])
def test_bad_input_names_what_it_got(bad):
    with pytest.raises((ValueError, TypeError), match=r"shape|dtype"):
        rgb_to_lab(bad)
