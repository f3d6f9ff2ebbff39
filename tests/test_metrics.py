import math

import numpy as np
import pytest

from chromatize import metrics
from chromatize.color import gray_to_rgb, rgb_to_lab, rgb_to_lab8
from chromatize.metrics import (
    ab_l2,
    auc_ab,
    auc_ab_rebalanced,
    auc_from_errors,
    ciede2000,
    ciede2000_mean,
    colorfulness,
    colorfulness_ratio,
    compute_all,
    psnr_rgb,
    ssim_rgb,
)

# The 34 CIEDE2000 test pairs of G. Sharma, W. Wu and E. N. Dalal, "The CIEDE2000
# color-difference formula: implementation notes, supplementary test data, and
# mathematical observations", Color Research and Application 30(1), 21-30, 2005,
# Table 1: (L1, a1, b1), (L2, a2, b2), published Delta E00 (4 decimals).
SHARMA_2005 = [
    ((50.0000, 2.6772, -79.7751), (50.0000, 0.0000, -82.7485), 2.0425),
    ((50.0000, 3.1571, -77.2803), (50.0000, 0.0000, -82.7485), 2.8615),
    ((50.0000, 2.8361, -74.0200), (50.0000, 0.0000, -82.7485), 3.4412),
    ((50.0000, -1.3802, -84.2814), (50.0000, 0.0000, -82.7485), 1.0000),
    ((50.0000, -1.1848, -84.8006), (50.0000, 0.0000, -82.7485), 1.0000),
    ((50.0000, -0.9009, -85.5211), (50.0000, 0.0000, -82.7485), 1.0000),
    ((50.0000, 0.0000, 0.0000), (50.0000, -1.0000, 2.0000), 2.3669),
    ((50.0000, -1.0000, 2.0000), (50.0000, 0.0000, 0.0000), 2.3669),
    ((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0009), 7.1792),
    ((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0010), 7.1792),
    ((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0011), 7.2195),
    ((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0012), 7.2195),
    ((50.0000, -0.0010, 2.4900), (50.0000, 0.0009, -2.4900), 4.8045),
    ((50.0000, -0.0010, 2.4900), (50.0000, 0.0010, -2.4900), 4.8045),
    ((50.0000, -0.0010, 2.4900), (50.0000, 0.0011, -2.4900), 4.7461),
    ((50.0000, 2.5000, 0.0000), (50.0000, 0.0000, -2.5000), 4.3065),
    ((50.0000, 2.5000, 0.0000), (73.0000, 25.0000, -18.0000), 27.1492),
    ((50.0000, 2.5000, 0.0000), (61.0000, -5.0000, 29.0000), 22.8977),
    ((50.0000, 2.5000, 0.0000), (56.0000, -27.0000, -3.0000), 31.9030),
    ((50.0000, 2.5000, 0.0000), (58.0000, 24.0000, 15.0000), 19.4535),
    ((50.0000, 2.5000, 0.0000), (50.0000, 3.1736, 0.5854), 1.0000),
    ((50.0000, 2.5000, 0.0000), (50.0000, 3.2972, 0.0000), 1.0000),
    ((50.0000, 2.5000, 0.0000), (50.0000, 1.8634, 0.5757), 1.0000),
    ((50.0000, 2.5000, 0.0000), (50.0000, 3.2592, 0.3350), 1.0000),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((63.0109, -31.0961, -5.8663), (62.8187, -29.7946, -4.0864), 1.2630),
    ((61.2901, 3.7196, -5.3901), (61.4292, 2.2480, -4.9620), 1.8731),
    ((35.0831, -44.1164, 3.7933), (35.0232, -40.0716, 1.5901), 1.8645),
    ((22.7233, 20.0904, -46.6940), (23.0331, 14.9730, -42.5619), 2.0373),
    ((36.4612, 47.8580, 18.3852), (36.2715, 50.5065, 21.2231), 1.4146),
    ((90.8027, -2.0831, 1.4410), (91.1528, -1.6435, 0.0447), 1.4441),
    ((90.9257, -0.5406, -0.9208), (88.6381, -0.8985, -0.7239), 1.5381),
    ((6.7747, -0.2908, -2.4247), (5.8714, -0.0985, -2.2286), 0.6377),
    ((2.0776, 0.0795, -1.1350), (0.9033, -0.0636, -0.5514), 0.9082),
]


def uniform(color, h=6, w=8):
    return np.tile(np.array(color, np.uint8), (h, w, 1))


# --- CIEDE2000 ------------------------------------------------------------------------


def test_sharma_table_has_all_34_pairs():
    assert len(SHARMA_2005) == 34


