"""``colornet``: the small encoder-decoder of ``cnn-small``, trained from scratch (torch).

The encoder halves the size four times (widths ``widths[0..3]`` at strides 2,
4, 8, 16, two 3x3 convolutions per level, dilated at the bottleneck); a
global-context branch (Iizuka et al. 2016) pools the whole bottleneck, passes
it through a small MLP and broadcasts it back, so every output pixel sees the
whole working image. The decoder goes back up to stride 4 with additive skip
connections and predicts there (Zhang et al. 2016 also predict at a quarter of
the input size); a*b* is then upsampled.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["CNNConfig", "ColorNet", "receptive_field", "STRIDE"]

#: Total downsampling of ColorNet's encoder: working sizes are multiples of it.
STRIDE = 16


@dataclass
class CNNConfig:
    """Settings of the network; saved in ``config.json`` under ``model``."""

    #: Channels at strides 2, 4, 8, 16.
    widths: tuple = (32, 64, 128, 256)
    #: "l2" (regress a*b*) or "classify" (Zhang's bins plus a regression head).
    loss: str = "classify"
    #: Number of a*b* bins (0 for "l2"); set from the training data.
    n_bins: int = 0
    #: Use the global-context branch.
    global_context: bool = True

    def __post_init__(self):
        self.widths = tuple(int(c) for c in self.widths)
        if self.loss not in ("l2", "classify"):
            raise ValueError(f"loss must be 'l2' or 'classify', got {self.loss!r}")
        if len(self.widths) != 4:
            raise ValueError(f"widths must have 4 values, got {self.widths}")

    @property
    def n_out(self) -> int:
        return (self.n_bins if self.loss == "classify" else 0) + 2


def conv_bn(cin: int, cout: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    """3x3 convolution, batch norm, ReLU."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride, padding=dilation, dilation=dilation, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class ColorNet(nn.Module):
    """Normalised L (B, 1, H, W) -> output (B, n_out, H/4, W/4); H, W multiples of 16."""

    #: Its name in config.json (:data:`chromatize.models.cnn.config.ARCHS`).
    arch = "colornet"
    #: Whether it has ``forward_features`` (output and decoder features), which a hint head reads.
    has_features = False
    #: Total downsampling: working sizes are multiples of it.
    stride = STRIDE
    #: Input channels after L (a ColorNet takes none).
    hint_channels = 0

    def __init__(self, config: CNNConfig):
        super().__init__()
        self.config = config
        c1, c2, c3, c4 = config.widths
        self.enc1 = nn.Sequential(conv_bn(1, c1, 2), conv_bn(c1, c1))  # /2
        self.enc2 = nn.Sequential(conv_bn(c1, c2, 2), conv_bn(c2, c2))  # /4
        self.enc3 = nn.Sequential(conv_bn(c2, c3, 2), conv_bn(c3, c3))  # /8
        self.enc4 = nn.Sequential(conv_bn(c3, c4, 2), conv_bn(c4, c4, dilation=2), conv_bn(c4, c4, dilation=2))  # /16
        if config.global_context:
            self.glob = nn.Sequential(nn.Linear(c4, c4), nn.ReLU(inplace=True), nn.Linear(c4, c4))
            self.fuse = nn.Sequential(nn.Conv2d(2 * c4, c4, 1, bias=False), nn.BatchNorm2d(c4), nn.ReLU(inplace=True))
        self.lat4 = nn.Conv2d(c4, c3, 1)
        self.dec3 = nn.Sequential(conv_bn(c3, c3), conv_bn(c3, c3))  # /8
        self.lat3 = nn.Conv2d(c3, c2, 1)
        self.dec2 = nn.Sequential(conv_bn(c2, c2), conv_bn(c2, c2))  # /4
        self.head = nn.Conv2d(c2, config.n_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e1 = self.enc1(x)  # (B, c1, H/2, W/2)
        e2 = self.enc2(e1)  # (B, c2, H/4, W/4)
        e3 = self.enc3(e2)  # (B, c3, H/8, W/8)
        e4 = self.enc4(e3)  # (B, c4, H/16, W/16)
        if self.config.global_context:
            g = self.glob(e4.mean(dim=(2, 3)))  # (B, c4)
            e4 = self.fuse(torch.cat([e4, g[:, :, None, None].expand_as(e4)], dim=1))
        d3 = self.dec3(F.interpolate(self.lat4(e4), scale_factor=2.0, mode="bilinear", align_corners=False) + e3)
        d2 = self.dec2(F.interpolate(self.lat3(d3), scale_factor=2.0, mode="bilinear", align_corners=False) + e2)
        return self.head(d2)  # (B, n_out, H/4, W/4)


def receptive_field(config: CNNConfig) -> int:
    """Receptive field (pixels of the working image) of the convolutional path alone.

    With the global-context branch every output also sees the whole image.
    """
    rf, jump = 1, 1
    layers = [(3, 2, 1), (3, 1, 1)] * 3 + [(3, 2, 1), (3, 1, 2), (3, 1, 2)]
    for k, s, d in layers:
        rf += (k - 1) * d * jump
        jump *= s
    # decoder: two 3x3 convs at stride 8 and two at stride 4 (skips do not widen it)
    rf += 2 * 2 * 8 + 2 * 2 * 4
    return rf
