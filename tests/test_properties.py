"""Property tests: ``chromatize.colorize`` on arrays of any dtype, shape and values.

The answer is the right output shape, or a ``ValueError``/``TypeError`` whose
message names the problem (the dtype, the shape, the values); never another
exception, a silent clip or a NaN turned black.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import chromatize

DTYPES = st.one_of(
    hnp.boolean_dtypes(), hnp.integer_dtypes(), hnp.unsigned_integer_dtypes(), hnp.floating_dtypes(),
    hnp.complex_number_dtypes(), st.just(np.dtype(object)), hnp.datetime64_dtypes(), st.just(np.dtype("U3")),
)
SHAPES = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=6)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def expected_error(a: np.ndarray) -> str | None:
    """What must be wrong with ``a`` (a word the message must contain), or None if it must colorize."""
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (1, 3, 4))):
        return "shape"
    if a.size == 0:
        return "empty"
    kind = a.dtype.kind
    if kind not in "biuf":
        return str(a.dtype)
    if kind == "f":
        if not np.isfinite(a.astype(np.float64)).all():
            return "NaN or infinite"
        if a.min() < -1e-6 or a.max() > 1 + 1e-6:
            return "0..1"
    if kind in "iu" and a.dtype not in (np.uint8, np.uint16) and (a.min() < 0 or a.max() > 255):
        return "0..255"
    return None


@SETTINGS
@given(hnp.arrays(DTYPES, SHAPES))
def test_any_array_colorizes_or_says_what_is_wrong(a):
    problem = expected_error(a)
    if problem is None:
        out = chromatize.colorize(a, model="gray")
        channels = 4 if a.ndim == 3 and a.shape[2] == 4 else 3
        assert out.shape == a.shape[:2] + (channels,) and out.dtype == np.uint8
        return
    with pytest.raises((ValueError, TypeError)) as exc:
        chromatize.colorize(a, model="gray")
    assert problem in str(exc.value) and "\n" not in str(exc.value)


@SETTINGS
@given(hnp.arrays(np.float32, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=8),
                  elements=st.floats(0, 1, width=32)))
def test_float_arrays_in_0_1_keep_their_lightness(a):
    out = chromatize.colorize(a, model="gray")
    assert np.abs(out[..., 0].astype(int) - np.rint(a * 255)).max() <= 1  # gray in, same gray out


@SETTINGS
@given(st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=True), st.text(max_size=3), st.none(), st.booleans()))
def test_any_render_size_is_taken_or_refused_clearly(size):
    a = np.full((6, 7), 100, np.uint8)
    ok = size is None or (isinstance(size, int) and not isinstance(size, bool) and 8 <= size <= 4096)
    if ok:
        assert chromatize.colorize(a, model="gray", render_size=size).shape == (6, 7, 3)
    else:
        with pytest.raises((ValueError, TypeError), match="render_size"):
            chromatize.colorize(a, model="gray", render_size=size)


def test_uint16_depth_comes_from_the_dtype_not_the_values():
    dark = np.full((4, 4), 255, np.uint16)  # 255 of 65535: nearly black
    assert chromatize.colorize(dark, model="gray").max() <= 1