@pytest.mark.parametrize("lab1, lab2, expected", SHARMA_2005)
def test_ciede2000_matches_sharma_2005(lab1, lab2, expected):
    assert float(ciede2000(lab1, lab2)) == pytest.approx(expected, abs=1e-4)


def test_ciede2000_vectorised_over_all_pairs():
    lab1 = np.array([p[0] for p in SHARMA_2005])
    lab2 = np.array([p[1] for p in SHARMA_2005])
    expected = np.array([p[2] for p in SHARMA_2005])
    got = ciede2000(lab1[None], lab2[None])[0]  # as an image of shape (1, 34)
    np.testing.assert_allclose(got, expected, atol=1e-4)


def test_ciede2000_mean_uses_rgb_to_lab(rng, photo):
    other = np.clip(photo.astype(int) + rng.integers(-30, 30, photo.shape), 0, 255).astype(np.uint8)
    expected = ciede2000(rgb_to_lab(photo), rgb_to_lab(other)).mean()
    assert ciede2000_mean(other, photo) == pytest.approx(expected, rel=1e-6)
    assert ciede2000_mean(photo, photo) == 0.0


# --- PSNR / SSIM ----------------------------------------------------------------------


def test_psnr_hand_computed():
    true = np.zeros((2, 2, 3), np.uint8)
    pred = true.copy()
    pred[0, 0, 1] = 12  # squared error 144 over 12 values: MSE = 12
    # 10 log10(255^2 / 12) = 37.33899...
    assert psnr_rgb(pred, true) == pytest.approx(37.33899, abs=1e-5)


def test_psnr_identical_is_inf(photo):
    assert psnr_rgb(photo, photo) == math.inf


def test_ssim_identity_and_difference(rng, photo):
    assert ssim_rgb(photo, photo) == pytest.approx(1.0)
    noisy = np.clip(photo.astype(int) + rng.integers(-40, 40, photo.shape), 0, 255).astype(np.uint8)
    assert ssim_rgb(noisy, photo) < 0.9


def test_ssim_small_images():
    x = uniform((10, 20, 30), 3, 5)
    assert ssim_rgb(x, x) == pytest.approx(1.0)
    with pytest.raises(ValueError, match=r"\(2, 5, 3\)"):
        ssim_rgb(uniform((1, 2, 3), 2, 5), uniform((1, 2, 3), 2, 5))


# --- the report's L2 ------------------------------------------------------------------


def test_ab_l2_hand_computed():
    c1, c2 = (200, 40, 40), (40, 90, 200)
    ab1 = rgb_to_lab8(uniform(c1, 1, 1))[0, 0, 1:].astype(float)
    ab2 = rgb_to_lab8(uniform(c2, 1, 1))[0, 0, 1:].astype(float)
    expected = np.sum(((ab1 - ab2) / 255) ** 2)
    assert ab_l2(uniform(c1), uniform(c2)) == pytest.approx(expected)
    assert 0.05 < expected < 2
    assert ab_l2(uniform(c1), uniform(c1)) == 0.0


# --- colorfulness ---------------------------------------------------------------------


def test_colorfulness_hand_computed():
    # one red and one blue pixel: rg = (255, 0), yb = (127.5, -255)
    # std = (127.5, 191.25), mean = (127.5, -63.75)
    # M = sqrt(127.5^2 + 191.25^2) + 0.3 sqrt(127.5^2 + 63.75^2) = 272.61869...
    img = np.array([[[255, 0, 0], [0, 0, 255]]], np.uint8)
    assert colorfulness(img) == pytest.approx(272.61869, abs=1e-5)


def test_colorfulness_properties(photo):
    assert colorfulness(uniform((90, 90, 90))) == 0.0
    assert colorfulness(gray_to_rgb(photo)) < 1.0  # gray up to rounding
    # a uniform colour has no spread: 0.3 * |mean opponent vector|; rg = 100, yb = 100
    assert colorfulness(uniform((200, 100, 50))) == pytest.approx(0.3 * math.hypot(100, 100))
    assert colorfulness(photo) > 10


def test_colorfulness_ratio(photo):
    assert colorfulness_ratio(photo, photo) == pytest.approx(1.0)
    assert colorfulness_ratio(gray_to_rgb(photo), photo) < 0.05
    assert math.isnan(colorfulness_ratio(photo[:, :, [0, 0, 0]].copy(), uniform((7, 7, 7), *photo.shape[:2])))


# --- AuC ------------------------------------------------------------------------------


