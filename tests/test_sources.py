"""Sources of training photos: names, the evaluation-set guard, mix weights, the stratified split,
held-out folders, and the memory-mapped photo store."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from chromatize.data import load_photo, seeded_split
from chromatize.photo_store import open_store, store_key
from chromatize.pool import load_pool
from chromatize.sources import check_training_data, list_sources, matches, mix_weights, split_by_source

from conftest import make_photo


@pytest.fixture(scope="module")
def pool_dir(tmp_path_factory):
    """pool/scenes (30 small photos), pool/objects/{cat,dog,cup} (4 each), and other/ (5)."""
    root = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(2)
    folders = {"pool/scenes": 30, "pool/objects/cat": 4, "pool/objects/dog": 4, "pool/objects/cup": 4, "other": 5}
    for folder, n in folders.items():
        (root / folder).mkdir(parents=True)
        for i in range(n):
            Image.fromarray(make_photo(rng, 20 + i % 5, 24)).save(root / folder / f"{i}.png")
    return root


def test_sources_and_groups_are_named_from_the_inputs(pool_dir):
    src = list_sources([pool_dir / "pool", pool_dir / "other"])
    assert sorted(set(src.sources)) == ["other", "pool/objects", "pool/scenes"]
    assert sorted(set(src.groups)) == ["other", "pool/objects/cat", "pool/objects/cup", "pool/objects/dog",
                                       "pool/scenes"]
    assert matches("objects/cat", "pool/objects/cat") and not matches("cat", "pool/objects/cup")


def test_a_category_in_the_file_name_is_a_group(tmp_path):
    (tmp_path / "caltech101").mkdir()
    for name in ("accordion__image_0001.jpg", "accordion__image_0002.jpg", "ant__image_0001.jpg"):
        Image.fromarray(make_photo(np.random.default_rng(0), 20, 20)).save(tmp_path / "caltech101" / name)
    src = list_sources([tmp_path / "caltech101"])
    assert src.groups == ["caltech101/accordion"] * 2 + ["caltech101/ant"]
    _, _, held = split_by_source(src, 5, 0, holdout=["caltech101/ant"])
    assert list(held) == [2]


@pytest.mark.parametrize("name", ["kodak24", "CBSD68", "sun_hays80", "bsds500/val"])
def test_evaluation_sets_are_refused_with_one_line(tmp_path, name):
    (tmp_path / name).mkdir(parents=True)
    Image.fromarray(make_photo(np.random.default_rng(0), 20, 20)).save(tmp_path / name / "a.png")
    with pytest.raises(ValueError, match="is an evaluation set") as e:
        list_sources([tmp_path / name])
    assert "\n" not in str(e.value)
    with pytest.raises(ValueError, match="evaluation set"):  # also inside a folder given as training data
        load_pool([tmp_path], 32, 0, 0)
    check_training_data([tmp_path / "bsds500" / "train"])  # the training halves are fine


def test_mix_weights(pool_dir):
    sources = ["a"] * 30 + ["b"] * 6 + ["c"] * 4
    p = mix_weights("equal", sources)
    shares = [p[np.asarray(sources) == s].sum() for s in "abc"]
    np.testing.assert_allclose(shares, [1 / 3] * 3)
    assert mix_weights("", sources) is None
    p = mix_weights("a=2,c=0", sources)
    np.testing.assert_allclose([p[np.asarray(sources) == s].sum() for s in "abc"], [2 / 3, 1 / 3, 0])
    with pytest.raises(ValueError, match="names no source"):
        mix_weights("zzz=1", sources)
    with pytest.raises(ValueError, match="not name=weight"):
        mix_weights("a=lots", sources)


def test_without_mix_the_split_is_the_old_seeded_split(pool_dir):
    src = list_sources([pool_dir])
    train, val, held = split_by_source(src, 7, seed=3)
    old_val, old_train = seeded_split(len(src.files), 7, np.random.default_rng(3))
    assert np.array_equal(val, old_val) and np.array_equal(train, old_train) and len(held) == 0


def test_an_equal_mix_stratifies_validation_and_holdout_folders_never_train(pool_dir):
    src = list_sources([pool_dir / "pool", pool_dir / "other"])
    train, val, held = split_by_source(src, 9, seed=0, mix="equal", holdout=["objects/cup"], holdout_groups=1)
    groups, sources = np.asarray(src.groups), np.asarray(src.sources)
    held_groups = set(groups[held])
    assert "pool/objects/cup" in held_groups and len(held_groups) == 2  # the named one and one drawn
    assert not held_groups & set(groups[train]) and not held_groups & set(groups[val])
    assert not set(train) & set(val)
    counts = {s: int(np.sum(sources[val] == s)) for s in set(sources)}
    assert counts["pool/scenes"] <= 4 and counts["other"] == 1  # not 2/3 scenes as the pool is
    assert set(sources[val[:3]]) == set(sources[val])  # any head of the split holds every source
    again = split_by_source(src, 9, seed=0, mix="equal", holdout=["objects/cup"], holdout_groups=1)
    assert all(np.array_equal(a, b) for a, b in zip((train, val, held), again))


def test_the_store_holds_the_same_pixels_and_is_reused(pool_dir, tmp_path):
    files = list_sources([pool_dir / "other"]).files + [pool_dir / "missing.png"]
    photos = open_store(files, 40, tmp_path)
    assert photos[-1] is None
    for f, p in zip(files, photos[:-1]):
        assert isinstance(p.base, np.memmap) or isinstance(p, np.memmap)
        assert np.array_equal(p, load_photo(f, 40))
    folder = tmp_path / store_key(files, 40)
    built = (folder / "photos.npy").stat().st_mtime_ns
    again = open_store(files, 40, tmp_path)
    assert (folder / "photos.npy").stat().st_mtime_ns == built and np.array_equal(again[0], photos[0])
    assert store_key(files, 48) != store_key(files, 40)
    index = json.loads((folder / "index.json").read_text())
    assert index["long_side"] == 40 and "skipped" in index["photos"][-1]


def test_a_pool_from_the_store_equals_one_decoded(pool_dir, tmp_path):
    kw = dict(mix="sqrt", holdout_groups=1)
    a = load_pool([pool_dir], 32, 6, 1, **kw)
    b = load_pool([pool_dir], 32, 6, 1, store=tmp_path, **kw)
    for x, y in zip(a.train + a.val + a.holdout, b.train + b.val + b.holdout):
        assert np.array_equal(x, y)
    assert a.val_sources == b.val_sources and len(a.holdout) > 0
