"""Training losses of the CNN family (torch): Zhang et al.'s soft-encoded cross entropy and a regression term."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ...color import AB_NORM

__all__ = ["soft_encode", "loss_fn"]


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