def test_auc_from_errors_known_values():
    assert auc_from_errors(np.zeros(10)) == 1.0
    assert auc_from_errors(np.full(10, 200.0)) == 0.0
    # thresholds 0..150: an error of 37.5 passes t = 38..150, 113 of 151
    assert auc_from_errors(np.full(10, 37.5)) == pytest.approx(113 / 151)
    assert auc_from_errors(np.array([0.0, 200.0])) == pytest.approx(0.5)
    assert auc_from_errors(np.array([0.0, 200.0]), weights=np.array([3.0, 1.0])) == pytest.approx(0.75)


def test_auc_identical_is_one(photo):
    assert auc_ab(photo, photo) == 1.0
    assert auc_ab_rebalanced(photo, photo) == 1.0


def test_auc_constant_error_on_rgb():
    true, pred = uniform((200, 40, 40)), uniform((40, 90, 200))
    lab_t, lab_p = rgb_to_lab(true)[0, 0], rgb_to_lab(pred)[0, 0]
    e = float(np.hypot(*(lab_t[1:] - lab_p[1:])))
    assert 30 < e < 150
    assert auc_ab(pred, true) == pytest.approx((151 - math.ceil(e)) / 151)


def test_auc_rebalanced_counts_each_colour_equally():
    # 90 gray pixels predicted right, 10 red pixels predicted gray
    true = uniform((128, 128, 128), 10, 10)
    true[:1] = (200, 30, 30)
    pred = gray_to_rgb(true)
    err = np.hypot(*np.moveaxis(rgb_to_lab(pred)[..., 1:] - rgb_to_lab(true)[..., 1:], -1, 0))
    a_gray, a_red = auc_from_errors(err[1:]), auc_from_errors(err[:1])
    assert a_gray > 0.99 and a_red < 0.7
    plain, rebalanced = auc_ab(pred, true), auc_ab_rebalanced(pred, true)
    assert plain == pytest.approx(0.9 * a_gray + 0.1 * a_red)
    assert rebalanced == pytest.approx(0.5 * (a_gray + a_red))
    assert rebalanced < plain - 0.1


# --- compute_all and input checks -----------------------------------------------------


def test_compute_all_matches_each_function(rng, photo):
    pred = np.clip(photo.astype(int) + rng.integers(-25, 25, photo.shape), 0, 255).astype(np.uint8)
    out = compute_all(pred, photo)
    assert list(out) == list(metrics.METRICS)
    assert out["psnr_rgb"] == pytest.approx(psnr_rgb(pred, photo))
    assert out["ssim_rgb"] == pytest.approx(ssim_rgb(pred, photo))
    assert out["ciede2000_mean"] == pytest.approx(ciede2000_mean(pred, photo))
    assert out["ab_l2"] == pytest.approx(ab_l2(pred, photo))
    assert out["auc_ab"] == pytest.approx(auc_ab(pred, photo))
    assert out["auc_ab_rebalanced"] == pytest.approx(auc_ab_rebalanced(pred, photo))
    assert out["colorfulness"] == pytest.approx(colorfulness(pred))
    assert out["colorfulness_true"] == pytest.approx(colorfulness(photo))
    assert out["colorfulness_ratio"] == pytest.approx(colorfulness_ratio(pred, photo))
    assert all(isinstance(v, float) for v in out.values())


def test_compute_all_subset_and_unknown(photo):
    assert list(compute_all(photo, photo, ["auc_ab", "psnr_rgb"])) == ["psnr_rgb", "auc_ab"]
    with pytest.raises(ValueError, match="psnr"):
        compute_all(photo, photo, ["psnr"])


FUNCS = [ab_l2, psnr_rgb, ssim_rgb, ciede2000_mean, colorfulness_ratio, auc_ab, auc_ab_rebalanced, compute_all]


@pytest.mark.parametrize("fn", FUNCS)
def test_input_checks(fn, photo):
    with pytest.raises(TypeError, match="float32"):
        fn(photo.astype(np.float32), photo)
    with pytest.raises(TypeError, match="list"):
        fn(photo, photo.tolist())
    with pytest.raises(ValueError, match=r"\(24, 32\)"):
        fn(photo[..., 0], photo[..., 0])
    with pytest.raises(ValueError, match=r"\(24, 32, 4\)"):
        fn(np.dstack([photo, photo[..., :1]]), np.dstack([photo, photo[..., :1]]))
    with pytest.raises(ValueError, match=r"same shape.*\(24, 32, 3\).*\(24, 30, 3\)"):
        fn(photo, np.ascontiguousarray(photo[:, :30]))


def test_colorfulness_input_check():
    with pytest.raises(TypeError, match="int64"):
        colorfulness(np.zeros((2, 2, 3), np.int64))
    with pytest.raises(ValueError, match=r"\(2, 2\)"):
        colorfulness(np.zeros((2, 2), np.uint8))
