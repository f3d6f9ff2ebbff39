import numpy as np
import pytest

import chromatize
from chromatize.color import rgb_to_lab
from chromatize.infer import colorize, colorize_photo, predict_ab
from chromatize.io import Photo
from chromatize.models import ModelFormatError, load_model
from chromatize.models.base import Colorizer, MeanABBaseline
from chromatize.guidance import Guidance


class HalfSize(Colorizer):
    """A toy model working at half size that returns a fixed tint, to test the plumbing."""

    name = "half"

    def work_shape(self, h, w, render_size=None):
        return (render_size or h // 2), (render_size or w // 2)

    def predict_ab(self, L):
        ab = np.zeros(L.shape + (2,), np.float32)
        ab[..., 1] = 30.0  # yellow-ish
        return ab


def test_keeps_full_resolution_L(photo):
    out = colorize(photo, HalfSize())
    assert out.shape == photo.shape and out.dtype == np.uint8
    L_in = rgb_to_lab(photo)[..., 0]
    lab_out = rgb_to_lab(out)
    assert np.abs(lab_out[..., 0] - L_in).mean() < 1.0  # L is the photo's own
    assert np.abs(lab_out[..., 2] - 30).mean() < 3.0  # the tint came through


def test_render_size_override(photo):
    L = rgb_to_lab(photo)[..., 0]
    assert predict_ab(HalfSize(), L, Guidance(render_size=8)).shape == (8, 8, 2)


def test_alpha_is_kept(photo):
    alpha = np.full(photo.shape[:2], 90, np.uint8)
    out = colorize(np.dstack([photo, alpha]), "gray")
    assert out.shape == photo.shape[:2] + (4,) and (out[..., 3] == 90).all()


def test_gray_input_array(photo):
    out = chromatize.colorize(photo[..., 0], model=MeanABBaseline(mean_ab=(10.0, 20.0)))
    ab = rgb_to_lab(out)[..., 1:]
    assert np.abs(ab.mean(axis=(0, 1)) - [10, 20]).max() < 2.0


def test_strips_give_the_same_result(photo, monkeypatch):
    import chromatize.infer as infer

    whole = colorize_photo(Photo(photo), HalfSize()).rgb
    monkeypatch.setattr(infer, "STRIP_ROWS", 5)
    assert np.array_equal(colorize_photo(Photo(photo), HalfSize()).rgb, whole)


def test_unknown_model_is_a_clear_error(tmp_path):
    with pytest.raises(ModelFormatError, match="no such model"):
        load_model("no-such-model")
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ModelFormatError, match="cannot read config"):
        load_model(tmp_path)


def test_panorama_wider_than_opencv_remap_maps(monkeypatch, photo):
    """A photo 32,767 px or wider once ended in a cv2.remap assertion; the API now answers with the full size."""
    import chromatize.infer as infer

    out = chromatize.colorize(np.full((8, 40000), 120, np.uint8), model=HalfSize())  # a*b* upsampled 2x
    assert out.shape == (8, 40000, 3)
    whole = colorize_photo(Photo(photo), HalfSize()).rgb
    monkeypatch.setattr(infer, "STRIP_COLS", 7)  # tiles of columns give the same result
    assert np.array_equal(colorize_photo(Photo(photo), HalfSize()).rgb, whole)


def test_a_named_model_is_loaded_once_and_reloaded_when_its_folder_changes(tmp_path):
    import os
    import shutil
    import threading

    from chromatize.infer import cached_model
    from chromatize.models import bundled_model_dir

    assert cached_model("mlp") is cached_model("mlp") is cached_model(str(bundled_model_dir("mlp")))
    folder = tmp_path / "m"
    shutil.copytree(bundled_model_dir("mlp"), folder)
    got = []
    threads = [threading.Thread(target=lambda: got.append(cached_model(folder))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(m is got[0] for m in got)  # thread-safe: one load for all
    config = folder / "config.json"
    os.utime(config, ns=(config.stat().st_atime_ns, config.stat().st_mtime_ns + 10**9))  # a new run wrote it
    assert cached_model(folder) is not got[0]
    gray = np.full((8, 8), 100, np.uint8)
    np.testing.assert_array_equal(chromatize.colorize(gray, "mlp"), chromatize.colorize(gray, "mlp"))
    with pytest.raises(TypeError, match="either guidance or its keywords"):
        chromatize.colorize(gray, "gray", guidance=Guidance(), saturation=2)
