import numpy as np
import pytest

from chromatize.color import rgb_to_lab
from chromatize.models import load_model
from chromatize.models.cnn import CNNFolderConfig, Decoding, NetColorizer
from chromatize.suggest import (
    MERGE_AB,
    build_color_table,
    suggest_colors,
    training_colors,
)


class BinsNet(NetColorizer):
    """A classification 'network' whose logits favour bin 2 on the left half and bin 0 on the right."""

    def __init__(self):
        centers = np.array([[40.0, 40.0], [45.0, 45.0], [-30.0, 20.0], [0.0, -50.0]], np.float32)
        super().__init__(CNNFolderConfig(mean_ab=(0.0, 0.0), centers=centers, model={}, stride=16,
                                         decoding=Decoding(render_size=64, temperature=1.0)))

    def raw(self, L, guide=None):
        h, w = L.shape[0] // 4, L.shape[1] // 4
        out = np.zeros((6, h, w), np.float32)
        out[2, :, : w // 2] = 6.0
        out[0, :, w // 2 :] = 3.0
        out[1, :, w // 2 :] = 2.9  # close to bin 0: merged into it
        return out


def test_bins_suggest_the_probable_colours_at_the_pixel(photo):
    photo = np.repeat(np.repeat(photo, 2, axis=0), 2, axis=1)  # 48 x 64
    _, left = suggest_colors(photo, BinsNet(), 3, 20)
    bins = [s for s in left if s.source == "bins"]
    assert bins[0].ab == (-30.0, 20.0) and bins[0].weight > 0.9
    _, right = suggest_colors(photo, BinsNet(), 60, 20)
    bins = [s for s in right if s.source == "bins"]
    assert bins[0].ab == (40.0, 40.0)
    e0, e1 = np.exp(3.0), np.exp(2.9)
    assert bins[0].weight == pytest.approx((e0 + e1) / (e0 + e1 + 2), abs=1e-3)  # bin 1 merged into bin 0
    assert all(np.hypot(a.ab[0] - b.ab[0], a.ab[1] - b.ab[1]) >= MERGE_AB for a in bins for b in bins if a is not b)
    assert right[0].source == "model" and [s.source for s in right].index("training") > 1


def test_regression_models_offer_their_colour_and_the_training_colours(photo):
    L, colors = suggest_colors(photo, load_model("cnn-small"), 10, 5)
    assert colors[0].source == "model" and {c.source for c in colors[1:]} == {"training"}
    assert 0 <= L <= 100
    # every colour is shown at the pixel's lightness
    for c in colors:
        rgb = np.array([[[int(c.hex[i : i + 2], 16) for i in (1, 3, 5)]]], np.uint8)
        assert abs(rgb_to_lab(rgb)[0, 0, 0] - L) < 6 or max(abs(v) for v in c.ab) > 40  # gamut clipping aside


def test_point_is_checked(photo):
    model = load_model("gray")
    with pytest.raises(ValueError, match="outside the photo"):
        suggest_colors(photo, model, 32, 0)
    with pytest.raises(TypeError, match="x must be a number"):
        suggest_colors(photo, model, "3", 0)
    with pytest.raises(TypeError, match="RGB uint8"):
        suggest_colors(photo[..., 0], model, 3, 0)


def test_the_shipped_table_holds_distinct_colours_per_band():
    table = training_colors()
    assert len(table["bands"]) == 10 and table["photos"] > 1000
    for band in table["bands"]:
        assert band and all(len(c) == 3 for c in band)
        shares = [c[2] for c in band]
        assert sum(shares) <= 1.0001
        for i, a in enumerate(band):
            for b in band[i + 1 :]:
                assert np.hypot(a[0] - b[0], a[1] - b[1]) >= MERGE_AB


def test_build_color_table_counts_the_photos_colours(tmp_path):
    from PIL import Image

    red = np.zeros((16, 16, 3), np.uint8)
    red[..., 0] = 200
    Image.fromarray(red).save(tmp_path / "red.png")
    Image.fromarray(np.full((16, 16, 3), 90, np.uint8)).save(tmp_path / "gray.png")  # skipped: no colour
    (tmp_path / "bad.png").write_bytes(b"nope")
    table = build_color_table(sorted(tmp_path.iterdir()))
    assert table["photos"] == 1
    L, a, b = rgb_to_lab(red)[0, 0]
    band = table["bands"][int(L // 10)]
    assert band[0][2] == 1.0 and abs(band[0][0] - a) <= 5 and abs(band[0][1] - b) <= 5


def test_the_default_cnn_offers_its_probable_bins(photo):
    _, colors = suggest_colors(photo, load_model("cnn"), 10, 5)
    sources = [c.source for c in colors]
    assert sources[0] == "model" and "bins" in sources and "training" in sources
    weights = [c.weight for c in colors if c.source == "bins"]
    assert all(w > 0 for w in weights) and sum(weights) <= 1 + 1e-6  # probabilities of merged bins
