"""The CNN colorizers at inference time: decoding and ONNX Runtime, no torch.

A CNN model folder holds ``model.onnx`` (the network), ``weights.safetensors``
(the same weights for fine-tuning in torch, :mod:`chromatize.models.cnn.torch_io`)
and ``config.json``. The network takes normalised L (``color.normalise_L``) at
a working size whose sides are multiples of its ``stride`` and returns, at a
quarter of that size, either two regression channels (a*b* / ``AB_NORM``) or
``n_bins`` logits over quantised a*b* followed by the two regression channels
(Zhang et al. 2016). The decoding (annealed mean at a temperature, mixed with
the regression head, then a chroma gain) is done here in numpy, so that it is
a setting of the model folder (:class:`~chromatize.models.cnn.config.Decoding`), not of the network.

``config.json`` is read once into a typed
:class:`~chromatize.models.cnn.config.CNNFolderConfig` (:mod:`chromatize.models.cnn.config`).

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

from ...color import AB_NORM, normalise_L
from ..base import Colorizer, ModelFormatError, check_runs, onnx_session, run_onnx
from .config import CNNFolderConfig, read_cnn_config
from .hint_head import HintHead

__all__ = ["decode", "round_shape", "NetColorizer", "CNNColorizer", "load"]

#: Largest image (pixels) on which the hint residuals of a net without hint channels are solved exactly.
HYBRID_DIRECT_PIXELS = 128 * 128


def decode(out: np.ndarray, centers: np.ndarray | None, temperature: float = 0.38, mix: float = 0.0,
           saturation: float = 1.0) -> np.ndarray:
    """Turn the network's output into a*b*.

    Parameters
    ----------
    out : ndarray of float32, shape (C, h, w)
        The net's output for one image: ``Q`` logits then 2 regression
        channels (classification model), or just the 2 regression channels.
    centers : ndarray, shape (Q, 2), or None
        Bin centres; None (or empty) for a regression model.
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


def round_shape(h: int, w: int, size: int, stride: int = 16) -> tuple[int, int]:
    """(h, w) scaled so the longer side is about ``size``, each a multiple of ``stride``."""
    scale = size / max(h, w)
    return tuple(max(stride, int(round(s * scale / stride)) * stride) for s in (h, w))


