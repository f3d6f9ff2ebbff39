"""The bundled models give the outputs they gave when they were pinned (tests/data/pinned/).

The pinned PNGs were written by ``chromatize.colorize(sample, model=NAME)`` with
the bundled weights; a refactor must not change them. One 8-bit step of
difference is allowed on a few pixels: ONNX Runtime may round differently on
another CPU.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import chromatize
from chromatize.batch import sample_images

PINNED = Path(__file__).parents[1] / "data" / "pinned"
CASES = sorted(p.stem.split("_", 1) for p in PINNED.glob("*.png"))


def test_every_bundled_model_is_pinned():
    assert {m for m, _ in CASES} >= {"cnn", "mlp"}


@pytest.mark.parametrize("model, sample", CASES)
def test_bundled_model_output_is_unchanged(model, sample):
    src = next(p for p in sample_images() if p.stem == sample)
    got = chromatize.colorize(src, model=model).astype(np.int16)
    want = np.asarray(Image.open(PINNED / f"{model}_{sample}.png")).astype(np.int16)
    assert got.shape == want.shape
    diff = np.abs(got - want)
    assert diff.max() <= 1 and (diff > 0).mean() < 1e-3, f"{model} on {sample}: max diff {diff.max()}"
