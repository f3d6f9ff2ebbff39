"""The CNN family in torch: build a network by architecture, save, load, export to ONNX, run as a Colorizer.

Needs torch (``pip install chromatize[train]``); inference uses
:mod:`chromatize.models.cnn.runtime` (ONNX Runtime) instead. :class:`TorchCNN`
runs the torch network behind the same base class as the ONNX colorizer, so
training validates exactly what will ship. The networks themselves live in
:mod:`~chromatize.models.cnn.small_net` and :mod:`~chromatize.models.cnn.effnet_net`;
:data:`chromatize.models.cnn.config.ARCHS` names them.
"""

from __future__ import annotations

import importlib
import os
import warnings
from dataclasses import asdict
from pathlib import Path

import torch
from torch import nn

import numpy as np

from ...io.atomic import atomic_output
from ...text import one_line
from ..base import ModelFormatError, read_config, write_config
from .config import ARCHS, CNNFolderConfig, read_cnn_config
from .runtime import NetColorizer

__all__ = ["TorchCNN", "save_model", "load_torch", "export_onnx", "build_net", "arch_of"]


def build_net(arch: str, config: dict) -> nn.Module:
    """A network of a given architecture (a key of :data:`~chromatize.models.cnn.config.ARCHS`) from its saved
    config dict.

    Raises
    ------
    ValueError
        If the architecture is unknown or the config does not fit it.
    """
    if arch not in ARCHS:
        raise ValueError(f"unknown architecture {arch!r} (known: {', '.join(ARCHS)})")
    module, net_class, config_class = ARCHS[arch]
    module = importlib.import_module(module)
    config = dict(config)
    if "extra_in" in config:  # folders saved before the hint channels had one name
        config["hint_channels"] = config.pop("extra_in")
    return getattr(module, net_class)(getattr(module, config_class)(**config))


def arch_of(model: nn.Module) -> str:
    """The architecture name saved in config.json for a network (its class's ``arch``)."""
    return model.arch


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
        "hint_channels": model.hint_channels, "arch": model.arch, "model": asdict(model.config),
        **({"hint_head": config.hint_head.to_dict()} if config.hint_head is not None else {}),
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
        model = build_net(config.arch, config.model)
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


def export_onnx(model: nn.Module, path: str | os.PathLike, size: int = 256, features: bool = False) -> None:
    """Export the network (eval mode, float32, CPU) to ONNX with dynamic H and W.

    With ``features`` the graph has a second output, ``features``: the
    decoder's last features, which a hint head reads (``EffUNet`` only).
    """
    path = Path(path)
    was_training = model.training
    model = model.eval().cpu()
    x = torch.zeros(1, 1 + model.hint_channels, size, size)
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