class NetColorizer(Colorizer):
    """A network colorizer: working size, decoding and upsampling; subclasses run the net (:meth:`raw`).

    Hints reach a hint-trained network (``hint_channels`` = 3) as extra input
    channels (Zhang et al. 2017: a*b* / AB_NORM and the mask; zeros = no
    hints). A network with a hint head (``hint_head`` in config.json) passes
    hints to it (:mod:`chromatize.models.cnn.hint_head`): the automatic a*b* plus
    the hints' residuals spread by learned attention. A network with neither
    takes hints by propagation: its automatic a*b* plus the hints' residuals
    spread by Levin et al.'s method (``chromatize.models.levin.propagate``).

    Parameters
    ----------
    config : CNNFolderConfig
        Mean a*b*, bins, decoding, stride and hint channels.
    """

    accepts_hints = True

    def __init__(self, config: CNNFolderConfig):
        self.config = config
        self.name = config.name
        self.mean_ab = config.mean_ab
        self.centers = config.centers if len(config.centers) else None
        self.decoding = config.decoding
        self.stride = config.stride
        self.hint_channels = config.hint_channels
        #: The learned hint propagation, when the folder has one (set by the loader).
        self.hint_head: HintHead | None = None

    @property
    def n_out(self) -> int:
        """Channels the network returns: bins (if any) then 2 regression channels."""
        return (0 if self.centers is None else len(self.centers)) + 2

    def work_shape(self, h: int, w: int, render_size: int | None = None) -> tuple[int, int]:
        return round_shape(h, w, int(render_size or self.decoding.render_size), self.stride)

    def net_input(self, L: np.ndarray, guide=None) -> np.ndarray:
        """The network's input (1, 1 + hint_channels, h, w) for L (h, w) in 0..100 and an optional guide."""
        x = normalise_L(np.asarray(L, np.float32))[None, None]  # (1, 1, h, w)
        if not self.hint_channels:
            return x
        hints = np.zeros((1, self.hint_channels) + L.shape, np.float32)
        if guide is not None:
            hints[0, :2] = np.moveaxis(guide.ab, -1, 0) / AB_NORM
            hints[0, 2] = guide.mask
        return np.concatenate([x, hints], axis=1)

    def raw(self, L: np.ndarray, guide=None) -> np.ndarray:
        """The network's output (C, h/4, w/4) for L (h, w) in 0..100 (and a guide, for a hint-trained net)."""
        raise NotImplementedError

    def raw_features(self, L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The output (C, h/4, w/4) and the decoder features (1, F, h/4, w/4) a hint head reads."""
        raise NotImplementedError

    def decode_to(self, out: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
        """The network's output (C, h/4, w/4) decoded (:attr:`decoding`) and upsampled to a*b* of ``shape`` (h, w)."""
        d = self.decoding
        ab = decode(out, self.centers, d.temperature, d.mix, d.saturation)
        return cv2.resize(ab, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)

    def bin_outputs(self, L: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        if self.centers is None:
            return None
        raw = self.raw(L)  # (Q + 2, h/4, w/4): one run serves both the decoded colour and the bins
        d = self.decoding
        ab = decode(raw, self.centers, d.temperature, d.mix, d.saturation)
        return ab, np.moveaxis(raw[: len(self.centers)], 0, -1), self.centers

    def predict_ab(self, L: np.ndarray, guide=None) -> np.ndarray:
        if L.ndim != 2 or L.shape[0] % self.stride or L.shape[1] % self.stride:
            raise ValueError(f"L must be (h, w) with sides multiples of {self.stride}, got {L.shape}")
        if guide is not None and guide.shape != L.shape:
            raise ValueError(f"guide of shape {guide.shape} for L of shape {L.shape}")
        if guide is not None and guide.empty:
            guide = None
        head = self.hint_head if guide is not None else None
        if head is not None:
            return self._with_head(head, L, guide)
        ab = self.decode_to(self.raw(L, guide if self.hint_channels else None), L.shape)
        if guide is not None and not self.hint_channels:
            from ..levin import propagate  # only when hints are given to a net that was not trained with them

            residual = (guide.ab - ab) * guide.mask[..., None]
            # the residuals are smooth corrections: an exact solve at 128x128 and the cascade above it
            # keep an edit on a 512x512 photo within the page's 300 ms (exact at 256x256: ~370 ms)
            ab = ab + propagate(L, type(guide)(residual.astype(np.float32), guide.mask),
                                max_direct_pixels=HYBRID_DIRECT_PIXELS)
        return ab

    def _with_head(self, head: HintHead, L: np.ndarray, guide) -> np.ndarray:
        """a*b* with the hint head: the prior on the bins (local to the hints' reach), then the attention."""
        out, feats = self.raw_features(L)
        auto = locality = None
        if head.locality is not None:
            auto = self.decode_to(out, L.shape)  # before any hint: what the locality's edges are read from
            locality = head.key_locality(L, auto, guide, out, self.centers)
        prior = head.prior_logits(self.centers, guide)
        if prior is not None:
            out = out.copy()
            # the prior reaches where the hints reach: the grid of the queries is the output's
            reach = 1.0 if locality is None else locality.max(axis=0).reshape(out.shape[1:])[None]  # (1, h/4, w/4)
            out[: len(prior)] += prior[:, None, None] * reach
            auto = None
        if auto is None:
            auto = self.decode_to(out, L.shape)
        return head.propagate(feats, self.net_input(L), guide, auto, locality)


class CNNColorizer(NetColorizer):
    """A CNN colorizer run by ONNX Runtime.

    Parameters
    ----------
    onnx_path : path
        The exported network (``model.onnx``).
    config : CNNFolderConfig
    threads : int
        Intra-op threads of ONNX Runtime.
    """

    def __init__(self, onnx_path: str | os.PathLike, config: CNNFolderConfig, threads: int = 2):
        super().__init__(config)
        self.onnx_path = Path(onnx_path)
        self.session = onnx_session(onnx_path, threads)
        self.input_name = self.session.get_inputs()[0].name
        outputs = self.session.get_outputs()
        shape = outputs[0].shape
        if len(shape) != 4 or shape[1] != self.n_out:
            raise ModelFormatError(f"{onnx_path}: output shape {shape}, expected channels {self.n_out} from config.json")
        self.output_name = outputs[0].name
        if config.hint_head is not None:
            if len(outputs) < 2:
                raise ModelFormatError(f"{onnx_path}: config.json has a hint head but the network returns no features")
            head_path = Path(onnx_path).parent / "hint_head.onnx"
            if not head_path.is_file():
                raise ModelFormatError(f"{head_path.parent}: config.json has a hint head but there is no hint_head.onnx")
            self.hint_head = HintHead.from_onnx(head_path, config.hint_head, threads)

    def set_threads(self, threads: int) -> None:
        self.session = onnx_session(self.onnx_path, threads, self.session.get_providers())
        if self.hint_head is not None:
            self.hint_head = HintHead.from_onnx(self.onnx_path.parent / "hint_head.onnx", self.hint_head.entry, threads)

    def raw(self, L: np.ndarray, guide=None) -> np.ndarray:
        return run_onnx(self.session, [self.output_name], {self.input_name: self.net_input(L, guide)}, self.onnx_path)[0][0]

    def raw_features(self, L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out, feats = run_onnx(self.session, None, {self.input_name: self.net_input(L)}, self.onnx_path)[:2]
        return out[0], feats


def load(folder: str | os.PathLike, config: dict) -> CNNColorizer:
    """Load a CNN model folder (``config.json`` + ``model.onnx``).

    Raises
    ------
    ModelFormatError
        If ``model.onnx`` is missing, the config is wrong or does not match the network.
    """
    folder = Path(folder)
    onnx_path = folder / "model.onnx"
    typed = read_cnn_config(config, folder / "config.json")
    if not onnx_path.is_file():
        raise ModelFormatError(f"{folder}: CNN model folder has no model.onnx")
    return check_runs(CNNColorizer(onnx_path, typed), folder)
