"""The CNN colorizer in PyTorch: network, losses, weights I/O, ONNX export, torch colorizer.

Needs torch (``pip install chromatize[train]``); inference uses
``chromatize.models.cnn`` (ONNX Runtime) instead. :class:`TorchCNN` runs the
torch network behind the same base class as the ONNX colorizer, so training
validates exactly what will ship.

The network is a small encoder-decoder. The encoder halves the size four times
(widths ``widths[0..3]`` at strides 2, 4, 8, 16, two 3x3 convolutions per level,
dilated at the bottleneck); a global-context branch (Iizuka et al. 2016) pools
the whole bottleneck, passes it through a small MLP and broadcasts it back, so
every output pixel sees the whole working image. The decoder goes back up to
stride 4 with additive skip connections and predicts there (Zhang et al. 2016
also predict at a quarter of the input size); a*b* is then upsampled.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

import numpy as np

from ..color import AB_NORM
from ..io.atomic import atomic_output
from ..text import one_line
from .base import ModelFormatError, read_config, write_config
from .cnn import OUT_STRIDE, CNNFolderConfig, Decoding, NetColorizer, read_cnn_config

__all__ = [
    "CNNConfig", "ColorNet", "TorchCNN", "soft_encode", "loss_fn", "save_model", "load_torch", "export_onnx",
    "receptive_field", "folder_config", "build_net", "arch_of", "STRIDE",
]

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

    #: Total downsampling: working sizes are multiples of it.
    stride = STRIDE

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


def soft_encode(ab: torch.Tensor, centers: torch.Tensor, sigma: float = 5.0, k: int = 5) -> torch.Tensor:
    """Soft targets of Zhang et al.: Gaussian weights on the k nearest bins.

    ab (B, 2, h, w) real units, centers (Q, 2) -> (B, Q, h, w), summing to 1.
    """
    b, _, h, w = ab.shape
    flat = ab.permute(0, 2, 3, 1).reshape(-1, 2)  # (N, 2)
    d2 = torch.cdist(flat, centers).pow(2)  # (N, Q)
    k = min(k, centers.shape[0])
    dk, ik = d2.topk(k, dim=1, largest=False)
    wk = torch.softmax(-dk / (2 * sigma**2), dim=1)
    q = torch.zeros_like(d2).scatter_(1, ik, wk)
    return q.reshape(b, h, w, -1).permute(0, 3, 1, 2)


def loss_fn(out: torch.Tensor, ab: torch.Tensor, centers=None, class_w=None, reg_weight: float = 1.0,
            reg_loss: str = "l2") -> torch.Tensor:
    """Training loss for a batch.

    Parameters
    ----------
    out : (B, n_out, h, w) network output: ``Q`` logits (if ``n_out > 2``) then 2 regression channels
    ab : (B, 2, h, w) target a*b* (real units) at the output size
    centers, class_w : (Q, 2), (Q,) bins and rebalancing weights (classification)
    reg_weight : weight of the regression head next to the cross entropy
    reg_loss : "l2" (mean squared error) or "l1" (mean absolute error) on a*b* / AB_NORM

    Returns
    -------
    loss : scalar tensor
    """
    if reg_loss not in ("l1", "l2"):
        raise ValueError(f"reg_loss must be 'l1' or 'l2', got {reg_loss!r}")
    target = ab / AB_NORM
    reg = F.mse_loss(out[:, -2:], target) if reg_loss == "l2" else F.l1_loss(out[:, -2:], target)
    n_bins = out.shape[1] - 2
    if n_bins == 0:
        return reg
    q = soft_encode(ab, centers)  # (B, Q, h, w)
    logp = F.log_softmax(out[:, :n_bins], dim=1)
    ce = -(q * logp).sum(1)  # (B, h, w)
    if class_w is not None:
        ce = ce * class_w[q.argmax(1)]
    return ce.mean() + reg_weight * reg * 10.0


def build_net(arch: str, config: dict) -> nn.Module:
    """A network of a given architecture from its saved config dict.

    Raises
    ------
    ValueError
        If the architecture is unknown or the config does not fit it.
    """
    if arch == "colornet":
        return ColorNet(CNNConfig(**config))
    if arch == "effnet":
        from .effnet_torch import EffUNet, EffUNetConfig

        return EffUNet(EffUNetConfig(**config))
    raise ValueError(f"unknown architecture {arch!r} (known: colornet, effnet)")


def arch_of(model: nn.Module) -> str:
    """The architecture name saved in config.json for a network."""
    return "colornet" if isinstance(model, ColorNet) else "effnet"


def save_model(model: nn.Module, folder: str | os.PathLike, config: CNNFolderConfig) -> None:
    """Write weights.safetensors and config.json (family cnn) into ``folder``.

    ``config`` gives everything but the network's own settings, which come from ``model.config``.
    """
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    with atomic_output(folder / "weights.safetensors") as tmp:
        save_file(state, str(tmp))
    write_config(folder, {
        **config.extra, "family": "cnn", "name": config.name, "mean_ab": list(config.mean_ab),
        "bins": config.centers.tolist(), "decoding": asdict(config.decoding), "stride": model.stride,
        "hint_channels": getattr(model.config, "extra_in", 0), "arch": arch_of(model), "model": asdict(model.config),
    })


def load_torch(folder: str | os.PathLike) -> tuple[nn.Module, CNNFolderConfig]:
    """Rebuild the torch network of a CNN model folder from its config and weights.

    Raises
    ------
    ModelFormatError
        If the folder is not a CNN model or the weights do not fit the config.
    """
    from safetensors.torch import load_file

    folder = Path(folder)
    config = read_cnn_config(read_config(folder, family="cnn"), folder / "config.json")
    path = folder / "weights.safetensors"
    if not path.is_file():
        raise ModelFormatError(f"{folder}: no weights.safetensors")
    try:
        model = build_net(config.extra.get("arch", "colornet"), config.model)
        model.load_state_dict(load_file(str(path)))
    except Exception as exc:  # safetensors raises its own SafetensorError
        raise ModelFormatError(f"{path}: weights do not match config.json ({one_line(exc)})") from None
    return model, config


class _WithFeatures(nn.Module):
    """A network whose ``forward`` returns (output, decoder features), for export."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.model.forward_features(x)


