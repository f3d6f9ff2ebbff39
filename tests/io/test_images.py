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


def test_16_bit_depth_comes_from_the_mode_not_the_values(tmp_path):
    """A dark 16-bit photo (every value <= 255) stays dark; it used to come out 257x too bright."""
    for name, value in [("dark.png", 255), ("dark.tif", 255), ("bright.png", 65535)]:
        Image.fromarray(np.full((4, 5), value, np.uint16)).save(tmp_path / name)
    assert read_image(tmp_path / "dark.png").rgb.max() == 1
    assert read_image(tmp_path / "dark.tif").rgb.max() == 1
    assert read_image(tmp_path / "bright.png").rgb.min() == 255


def test_float_files_are_0_to_1_and_nan_is_an_error(tmp_path):
    Image.fromarray(np.full((4, 5), 0.5, np.float32)).save(tmp_path / "half.tif")
    assert read_image(tmp_path / "half.tif").rgb.max() == 128
    Image.fromarray(np.full((4, 5), np.nan, np.float32)).save(tmp_path / "nan.tif")
    with pytest.raises(ImageReadError, match=r"nan\.tif: .*NaN"):
        read_image(tmp_path / "nan.tif")
    Image.fromarray(np.full((4, 5), 300.0, np.float32)).save(tmp_path / "big.tif")
    with pytest.raises(ImageReadError, match=r"big\.tif: .*0\.\.1"):
        read_image(tmp_path / "big.tif")


def test_frames_are_counted(tmp_path, photo):
    frames = [Image.fromarray(photo), Image.fromarray(255 - photo)]
    frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:])
    assert read_image(tmp_path / "a.gif").frames == 2
    Image.fromarray(photo).save(tmp_path / "one.png")
    assert read_image(tmp_path / "one.png").frames == 1


def test_empty_and_damaged_files_say_which(tmp_path, photo):
    (tmp_path / "e.png").write_bytes(b"")
    Image.fromarray(photo).save(tmp_path / "ok.png")
    data = bytearray((tmp_path / "ok.png").read_bytes())
    data[19] ^= 0xFF  # in IHDR: its CRC no longer matches
    (tmp_path / "crc.png").write_bytes(bytes(data))
    with pytest.raises(ImageReadError, match=r"e\.png: empty file"):
        read_image(tmp_path / "e.png")
    with pytest.raises(ImageReadError, match=r"crc\.png: corrupt PNG file"):
        read_image(tmp_path / "crc.png")


@pytest.mark.parametrize("array, message", [
    (np.full((3, 4), np.nan), "1[12] NaN or infinite"),
    (np.array([[0.5, np.inf]]), "1 NaN or infinite"),
    (np.full((3, 4), 2.0**40, np.float64), r"0\.\.1, got"),
    (np.full((3, 4), 2**40, np.int64), r"int64 image array values must be in 0\.\.255, got 1099511627776"),
    (np.full((3, 4), -1, np.int8), r"0\.\.255, got -1"),
    (np.zeros((0, 4), np.uint8), r"empty: shape \(0, 4\)"),
    (np.zeros((3, 0, 3), np.uint8), r"empty: shape \(3, 0, 3\)"),
    (np.zeros((3, 4, 2), np.uint8), r"shape .*got \(3, 4, 2\)"),
    (np.zeros((3,), np.uint8), r"got \(3,\)"),
    (np.zeros((3, 4), complex), "complex128"),
    (np.zeros((3, 4), object), "object"),
])
def test_bad_arrays_are_a_clear_error(array, message):
    with pytest.raises((ValueError, TypeError), match=message):
        as_photo(array)


def test_array_dtypes(photo):
    assert as_photo(np.full((2, 2), 255, np.uint16)).rgb.max() == 1  # 16-bit by dtype: dark stays dark
    assert as_photo(np.ones((2, 2), bool)).rgb.min() == 255
    assert as_photo(np.full((2, 2), 200, np.int64)).rgb.max() == 200
    assert as_photo(np.full((2, 2), 0.5, np.float16)).rgb.max() == 128
    assert as_photo(photo[..., :1]).rgb.shape == photo.shape
    with pytest.raises(ValueError, match="over the limit"):
        as_photo(np.zeros((10, 10), np.uint8), max_pixels=50)
