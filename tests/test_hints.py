"""Point hints and scribbles: parsing (good and every kind of bad), rasterizing, resizing, loading."""

import json

import numpy as np
import pytest
from PIL import Image

from chromatize.color import rgb_to_lab
from chromatize.guidance import Guidance
from chromatize.models import load_model
from chromatize.hints import (Guide, Hint, HintError, as_hints, hints_to_json, merge_guides, parse_hints,
                              rasterize, read_hints, resize_guide, scribble_guide)


def test_parse_good_forms():
    as_list = parse_hints([{"x": 3, "y": 4, "ab": [20, -10], "size": 5}, {"x": 0, "y": 0, "color": "#808080"}])
    assert as_list[0] == Hint(3.0, 4.0, (20.0, -10.0), 5)
    assert as_list[1].size == 1 and max(abs(v) for v in as_list[1].ab) < 1  # gray has a*b* ~ 0
    assert parse_hints({"hints": [{"x": 1, "y": 2, "ab": [1, 2]}]}) == [Hint(1.0, 2.0, (1.0, 2.0), 1)]
    assert parse_hints([]) == []
    # the colour of '#3a6ea5' is that of OpenCV's Lab conversion of the pixel
    a, b = rgb_to_lab(np.array([[[0x3A, 0x6E, 0xA5]]], np.uint8))[0, 0, 1:]
    assert parse_hints([{"x": 0, "y": 0, "color": "3a6ea5"}])[0].ab == pytest.approx((a, b))


def test_round_trip_through_json():
    hints = [Hint(3.0, 4.0, (20.5, -10.25), 5), Hint(7.0, 1.0, (0.0, 1.0), 1)]
    assert parse_hints(json.loads(json.dumps(hints_to_json(hints)))) == hints


@pytest.mark.parametrize("obj, expected", [
    ([{"x": 1, "y": 2, "colour": "#ffffff"}], "hint 0: unknown key(s) 'colour'"),
    ([{"x": 1, "ab": [1, 2]}], "hint 0: missing 'y'"),
    ([{"x": 1, "y": 2}], "hint 0: give exactly one of 'ab' and 'color'"),
    ([{"x": 1, "y": 2, "ab": [1, 2], "color": "#ffffff"}], "give exactly one of 'ab' and 'color'"),
    ([{"x": 1, "y": 2, "color": "blue"}], "hint 0: 'color' must be '#rrggbb'"),
    ([{"x": 1, "y": 2, "ab": [1]}], "'ab' must be [a, b]"),
    ([{"x": 1, "y": 2, "ab": [1, 200]}], "within -128..128"),
    ([{"x": 1, "y": 2, "ab": [1, "2"]}], "'ab' must be a number"),
    ([{"x": True, "y": 2, "ab": [1, 2]}], "'x' must be a number"),
    ([{"x": float("nan"), "y": 2, "ab": [1, 2]}], "'x' must be a number"),
    ([{"x": 1, "y": 2, "ab": [1, 2], "size": 0}], "'size' must be an integer"),
    ([{"x": 1, "y": 2, "ab": [1, 2], "size": 2.5}], "'size' must be an integer"),
    ([{"x": 1, "y": 2, "ab": [1, 2]}, "oops"], "hint 1: expected an object"),
    ({"points": []}, "expected a list of hints or"),
    ("not a list", "expected a list of hints, got str"),
])
def test_parse_bad_names_where_and_entry(obj, expected):
    with pytest.raises(HintError) as err:
        parse_hints(obj, "photo.json")
    msg = str(err.value)
    assert msg.startswith("photo.json: ") and expected in msg and "\n" not in msg


def test_hints_outside_the_photo_are_refused():
    parse_hints([{"x": 9, "y": 4, "ab": [0, 0]}], shape=(5, 10))
    with pytest.raises(HintError, match=r"hint 1: \(10, 4\) is outside the photo \(10x5\)"):
        parse_hints([{"x": 9, "y": 4, "ab": [0, 0]}, {"x": 10, "y": 4, "ab": [0, 0]}], shape=(5, 10))
    with pytest.raises(HintError, match="outside"):
        parse_hints([{"x": 1, "y": -1, "ab": [0, 0]}], shape=(5, 10))


def test_read_hints_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('[{"x": 1,')
    with pytest.raises(HintError, match=r"bad\.json: not a JSON hints file"):
        read_hints(bad)
    with pytest.raises(HintError, match=r"missing\.json: no such hints file"):
        read_hints(tmp_path / "missing.json")
    good = tmp_path / "good.json"
    good.write_text('{"hints": [{"x": 1, "y": 1, "ab": [5, 6], "size": 3}]}')
    assert read_hints(good) == [Hint(1.0, 1.0, (5.0, 6.0), 3)]
    with pytest.raises(HintError, match=r"good\.json: hint 0: .* outside"):
        read_hints(good, shape=(1, 1))


def test_rasterize_squares_clipped_and_later_on_top():
    g = rasterize([Hint(2, 2, (10.0, 20.0), 3), Hint(0, 0, (-5.0, 5.0), 3), Hint(3, 3, (1.0, 1.0), 1)], (6, 5))
    assert g.shape == (6, 5) and g.ab.dtype == np.float32 and g.mask.dtype == np.float32
    expected = np.zeros((6, 5), np.float32)
    expected[1:4, 1:4] = 1
    expected[0:2, 0:2] = 1
    np.testing.assert_array_equal(g.mask, expected)
    np.testing.assert_array_equal(g.ab[0, 0], [-5, 5])  # second hint, clipped at the corner
    np.testing.assert_array_equal(g.ab[1, 1], [-5, 5])  # painted over the first
    np.testing.assert_array_equal(g.ab[2, 2], [10, 20])
    np.testing.assert_array_equal(g.ab[3, 3], [1, 1])
    assert not g.ab[g.mask == 0].any()