def export_onnx(model: ColorNet, path: str | os.PathLike, size: int = 256, features: bool = False) -> None:
    """Export the network (eval mode, float32, CPU) to ONNX with dynamic H and W.

    With ``features`` the graph has a second output, ``features``: the
    decoder's last features, which a hint head reads (``EffUNet`` only).
    """
    path = Path(path)
    was_training = model.training
    model = model.eval().cpu()
    x = torch.zeros(1, 1 + getattr(model.config, "extra_in", 0), size, size)
    outputs = ["out", "features"] if features else ["out"]
    kwargs = dict(
        input_names=["L"], output_names=outputs, opset_version=17,
        dynamic_axes={"L": {0: "batch", 2: "height", 3: "width"},
                      **{name: {0: "batch", 2: "oh", 3: "ow"} for name in outputs}},
    )
    net = _WithFeatures(model) if features else model
    with torch.no_grad(), warnings.catch_warnings(), atomic_output(path) as tmp:
        warnings.simplefilter("ignore", DeprecationWarning)  # the TorchScript exporter is the one that needs no onnxscript
        try:
            torch.onnx.export(net, (x,), str(tmp), dynamo=False, **kwargs)
        except TypeError:  # older torch without the dynamo switch
            torch.onnx.export(net, (x,), str(tmp), **kwargs)
    model.train(was_training)


class TorchCNN(NetColorizer):
    """A torch network as a Colorizer: the ONNX colorizer's decoding, run in torch.

    Parameters
    ----------
    model : nn.Module
        The network (put in eval mode by the caller).
    config : CNNFolderConfig
        Mean a*b*, bins and decoding, as the ONNX colorizer would read them.
    device : str or torch.device
    """

    def __init__(self, model: nn.Module, config: CNNFolderConfig, device="cpu"):
        super().__init__(config)
        self.model, self.device = model, device

    def raw(self, L: np.ndarray, guide=None) -> np.ndarray:
        x = torch.from_numpy(self.net_input(L, guide)).to(self.device)  # (1, 1 + hint_channels, h, w)
        with torch.no_grad():
            return self.model(x)[0].float().cpu().numpy()

    def raw_features(self, L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = torch.from_numpy(self.net_input(L)).to(self.device)
        with torch.no_grad():
            out, feats = self.model.forward_features(x)
        return out[0].float().cpu().numpy(), feats.float().cpu().numpy()


def folder_config(mean_ab, centers: np.ndarray, decoding: Decoding | None = None, stride: int = STRIDE,
                  hint_channels: int = 0, **extra) -> CNNFolderConfig:
    """A CNNFolderConfig for a freshly trained network (``extra`` = records such as ``train``, ``state``)."""
    return CNNFolderConfig(mean_ab=tuple(float(v) for v in mean_ab), centers=np.asarray(centers, np.float32).reshape(-1, 2),
                           model={}, decoding=decoding or Decoding(), stride=stride, hint_channels=hint_channels,
                           extra=extra)


assert OUT_STRIDE == 4  # the architecture above predicts at a quarter of the working size
