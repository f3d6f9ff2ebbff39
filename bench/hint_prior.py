"""Would a hint-conditioned prior on the colour bins help the hint head? Its gain on the sweep, and its tint.

The ``cnn`` network predicts a distribution over a*b* bins at every pixel.
A hint says which colours the photo holds, so one can raise, before
decoding, the logits of the bins near the hinted colours: by
``g0 * log mean_k exp(-|c - h_k|^2 / 2 s^2)`` at every pixel (a global
prior), or by ``g1 * sum_k w_k(p) * (-|c - h_k|^2 / 2 s^2)`` with ``w_k(p)``
the hint head's attention of pixel p to key k (a local prior); each term is
floored at -30. A pixel whose distribution already holds a hinted colour then
leans to it; the hint head runs as shipped on the result. The global prior
with g0 = 0.1, s = 10 ships (``bin_prior`` in the ``cnn`` config; chosen
here as the strongest whose blue hint leaves the background where it was);
the local one does not (see docs/models/cnn.md). This script measures both
sides of each: the gain, and the tint.

1. The hint sweep (``chromatize.evaluate.sweep``'s points and patches) on
   the 140 photos of the training validation split (seed 0) that no check
   saw (photos 61 to 200, longer side 256, 3x3 patches), and on those of the
   split from BSDS with originals of at least 320 px (longer side 512, 5x5
   patches, the evaluation sweep's protocol). The network and the head were
   trained without all of these photos.
2. The tint a hint leaves far from it, on one photo (default kodim23, the
   parrots): the mean a*b* of the foliage on the left with one true-colour
   hint on each bird, and of the background with one blue hint on the red
   parrot.

Usage::

    python bench/hint_prior.py --data ../shared/datasets   # about 20 min on 2 cores
"""

from __future__ import annotations

import argparse
import types
from pathlib import Path

import cv2
import numpy as np

import chromatize
from chromatize.color import AB_NORM, rgb_to_lab
from chromatize.data import load_photos, split_validation
from chromatize.io import list_images, read_image
from chromatize.models import load_model
from chromatize.models.cnn.hint_head import PRIOR_FLOOR as FLOOR
from chromatize.models.cnn.hint_head import UNIT_SIZE, attend, edge_features, hint_keys
from chromatize.train.hints import sweep_score

#: (g0, g1, s): none (the head before the prior), the global prior (0.1, 0, 10 ships), the local prior.
SETTINGS = [(0.0, 0.0, 10.0), (0.05, 0.0, 10.0), (0.1, 0.0, 10.0), (0.15, 0.0, 10.0), (0.3, 0.0, 10.0),
            (1.0, 0.0, 10.0), (0.1, 0.0, 7.0), (0.1, 0.0, 15.0), (0.0, 1.0, 10.0)]
COUNTS = (1, 2, 5, 10, 20, 100)


