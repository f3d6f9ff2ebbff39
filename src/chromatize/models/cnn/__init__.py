"""The CNN family: pretrained-encoder and from-scratch networks, their hint head, in one room.

What each file holds (torch only where the name says ``net``, ``losses`` or ``torch_io``):

- :mod:`~chromatize.models.cnn.config`: the typed ``config.json`` of a CNN model folder, its decoding,
  the hint-head entry, and :data:`~chromatize.models.cnn.config.ARCHS`, the registry of architectures;
- :mod:`~chromatize.models.cnn.runtime`: decoding and the colorizer on ONNX Runtime (what ``load`` returns);
- :mod:`~chromatize.models.cnn.hint_head`: the learned propagation of hints, in numpy and ONNX Runtime;
- :mod:`~chromatize.models.cnn.small_net`: ``colornet``, the from-scratch network of ``cnn-small``;
- :mod:`~chromatize.models.cnn.effnet_net` (+ :mod:`~chromatize.models.cnn.effnet_encoder`): ``effnet``,
  the EfficientNet-Lite0 U-Net of the default ``cnn``;
- :mod:`~chromatize.models.cnn.hint_head_net`: the hint head in torch (training, saving, export);
- :mod:`~chromatize.models.cnn.losses`: the training losses;
- :mod:`~chromatize.models.cnn.torch_io`: build by architecture, save, load, export to ONNX, run in torch.

This package's namespace holds the torch-free names only, so loading a model never imports torch.
"""

from .config import ARCHS, GRID, OUT_STRIDE, CNNFolderConfig, Decoding, HintHeadConfig, HintHeadEntry, folder_config, read_cnn_config
from .runtime import CNNColorizer, NetColorizer, decode, load, round_shape

__all__ = ["ARCHS", "GRID", "OUT_STRIDE", "CNNFolderConfig", "Decoding", "HintHeadConfig", "HintHeadEntry",
           "folder_config", "read_cnn_config", "CNNColorizer", "NetColorizer", "decode", "load", "round_shape"]
