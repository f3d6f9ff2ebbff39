from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from chromatize.color import rgb_to_lab
from chromatize.data import list_categories, load_images, prepare_photo, seeded_split
from conftest import make_photo


def test_prepare_photo_is_the_reports_encoding(rng):
    rgb = make_photo(rng, 30, 40)
    L, ab, small = prepare_photo(rgb, 16)
    assert L.shape == (16, 16) and ab.shape == (16, 16, 2) and small.shape == (16, 16, 3)
    assert L.dtype == ab.dtype == np.float64 and 0 <= L.min() and L.max() <= 1 and 0 <= ab.min() and ab.max() <= 1
    lab = rgb_to_lab(small)  # real Lab of the same resized photo
    np.testing.assert_allclose(L * 100, lab[..., 0], atol=0.5)  # L8 = round(L * 255/100)
    np.testing.assert_allclose(ab * 255 - 128, lab[..., 1:], atol=1.0)  # a8 = round(a + 128)


def test_gray_photo_has_neutral_targets():
    _, ab, _ = prepare_photo(np.full((8, 8, 3), 90, np.uint8), 4)
    np.testing.assert_allclose(ab, 128 / 255)


def test_load_images_skips_bad_files(tmp_path, rng):
    Image.fromarray(make_photo(rng)).save(tmp_path / "a.png")
    (tmp_path / "b.jpg").write_bytes(b"junk")
    with pytest.warns(UserWarning, match="skipped 2"):
        s = load_images([tmp_path / "a.png", tmp_path / "b.jpg", tmp_path / "missing.png"], 8)
    assert len(s) == 1 and s.rgb.shape == (1, 8, 8, 3) and s.size == 8
    assert [p.name for p, _ in s.skipped] == ["b.jpg", "missing.png"]
    assert "b.jpg" in s.skipped[0][1]
    gray = s.subset([0])
    assert gray.mean_ab() == pytest.approx(tuple(s.ab.reshape(-1, 2).mean(0) * 255 - 128))


def test_seeded_split_is_disjoint_and_reproducible():
    t1, r1 = seeded_split(10, 3, np.random.default_rng(4))
    t2, r2 = seeded_split(10, 3, np.random.default_rng(4))
    np.testing.assert_array_equal(t1, t2)
    assert sorted(np.concatenate([t1, r1])) == list(range(10)) and len(t1) == 3
    with pytest.raises(ValueError):
        seeded_split(3, 4, np.random.default_rng(0))


def test_list_categories(tmp_path, rng):
    with pytest.raises(FileNotFoundError):
        list_categories(tmp_path / "nope")
    with pytest.raises(ValueError, match="one sub-folder per category"):
        list_categories(tmp_path)
    for c in ("b", "a"):
        (tmp_path / c).mkdir()
        Image.fromarray(make_photo(rng)).save(tmp_path / c / "x.png")
    (tmp_path / "empty").mkdir()
    assert list(list_categories(tmp_path)) == ["a", "b"]


def test_mean_chroma_tells_gray_from_colour():
    from chromatize.data import mean_chroma

    gray = np.full((40, 40, 3), 120, np.uint8)
    red = np.zeros((40, 40, 3), np.uint8)
    red[..., 0] = 200
    assert mean_chroma(gray) < 1 < 40 < mean_chroma(red)


def test_load_pool_holds_out_the_seeded_fifth(tmp_path, rng):
    from chromatize.pool import load_pool

    def load_split(data, long_side, val_split, seed):
        pool = load_pool(data, long_side, val_split, seed)
        assert [Path(f).name for f in pool.val_files] == [f"p{i:02d}.png" for i in val_idx[:len(pool.val)]]
        return pool.train, pool.val

    for i in range(11):
        Image.fromarray(make_photo(rng, 20 + i, 40)).save(tmp_path / f"p{i:02d}.png")
    val_idx, _ = seeded_split(11, 2, np.random.default_rng(3))
    train, val = load_split([tmp_path], 32, 200, seed=3)
    assert (len(train), len(val)) == (9, 2)  # at most a fifth is held out
    assert [v.shape[0] for v in val] == [round((20 + i) * 32 / 40) for i in val_idx]  # files are read in name order
    assert load_split([tmp_path], 32, 0, seed=3)[1] == []
    with pytest.raises(ValueError, match="need at least 2"):
        load_split([tmp_path / "p00.png"], 32, 200, seed=0)