def attention_weights(model, feats, x, L, auto, index, logw) -> np.ndarray:
    """(h/4 * w/4, K): the head's attention of each cell of the network's output grid to each key."""
    head = model.hint_head
    emb, beta = head._query(feats, x)
    c, (h, w) = head.config, L.shape
    stride = h // emb.shape[2]
    emb = np.asarray(emb[0]).reshape(c.heads, c.dim, h // stride, w // stride)
    cols = []
    for j in range(0, len(index), 2):  # two keys a call: attend returns two channels
        onehot = np.zeros((len(index), 2), np.float32)
        onehot[j, 0] = onehot[min(j + 1, len(index) - 1), 1] = 1.0 / AB_NORM
        change = attend(emb, np.asarray(beta)[0, 0], index, onehot, logw, head.sigmas, UNIT_SIZE / max(h, w),
                        edge=edge_features(L, auto), edge_weights=head.edge_weights, stride=stride)
        cols.append(cv2.resize(change, (w // 4, h // 4), interpolation=cv2.INTER_AREA).reshape(-1, 2))
    return np.concatenate(cols, axis=1)[:, : len(index)]


def with_prior(model, g0: float, g1: float, s: float):
    """``model`` with the global prior (g0; the package's own, ``HintHead.prior``) or the local one (g1)."""
    model.hint_head.prior = (g0, s) if g0 else None
    if not g1:
        return model

    def predict_ab(self, L, guide=None):
        if guide is None or guide.empty:
            return type(self).predict_ab(self, L, guide)
        out, feats = self.raw_features(L)
        auto = self.decode_to(out, L.shape)
        index, residual, logw = hint_keys(guide.ab, guide.mask, auto)
        hinted = residual * AB_NORM + auto.reshape(-1, 2)[index]  # (K, 2) the keys' mean hinted a*b*
        near = np.maximum(-np.square(self.centers[:, None] - hinted[None]).sum(-1) / (2 * s * s), -FLOOR)  # (Q, K)
        x = self.net_input(L)
        bias = g1 * near @ attention_weights(self, feats, x, L, auto, index, logw).T
        out = out.copy()
        out[: len(self.centers)] += bias.reshape(-1, *out.shape[1:])
        return self.hint_head.propagate(feats, x, guide, self.decode_to(out, L.shape))

    model.predict_ab = types.MethodType(predict_ab, model)
    return model


def held_out(data: Path) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The unseen part of the training validation split at 256 px, and its sharp BSDS photos at 512 px."""
    folders = [data / "bsds500" / "train", data / "bsds500" / "test", data / "scenes", data / "train_pool"]
    paths = list_images(folders, recursive=True)
    val_idx, _ = split_validation(len(paths), min(200, len(paths) // 5), 0)
    tail = load_photos([paths[i] for i in val_idx[60:]], 256)
    sharp = [paths[i] for i in val_idx if "bsds500" in str(paths[i]) and max(read_image(paths[i]).rgb.shape) >= 320]
    return tail, load_photos(sharp, 512)


def tint(model, photo: Path) -> tuple[np.ndarray, np.ndarray]:
    """Mean a*b* of kodim23's foliage with true hints on both birds, and of its background with a blue hint."""
    lab = rgb_to_lab(read_image(photo).rgb)
    yellow, red = lab[395:405, 215:225, 1:].reshape(-1, 2).mean(0), lab[375:385, 535:545, 1:].reshape(-1, 2).mean(0)
    true = [{"x": 220, "y": 400, "ab": yellow.tolist(), "size": 5}, {"x": 540, "y": 380, "ab": red.tolist(), "size": 5}]
    blue = [{"x": 540, "y": 380, "color": "#2040ff", "size": 5}]
    fol = rgb_to_lab(chromatize.colorize(photo, model=model, hints=true))[150:400, 10:90, 1:]
    bg = rgb_to_lab(chromatize.colorize(photo, model=model, hints=blue))[20:120, 250:450, 1:]
    return fol.reshape(-1, 2).mean(0), bg.reshape(-1, 2).mean(0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="the datasets folder (bsds500/, scenes/, train_pool/)")
    ap.add_argument("--tint-photo", type=Path, help="default: DATA/kodak24/kodim23.png")
    args = ap.parse_args()
    tail, sharp = held_out(args.data)
    photo = args.tint_photo or args.data / "kodak24" / "kodim23.png"
    print(f"# RGB PSNR dB at {', '.join(map(str, COUNTS))} points; held out: {len(tail)} photos at 256 (3x3), "
          f"{len(sharp)} sharp BSDS photos at 512 (5x5); a*b* far from the hints on {photo.name}")
    for g0, g1, s in SETTINGS:
        model = with_prior(load_model("cnn"), g0, g1, s)
        a = sweep_score(model, tail, counts=COUNTS, patch=3)
        b = sweep_score(model, sharp, counts=COUNTS, patch=5)
        fol, bg = tint(model, photo)
        print(f"g0={g0} g1={g1} s={s}: held out " + " / ".join(f"{a[f'psnr_{n}']:.2f}" for n in COUNTS)
              + " | sharp BSDS " + " / ".join(f"{b[f'psnr_{n}']:.2f}" for n in COUNTS)
              + f" | foliage ({fol[0]:.1f}, {fol[1]:.1f}), blue-hint background ({bg[0]:.1f}, {bg[1]:.1f})", flush=True)


if __name__ == "__main__":
    main()
