"""The hint head in PyTorch: training, saving and ONNX export (see :mod:`chromatize.models.cnn.hint_head`).

Needs torch (``pip install chromatize[train]``). :class:`HintHeadNet` computes
the embedding and the null logit; :func:`attend_batch` is
:func:`chromatize.models.cnn.hint_head.attend` for a batch whose key lists are
padded to one length (padding has ``logw = -inf``) and for a chosen subset of
query pixels, so that training needs no full-size attention.
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ...io import atomic_output
from .config import HintHeadConfig, HintHeadEntry
from .hint_head import QUERY_STRIDE, Keys, Reach

__all__ = ["HintHeadNet", "attend_batch", "head_entry", "save_head", "load_head", "export_head_onnx"]


class HintHeadNet(nn.Module):
    """Decoder features (B, C, H/4, W/4) and normalised L (B, 1, H, W) -> embedding and null logit at (H, W).

    The embedding is a 1x1 convolution of the features, upsampled x4
    (bilinear), plus two small convolutions of L that sharpen it at edges; the
    null logit ``beta`` is a 1x1 convolution of the features, upsampled.
    ``stride`` 2 or 4 gives the means of their 2x2 or 4x4 blocks (the
    queries of :func:`chromatize.models.cnn.hint_head.attend` at inference),
    computed exactly at a fraction of the cost: a bilinear x4 upsampling
    averaged over 2x2 blocks is the bilinear x2 upsampling, and a 1x1
    convolution commutes with the average.
    """

    def __init__(self, config: HintHeadConfig):
        super().__init__()
        self.config = config
        c, hd = config.feat_channels, config.heads * config.dim
        self.emb = nn.Conv2d(c, hd, 1)
        self.beta = nn.Conv2d(c, 1, 1)
        self.lnet = nn.Sequential(nn.Conv2d(1, config.l_width, 3, padding=1), nn.ReLU(inplace=True),
                                  nn.Conv2d(config.l_width, hd, 1))
        self.log_sigma = nn.Parameter(torch.log(torch.tensor(config.sigmas, dtype=torch.float32)))
        #: softplus of these weigh the squared differences of lightness, a*, b* (per head); ~0.05 at first
        self.edge_raw = nn.Parameter(torch.full((config.heads, 3), -3.0))
        #: sigmoid of this is the share of a hint's own colour (``alpha`` of attend)
        self.alpha_raw = nn.Parameter(torch.tensor(_logit(config.alpha)))
        nn.init.zeros_(self.beta.weight)
        nn.init.constant_(self.beta.bias, 2.0)  # at first the automatic colour mostly stays

    @property
    def sigmas(self) -> torch.Tensor:
        return self.log_sigma.exp()

    @property
    def edge_weights(self) -> torch.Tensor:
        return F.softplus(self.edge_raw)

    @property
    def alpha(self) -> torch.Tensor:
        return torch.sigmoid(self.alpha_raw)

    def forward(self, feats: torch.Tensor, x: torch.Tensor, stride: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
        if stride not in (1, 2, 4):
            raise ValueError(f"stride must be 1, 2 or 4, got {stride}")
        half = min(stride, 2)
        up = 4.0 / half
        conv3, relu, conv1 = self.lnet
        lf = relu(conv3(x[:, :1]))
        lf = F.avg_pool2d(lf, 2) if half == 2 else lf
        e = F.interpolate(self.emb(feats), scale_factor=up, mode="bilinear", align_corners=False) + conv1(lf)
        b = F.interpolate(self.beta(feats), scale_factor=up, mode="bilinear", align_corners=False)
        if stride == 4:
            e, b = F.avg_pool2d(e, 2), F.avg_pool2d(b, 2)
        return e, b  # (B, heads * dim, H / stride, W / stride), (B, 1, H / stride, W / stride)


def attend_batch(emb: torch.Tensor, beta: torch.Tensor, keys: Keys, queries: torch.Tensor, heads: int, reach: Reach,
                 *, edge: torch.Tensor | None = None, auto: torch.Tensor | None = None,
                 locality: torch.Tensor | None = None) -> torch.Tensor:
    """:func:`chromatize.models.cnn.hint_head.attend` for a batch, at the query pixels only.

    Parameters
    ----------
    emb : (B, heads * dim, H, W)
    beta : (B, 1, H, W)
    keys : Keys of tensors, padded to one length K
        index (B, K) int64 key pixels (flat); residual (B, K, 2), a*b* / AB_NORM;
        logw (B, K), ``-inf`` marks padding.
    queries : (B, n) int64 flat pixel indices to evaluate
    heads : int
    reach : Reach of tensors
        sigmas (heads,) in units; unit (B,) length of a working pixel in
        units; edge_weights (heads, C); alpha, the share of a hint's own
        colour (see the numpy ``attend``).
    edge : (B, C, H, W) per-pixel features compared between query and key, optional
    auto : (B, 2, H, W) automatic a*b* / AB_NORM; needed with ``alpha``
    locality : (B, K, H/s * W/s) each key's factor in 0..1 at the blocks of s = QUERY_STRIDE px
        (:func:`chromatize.models.cnn.hint_head.key_locality`), optional: as in the numpy ``attend``,
        the keys' attention is multiplied by it, the null slot's is not

    Returns
    -------
    (B, n, 2) change of a*b* / AB_NORM at the query pixels.
    """
    (index, residual, logw), sigmas, unit, alpha = keys, reach.sigmas, reach.unit, reach.alpha
    b, hd, h, w = emb.shape
    dim = hd // heads
    flat = emb.reshape(b, heads, dim, h * w)
    q = torch.gather(flat, 3, queries[:, None, None, :].expand(-1, heads, dim, -1))  # (B, heads, dim, n)
    k = torch.gather(flat, 3, index[:, None, None, :].expand(-1, heads, dim, -1))  # (B, heads, dim, K)
    z = torch.einsum("bhdn,bhdk->bhnk", q, k) / math.sqrt(dim)  # (B, heads, n, K)
    qy, qx = queries // w, queries % w
    ky, kx = index // w, index % w
    d2 = ((qy[:, :, None] - ky[:, None, :]) ** 2 + (qx[:, :, None] - kx[:, None, :]) ** 2).float()  # (B, n, K)
    inv = 0.5 * (unit[:, None] / sigmas[None, :]) ** 2  # (B, heads)
    z = z - inv[:, :, None, None] * d2[:, None] + logw[:, None, None, :]
    if edge is not None:
        g = edge.reshape(b, edge.shape[1], h * w)
        gq = torch.gather(g, 2, queries[:, None, :].expand(-1, g.shape[1], -1))  # (B, C, n)
        gk = torch.gather(g, 2, index[:, None, :].expand(-1, g.shape[1], -1))  # (B, C, K)
        diff2 = (gq[:, :, :, None] - gk[:, :, None, :]) ** 2  # (B, C, n, K)
        z = z - torch.einsum("hc,bcnk->bhnk", reach.edge_weights, diff2)
    if locality is not None:
        s = QUERY_STRIDE
        cell = (qy // s) * (w // s) + qx // s  # (B, n): each query's block
        near = torch.gather(locality, 2, cell[:, None, :].expand(-1, locality.shape[1], -1))  # (B, K, n)
        z = z + torch.log(near.clamp_min(1e-30)).transpose(1, 2)[:, None]  # a factor on exp(z): a log on z
    null = torch.gather(beta.reshape(b, h * w), 1, queries)  # (B, n)
    z = torch.cat([null[:, :, None], z.permute(0, 2, 1, 3).reshape(b, queries.shape[1], -1)], dim=2)
    p = torch.softmax(z, dim=2)[:, :, 1:].reshape(b, queries.shape[1], heads, -1).sum(dim=2)  # (B, n, K)
    if auto is None:
        return p @ residual
    a = auto.reshape(b, 2, h * w)
    key_ab = torch.gather(a, 2, index[:, None, :].expand(-1, 2, -1)).transpose(1, 2)  # (B, K, 2)
    query_ab = torch.gather(a, 2, queries[:, None, :].expand(-1, 2, -1)).transpose(1, 2)  # (B, n, 2)
    return p @ (residual + alpha * key_ab) - alpha * query_ab * p.sum(dim=2, keepdim=True)


def head_entry(head: HintHeadNet, bin_prior: tuple[float, float] | None = None) -> HintHeadEntry:
    """The config entry of a torch head: its settings and learned scalars (no refining reach)."""
    return HintHeadEntry(config=head.config, sigmas=tuple(float(s) for s in head.sigmas),
                         edge_weights=tuple(tuple(row) for row in head.edge_weights.detach().tolist()),
                         alpha=float(head.alpha.detach()), bin_prior=bin_prior)


def save_head(head: HintHeadNet, folder: str | os.PathLike) -> HintHeadEntry:
    """Write ``hint_head.safetensors`` and ``hint_head.onnx`` into ``folder``; returns the config entry
    (without a refining reach or a bin prior: the caller sets those it chose)."""
    from safetensors.torch import save_file

    folder = Path(folder)
    state = {k: v.detach().cpu().contiguous() for k, v in head.state_dict().items()}
    with atomic_output(folder / "hint_head.safetensors") as tmp:
        save_file(state, str(tmp))
    export_head_onnx(head, folder / "hint_head.onnx")
    return head_entry(head)


def load_head(folder: str | os.PathLike, entry: HintHeadEntry) -> HintHeadNet:
    """The torch head of a model folder, from its ``hint_head`` config entry."""
    from safetensors.torch import load_file

    head = HintHeadNet(entry.config)
    missing, unexpected = head.load_state_dict(load_file(str(Path(folder) / "hint_head.safetensors")), strict=False)
    if unexpected or set(missing) - {"alpha_raw"}:
        raise ValueError(f"{folder}: hint_head.safetensors does not fit its config "
                         f"(missing {sorted(missing)}, unexpected {sorted(unexpected)})")
    if missing:  # a head saved before alpha existed: it spreads residuals only
        with torch.no_grad():
            head.alpha_raw.fill_(_logit(entry.alpha))
    return head


def _logit(p: float) -> float:
    """log(p / (1 - p)), p held 1e-13 inside 0..1 (the ends stay finite)."""
    p = min(max(float(p), 1e-13), 1 - 1e-13)
    return math.log(p / (1 - p))


class _Blocks(nn.Module):
    """The head at inference: outputs at the blocks that :class:`chromatize.models.cnn.hint_head.HintHead` queries."""

    def __init__(self, head: HintHeadNet):
        super().__init__()
        self.head = head

    def forward(self, feats: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.head(feats, x, stride=QUERY_STRIDE)


def export_head_onnx(head: HintHeadNet, path: str | os.PathLike, size: int = 64) -> None:
    """Export the head (eval, float32, CPU) with dynamic H and W: inputs ``features`` (1, C, H/4, W/4) and
    ``L`` (1, 1, H, W); outputs ``emb`` and ``beta`` at the queries' blocks (H, W divided by QUERY_STRIDE)."""
    was_training = head.training
    head = head.eval().cpu()
    feats = torch.zeros(1, head.config.feat_channels, size // 4, size // 4)
    x = torch.zeros(1, 1, size, size)
    axes = {"features": {2: "fh", 3: "fw"}, "L": {2: "h", 3: "w"}, "emb": {2: "qh", 3: "qw"}, "beta": {2: "qh", 3: "qw"}}
    with torch.no_grad(), warnings.catch_warnings(), atomic_output(Path(path)) as tmp:
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(_Blocks(head), (feats, x), str(tmp), dynamo=False, input_names=["features", "L"],
                          output_names=["emb", "beta"], dynamic_axes=axes, opset_version=17)
    head.train(was_training)