def test_resize_guide_averages_hinted_pixels_only():
    g = rasterize([Hint(0, 0, (10.0, 20.0)), Hint(1, 1, (30.0, 0.0))], (4, 4))
    small = resize_guide(g, (2, 2))
    np.testing.assert_array_equal(small.mask, [[1, 0], [0, 0]])
    np.testing.assert_allclose(small.ab[0, 0], [20, 10])  # mean of the two hinted pixels, not diluted by the rest
    assert resize_guide(g, (4, 4)) is g
    big = resize_guide(rasterize([Hint(0, 0, (4.0, 5.0))], (2, 2)), (4, 4))
    np.testing.assert_array_equal(big.mask, np.kron([[1, 0], [0, 0]], np.ones((2, 2))))  # nearest: a sharp square


def test_scribbles_from_alpha_and_size_checked():
    rgba = np.zeros((4, 6, 4), np.uint8)
    rgba[1, 2] = [200, 30, 30, 255]
    rgba[3, 5] = [30, 200, 30, 100]  # mostly transparent: not a stroke
    g = scribble_guide(rgba, (4, 6))
    assert g.mask.sum() == 1 and g.mask[1, 2] == 1
    assert g.ab[1, 2, 0] > 30  # red: a* > 0
    with pytest.raises(HintError, match=r"strokes\.png: scribbles are 6x4, the photo is 5x4"):
        scribble_guide(rgba, (4, 5), "strokes.png")
    with pytest.raises(HintError, match="RGBA uint8"):
        scribble_guide(rgba[..., :3], (4, 6))


def test_merge_guides_second_wins():
    first = rasterize([Hint(0, 0, (1.0, 1.0), 3)], (3, 3))
    second = rasterize([Hint(2, 2, (9.0, 9.0))], (3, 3))
    m = merge_guides(first, second)
    np.testing.assert_array_equal(m.ab[2, 2], [9, 9])
    np.testing.assert_array_equal(m.ab[0, 0], [1, 1])
    assert merge_guides(None, second) is second and merge_guides(first, None) is first


def test_guidance_guide_from_every_form(tmp_path):
    shape = (8, 10)
    assert all(Guidance.build(hints=h).guide(shape) is None for h in (None, [], {"hints": []}))
    path = tmp_path / "h.json"
    path.write_text(json.dumps([{"x": 2, "y": 3, "ab": [10, -10]}]))
    for hints in (path, str(path), [Hint(2.0, 3.0, (10.0, -10.0))], [{"x": 2, "y": 3, "ab": [10, -10]}]):
        g = Guidance.build(hints=hints).guide(shape)
        assert g.mask.sum() == 1 and tuple(g.ab[3, 2]) == (10, -10)
    with pytest.raises(HintError, match="outside"):
        Guidance.build(hints=[Hint(20.0, 3.0, (1.0, 1.0))]).guide(shape)  # Hint objects are checked too
    with pytest.raises(HintError, match=r"h\.json: hint 0: .* outside"):
        Guidance.build(hints=path).guide((2, 2))  # the file is named
    strokes = np.zeros(shape + (4,), np.uint8)
    strokes[3, 2] = strokes[5, 5] = [0, 0, 255, 255]
    png = tmp_path / "strokes.png"
    Image.fromarray(strokes, "RGBA").save(png)
    g = Guidance.build(hints=[{"x": 2, "y": 3, "ab": [10, -10]}], scribbles=png).guide(shape)
    assert g.mask.sum() == 2 and tuple(g.ab[3, 2]) == (10, -10)  # the hint wins over the stroke
    assert g.ab[5, 5, 1] < -30  # blue: b* < 0
    Image.fromarray(strokes[..., :3], "RGB").save(tmp_path / "opaque.png")
    with pytest.raises(HintError, match=r"opaque\.png: scribbles need transparency"):
        Guidance.build(scribbles=tmp_path / "opaque.png")  # read once, when built
    with pytest.raises(HintError, match=r"strokes\.png: scribbles are 10x8, the photo is 10x9"):
        Guidance.build(scribbles=png).guide((9, 10))


def test_guidance_parses_once_and_checks_settings(tmp_path, monkeypatch):
    path = tmp_path / "h.json"
    path.write_text(json.dumps([{"x": 2, "y": 3, "ab": [10, -10]}]))
    g = Guidance.build(hints=path, render_size=64, saturation=0.5)
    path.unlink()  # a batch re-reads nothing: the guide comes from the parsed hints
    assert g.guide((8, 10)).mask.sum() == 1 and (g.render_size, g.saturation) == (64, 0.5)
    with pytest.raises(ValueError, match="render_size must be between 8 and"):
        Guidance.build(render_size=4)
    with pytest.raises(TypeError, match="saturation must be a number"):
        Guidance.build(saturation="x")
    with pytest.raises(ValueError, match="takes no hints"):
        Guidance.build(hints=[{"x": 1, "y": 1, "ab": [1, 1]}]).check_model(load_model("gray"))
    Guidance.build(saturation=2).check_model(load_model("gray"))  # no hints: any model


def test_as_hints_checks_format_without_a_shape():
    assert as_hints(({"x": 1e6, "y": 1e6, "ab": [0, 0]},)) == [Hint(1e6, 1e6, (0.0, 0.0), 1)]
    with pytest.raises(HintError):
        as_hints([{"x": 1}])


def test_guide_properties():
    g = Guide(np.zeros((2, 3, 2), np.float32), np.zeros((2, 3), np.float32))
    assert g.shape == (2, 3) and g.empty
