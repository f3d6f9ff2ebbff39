import os

import numpy as np
import pytest
from PIL import Image

from chromatize.io import ImageReadError, OutputExistsError, as_photo, list_images, read_image, write_image


def test_reads_modes(tmp_path, photo):
    Image.fromarray(photo).save(tmp_path / "rgb.png")
    Image.fromarray(photo).convert("L").save(tmp_path / "gray.png")
    rgba = np.dstack([photo, np.full(photo.shape[:2], 77, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    Image.fromarray(photo).convert("P", palette=Image.Palette.ADAPTIVE).save(tmp_path / "pal.png")
    g16 = (np.arange(24 * 32).reshape(24, 32) * 80).astype(np.uint16)
    Image.fromarray(g16).save(tmp_path / "g16.png")

    assert np.array_equal(read_image(tmp_path / "rgb.png").rgb, photo)
    g = read_image(tmp_path / "gray.png").rgb
    assert g.shape == photo.shape and np.array_equal(g[..., 0], g[..., 2])
    p = read_image(tmp_path / "rgba.png")
    assert p.alpha is not None and (p.alpha == 77).all()
    assert read_image(tmp_path / "pal.png").rgb.shape == photo.shape
    p16 = read_image(tmp_path / "g16.png")
    assert p16.rgb.dtype == np.uint8 and p16.rgb.max() > 200  # scaled, not truncated


def test_exif_orientation_is_applied(tmp_path, photo):
    img = Image.fromarray(photo)  # 24 x 32 (H x W)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    img.save(tmp_path / "rot.jpg", exif=exif)
    assert read_image(tmp_path / "rot.jpg").rgb.shape[:2] == (32, 24)


def test_errors_are_one_line_and_name_the_file(tmp_path, photo):
    missing = tmp_path / "nope.png"
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    Image.fromarray(photo).save(tmp_path / "full.jpg")
    trunc = tmp_path / "trunc.jpg"
    trunc.write_bytes((tmp_path / "full.jpg").read_bytes()[:200])
    for path, what in [(missing, "not found"), (text, "not an image"), (trunc, "truncated"), (tmp_path, "folder")]:
        with pytest.raises(ImageReadError) as exc:
            read_image(path)
        msg = str(exc.value)
        assert str(path) in msg and what in msg and "\n" not in msg


def test_pixel_limit(tmp_path, photo):
    Image.fromarray(photo).save(tmp_path / "a.png")
    with pytest.raises(ImageReadError, match="over the limit"):
        read_image(tmp_path / "a.png", max_pixels=100)


def test_write_is_atomic_and_does_not_overwrite(tmp_path, photo):
    out = tmp_path / "sub" / "o.png"
    write_image(out, photo)
    assert np.array_equal(read_image(out).rgb, photo)
    with pytest.raises(OutputExistsError):
        write_image(out, np.zeros_like(photo))
    assert np.array_equal(read_image(out).rgb, photo)  # untouched
    write_image(out, np.zeros_like(photo), overwrite=True)
    assert read_image(out).rgb.max() == 0
    assert [p.name for p in out.parent.iterdir()] == ["o.png"]  # no temp files left


def test_failed_write_leaves_nothing(tmp_path, photo):
    with pytest.raises(ValueError, match="unknown image format"):
        write_image(tmp_path / "x.notanimage", photo)
    assert os.listdir(tmp_path) == []


def test_as_photo_arrays(photo):
    assert as_photo(photo[..., 0]).rgb.shape == photo.shape
    assert as_photo(np.dstack([photo, photo[..., :1]])).alpha is not None
    assert as_photo((photo.astype(np.uint16) * 257)).rgb.max() == photo.max()
    with pytest.raises(ValueError, match=r"\(2, 2, 5\)"):
        as_photo(np.zeros((2, 2, 5), np.uint8))


def test_list_images(image_dir):
    (image_dir / "readme.txt").write_text("x")
    files = list_images([image_dir])
    assert [f.name for f in files] == ["img0.png", "img1.jpg", "img2.png"]
