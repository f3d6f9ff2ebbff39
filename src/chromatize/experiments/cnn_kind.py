"""The CNN as a model kind of the report's seed trials (``chromatize.experiments.seed_trials``).

The trials train on a few dozen photos of 64x64 for one epoch, which is the
MLP's setting; a CNN taking a handful of steps would learn nothing, so it gets
a fixed number of optimiser steps instead (:data:`TRIAL_STEPS` mini-batches of
random crops and flips of the same training photos, AdamW with a cosine
schedule, L2 loss on a*b*). The seed sets its initial weights and its batches.
Everything else (photos, split, test loss) is the trials' own.
"""

from __future__ import annotations

import numpy as np
import torch

from ..color import AB_NORM, normalise_L
from ..data import random_crops
from ..models.cnn import OUT_STRIDE, Decoding, folder_config
from ..models.cnn.small_net import CNNConfig, ColorNet
from ..models.cnn.torch_io import TorchCNN
from ..models.cnn.losses import loss_fn
from ..train.cnn_run import torch_threads
from .trials import Trained

__all__ = ["train_trial", "TRIAL_STEPS", "TRIAL_BATCH", "TRIAL_LR"]

TRIAL_STEPS = 300
TRIAL_BATCH = 16
TRIAL_LR = 2e-3


def train_trial(train, seed: int, settings, progress=None):
    """Trainer for ``chromatize.experiments.KINDS``: train a CNN on ``train.rgb``.

    Parameters
    ----------
    train : chromatize.data.ImageSet
        Training photos (``rgb``, square, ``settings.size``).
    seed : int
    settings : chromatize.experiments.TrialSettings
        Only ``size`` is used: crops are the whole photo (side rounded down to a multiple of 16).
    progress : callable, optional
        Called with 1 after each step.

    Returns
    -------
    chromatize.experiments.Trained
        The model (run at the photos' own size) and the loss of each step.
    """
    with torch_threads(1):  # tiny batches: one thread is about as fast, and robust on a shared CPU
        return _fit(train, seed, settings, progress)


def _fit(train, seed: int, settings, progress=None) -> Trained:
    photos = list(train.rgb)
    crop = max(16, (min(settings.size, min(p.shape[0] for p in photos)) // 16) * 16)
    cfg = CNNConfig(loss="l2")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = ColorNet(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=TRIAL_LR, weight_decay=1e-4)
    losses = np.empty(TRIAL_STEPS)
    model.train()
    for step in range(TRIAL_STEPS):
        rng = np.random.default_rng([seed, step])
        idx = rng.choice(len(photos), size=min(TRIAL_BATCH, len(photos)), replace=False)
        L, ab = (torch.from_numpy(a) for a in random_crops(photos, idx, crop, rng, OUT_STRIDE))
        for g in opt.param_groups:
            g["lr"] = TRIAL_LR * min(1.0, (step + 1) / 20) * 0.5 * (1 + np.cos(np.pi * step / TRIAL_STEPS))
        loss = loss_fn(model(normalise_L(L)), ab)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses[step] = loss.item() * 2 * (AB_NORM / 255.0) ** 2  # in the trials' unit: sum over a*, b* of (8-bit / 255)^2
        if progress is not None:
            progress(1)
    model.eval()
    decoding = Decoding(render_size=settings.size, temperature=1.0, mix=1.0)
    net = TorchCNN(model, folder_config(train.mean_ab(), np.zeros((0, 2), np.float32), decoding))
    return Trained(net, losses)
