"""Colorfulness (Hasler and Suesstrunk 2003): how vivid a photo is, and a prediction's share of the truth's."""

from __future__ import annotations

import numpy as np

from .fidelity import check_pair, check_rgb

__all__ = ["colorfulness", "colorfulness_ratio"]


# --- colorfulness ---------------------------------------------------------------------


def colorfulness(rgb: np.ndarray) -> float:
    """Colorfulness of Hasler and Suesstrunk (2003).

    With the signed opponent channels ``rg = R - G`` and ``yb = (R + G)/2 - B``
    (R, G, B in 0..255), means and (population) standard deviations over the
    pixels:

    .. math:: M = \\sqrt{\\sigma_{rg}^2 + \\sigma_{yb}^2} + 0.3 \\sqrt{\\mu_{rg}^2 + \\mu_{yb}^2}

    Parameters
    ----------
    rgb : ndarray of uint8, shape (H, W, 3)

    Returns
    -------
    float
        0 for a gray image; natural photos score about 15 (dull) to 110+.

    Raises
    ------
    TypeError, ValueError
        If ``rgb`` is not a uint8 (H, W, 3) array.

    References
    ----------
    .. [1] D. Hasler and S. Suesstrunk, "Measuring colourfulness in natural
       images", Proc. SPIE 5007, Human Vision and Electronic Imaging VIII,
       87-95, 2003.

    Examples
    --------
    >>> import numpy as np
    >>> colorfulness(np.full((4, 4, 3), 77, np.uint8))
    0.0
    """
    rgb = check_rgb(rgb, "rgb").astype(np.float64)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    rg = r - g
    yb = 0.5 * (r + g) - b
    sigma = np.hypot(rg.std(), yb.std())
    mu = np.hypot(rg.mean(), yb.mean())
    return float(sigma + 0.3 * mu)


def colorfulness_ratio(pred: np.ndarray, true: np.ndarray) -> float:
    """``colorfulness(pred) / colorfulness(true)``: 1 is as vivid as the truth.

    Returns ``nan`` when the truth is gray (colorfulness 0); averages over
    photos should then use ``nanmean``.

    Raises
    ------
    TypeError, ValueError
        If an input is not a uint8 (H, W, 3) array or the shapes differ.

    References
    ----------
    .. [1] D. Hasler and S. Suesstrunk, Proc. SPIE 5007, 87-95, 2003.
    """
    pred, true = check_pair(pred, true)
    return ratio(colorfulness(pred), colorfulness(true))


def ratio(c_pred: float, c_true: float) -> float:
    """``c_pred / c_true``, or ``nan`` when the truth is gray (``c_true`` 0)."""
    return c_pred / c_true if c_true > 0 else float("nan")
