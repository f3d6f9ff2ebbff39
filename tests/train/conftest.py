"""Fixtures of the training tests: a folder of tiny generated photos."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from conftest import make_photo


@pytest.fixture(scope="module")
def photo_dir(tmp_path_factory):
    """Twelve generated photos, 40..62 x 48 px (seeded)."""
    d = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(7)
    for i in range(12):
        Image.fromarray(make_photo(rng, 40 + 2 * i, 48)).save(d / f"p{i}.png")
    return d
