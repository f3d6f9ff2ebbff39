"""The CNN colorizer at inference time: ONNX Runtime and numpy, no torch.

The network (``chromatize.models.cnn``, trained with ``chromatize.train_cnn``)
takes normalised L at a working size that is a multiple of :data:`STRIDE` and
returns, at a quarter of that size, either two regression channels (``loss =
"l2"``) or ``n_bins`` logits over quantised a*b* plus two regression channels
(``loss = "classify"``, Zhang et al. 2016). The decoding (annealed mean at a
temperature, optionally mixed with the regression head) is done here in numpy,
so that the temperature is a knob of the loaded model, not of the network.

This module also holds what training and inference share without torch: the
normalisation constants, the a*b* bins and the class-rebalancing weights.

References
----------
.. [1] R. Zhang, P. Isola, A. A. Efros, "Colorful Image Colorization", ECCV 2016.
.. [2] S. Iizuka, E. Simo-Serra, H. Ishikawa, "Let there be Color!", SIGGRAPH 2016.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from .base import Colorizer, ModelFormatError

__all__ = [
    "L_CENT", "L_NORM", "AB_NORM", "STRIDE", "OUT_STRIDE", "GRID",
    "ab_bins", "rebalance_weights", "decode", "CNNColorizer", "load",
]

#: Input normalisation: the net sees (L - L_CENT) / L_NORM.
L_CENT = 50.0
L_NORM = 50.0
#: The regression head predicts a*b* / AB_NORM.
AB_NORM = 100.0
#: Working sizes must be multiples of the encoder's total downsampling.
STRIDE = 16
#: The net predicts at 1/OUT_STRIDE of the working size.
OUT_STRIDE = 4
#: Width of the a*b* quantisation grid (real Lab units), as in Zhang et al.
GRID = 10.0


def ab_bins(ab: np.ndarray, min_count: int = 1) -> np.ndarray:
    """The a*b* bins that occur in training data.

    Parameters
    ----------
    ab : ndarray, shape (N, 2)
        a*b* samples in real Lab units.
    min_count : int
        A bin is kept when at least this many samples fall into it.

    Returns
    -------
    centers : ndarray of float32, shape (Q, 2)
        Centres of the kept bins on a ``GRID``-unit grid, sorted.
    counts : ndarray of int64, shape (Q,)
        Samples per kept bin.
    """
    ab = np.asarray(ab, np.float32).reshape(-1, 2)
    idx = np.rint(ab / GRID).astype(np.int64)
    keys, counts = np.unique(idx, axis=0, return_counts=True)
    keep = counts >= min_count
    return (keys[keep] * GRID).astype(np.float32), counts[keep]


def rebalance_weights(centers: np.ndarray, counts: np.ndarray, lam: float = 0.5, sigma: float = 5.0) -> np.ndarray:
    """Class-rebalancing weights of Zhang et al.: rarer colours weigh more.

    The empirical bin distribution is smoothed with a Gaussian of ``sigma``
    Lab units, mixed with the uniform one (``lam``), inverted and normalised so
    that its expectation under the empirical distribution is 1.

    Returns
    -------
    w : ndarray of float32, shape (Q,)
    """
    p = counts / counts.sum()
    d2 = ((centers[:, None, :] - centers[None, :, :]) ** 2).sum(-1)
    p_s = np.exp(-d2 / (2 * sigma**2)) @ p
    p_s /= p_s.sum()
    w = 1.0 / ((1 - lam) * p_s + lam / len(p))
    w /= (w * p).sum()
    return w.astype(np.float32)


def decode(out: np.ndarray, centers: np.ndarray | None, temperature: float = 0.38, mix: float = 0.0,
           saturation: float = 1.0) -> np.ndarray:
    """Turn the network's output into a*b*.

    Parameters
    ----------
    out : ndarray of float32, shape (C, h, w)
        The net's output for one image: ``Q`` logits then 2 regression
        channels (classification model), or just the 2 regression channels.
    centers : ndarray, shape (Q, 2), or None
        Bin centres; None for a regression model.
    temperature : float
        Annealed-mean temperature in (0, 1]: 1 is the plain mean of the
        predicted distribution (muted), lower values are more saturated.
    mix : float
        Weight of the regression head in the result (0 = annealed mean only).
    saturation : float
        Chroma gain applied last (a*b* multiplied by it): > 1 counters the
        muted colours of L2 regression, which predicts a conditional mean.

    Returns
    -------
    ab : ndarray of float32, shape (h, w, 2), real Lab units
    """
    reg = np.moveaxis(out[-2:], 0, -1) * (AB_NORM * saturation)
    if centers is None or len(centers) == 0 or mix >= 1.0:
        return reg.astype(np.float32)
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    q = len(centers)
    z = out[:q].reshape(q, -1) / np.float32(temperature)  # (Q, h*w)
    z -= z.max(axis=0, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=0, keepdims=True)
    ab = (centers.T.astype(np.float32) @ z).T.reshape(out.shape[1], out.shape[2], 2) * np.float32(saturation)
    if mix > 0:
        ab = (1 - mix) * ab + mix * reg
    return ab.astype(np.float32)


def round_shape(h: int, w: int, size: int) -> tuple[int, int]:
    """(h, w) scaled so the longer side is about ``size``, each a multiple of STRIDE."""
    scale = size / max(h, w)
    return tuple(max(STRIDE, int(round(s * scale / STRIDE)) * STRIDE) for s in (h, w))


class CNNColorizer(Colorizer):
    """The CNN colorizer, run by ONNX Runtime.

    Parameters
    ----------
    onnx_path : path
        The exported network (``model.onnx``).
    config : dict
        The model's ``config.json``: ``mean_ab``, ``model`` (the network
        config), ``bins`` (for classification), ``render_size``,
        ``temperature``, ``mix``.
    threads : int
        Intra-op threads of ONNX Runtime.

    Attributes
    ----------
    temperature, mix, saturation : float
        Decoding knobs (see :func:`decode`); may be changed after loading.
        Higher saturation (or, for a classification model, lower
        temperature) = more vivid colours.
    render_size : int
        Default longer side of the working size.
    """

    def __init__(self, onnx_path: str | os.PathLike, config: dict, threads: int = 2):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # ORT raises its own exception types
            raise ModelFormatError(f"{onnx_path}: not a valid ONNX model ({str(exc).splitlines()[0]})") from None
        self.name = str(config.get("name", "cnn"))
        self.mean_ab = tuple(float(v) for v in config["mean_ab"])
        bins = config.get("bins")
        self.centers = None if not bins else np.asarray(bins, np.float32).reshape(-1, 2)
        self.render_size = int(config.get("render_size", 256))
        self.temperature = float(config.get("temperature", 0.38))
        self.mix = float(config.get("mix", 0.0))
        self.saturation = float(config.get("saturation", 1.0))
        self.input_name = self.session.get_inputs()[0].name
        n_out = (0 if self.centers is None else len(self.centers)) + 2
        shape = self.session.get_outputs()[0].shape
        if len(shape) != 4 or shape[1] != n_out:
            raise ModelFormatError(f"{onnx_path}: output shape {shape}, expected channels {n_out} from config.json")

    def work_shape(self, h: int, w: int, render_size: int | None = None) -> tuple[int, int]:
        return round_shape(h, w, int(render_size or self.render_size))

    def raw(self, L: np.ndarray) -> np.ndarray:
        """The network's output (C, h/4, w/4) for L (h, w) in 0..100."""
        x = ((np.asarray(L, np.float32) - L_CENT) / L_NORM)[None, None]
        return self.session.run(None, {self.input_name: x})[0][0]

    def predict_ab(self, L: np.ndarray) -> np.ndarray:
        if L.ndim != 2 or L.shape[0] % STRIDE or L.shape[1] % STRIDE:
            raise ValueError(f"L must be (h, w) with sides multiples of {STRIDE}, got {L.shape}")
        ab = decode(self.raw(L), self.centers, self.temperature, self.mix, self.saturation)
        return cv2.resize(ab, (L.shape[1], L.shape[0]), interpolation=cv2.INTER_LINEAR)


def load(folder: str | os.PathLike, config: dict) -> CNNColorizer:
    """Load a CNN model folder (``config.json`` + ``model.onnx``).

    Raises
    ------
    ModelFormatError
        If ``model.onnx`` is missing or does not match the config.
    """
    folder = Path(folder)
    onnx_path = folder / "model.onnx"
    if not onnx_path.is_file():
        raise ModelFormatError(f"{folder}: CNN model folder has no model.onnx")
    for key in ("mean_ab", "model"):
        if key not in config:
            raise ModelFormatError(f"{folder / 'config.json'}: CNN config has no {key!r}")
    if len(config["mean_ab"]) != 2:
        raise ModelFormatError(f"{folder / 'config.json'}: mean_ab must have 2 values")
    return CNNColorizer(onnx_path, config)
