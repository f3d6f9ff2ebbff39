"""Training the hint head (:mod:`chromatize.models.cnn.hint_head`) on a frozen automatic CNN.

``train_hint_head(data, out, HintTrainConfig(base="default"))`` reads the
photos, holds out the same validation split as ``chromatize train cnn`` with
the same seed and data (:func:`chromatize.pool.load_pool`), and trains
only the head: the automatic network runs without gradients, so a step costs
about a third of a step of the network itself and the result with no hints is
exactly the automatic one.

Each sample is a random crop (:func:`chromatize.data.random_crops`) with
simulated hints: half the time Zhang et al. 2017's draw (geometric number of
points, p = 1/8, so often none), half the time a log-uniform count of 1 to
``max_points``, so that dense hints (the sweep goes to 100 points) are seen
too; square patches of side 1 to 9 px carrying the patch's mean true a*b*. The
loss is the squared error of a*b* / AB_NORM at ``queries`` random pixels of
each crop. All randomness comes from the seed: sample ``i`` of step ``s`` uses
``default_rng([seed, 2, s, i])``.

Every ``val_every`` steps the model is scored on the held-out photos by the
hint sweep's own protocol (``chromatize.hints.sweep_points``, patches of
``val_patch`` px, 1, 10 and 100 points) through the real colorizing path, and
``out/best`` keeps the best: a complete model folder (the base network, its
ONNX export with features, and the head).
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, replace
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch

from ..color import AB_NORM, normalise_L, rgb_to_lab
from ..data import random_crops
from ..pool import load_pool
from ..hints import Guide, simulate_hints, sweep_hints, sweep_points
from ..infer import colorize_photo
from ..io import Photo
from ..metrics import compute_all
from ..models import bundled_model_dir
from ..models.base import write_config
from ..models.cnn.torch_io import TorchCNN, export_onnx, load_torch, save_model
from ..models.cnn.config import LOCALITY_KEYS, HintHeadConfig, HintHeadEntry, parse_locality
from ..models.cnn.hint_head import (QUERY_STRIDE, UNIT_SIZE, HintHead, Keys, Reach, bin_prior, edge_features,
                                    hint_keys, key_locality)
from ..models.cnn.hint_head_net import HintHeadNet, attend_batch, head_entry, save_head
from .cnn_run import torch_threads
from .config import HintTrainConfig
from .run_loop import LoopState, TrainingLoop, Validation, lr_scale, run_loop
from ..guidance import Guidance

__all__ = ["train_hint_head", "draw_hint_batch", "sweep_score", "tune_refine", "read_locality", "VAL_COUNTS",
           "REFINE_REACHES"]

#: Point counts scored on the validation photos.
VAL_COUNTS = (1, 10, 100)
#: Reaches of the refining Levin step tried after training (None: no such step). Longer reaches
#: score a little higher on the validation split, but what the attention leaves at a hint that
#: contradicts the photo then spreads further: with the shipped head and its locality the leak on
#: bsds500/test's composites is 0.042 at 128 and over 0.05 beyond (256: 0.053; 4,096: 0.093;
#: docs/models/cnn.md). Without a locality 32 was the limit.
REFINE_REACHES = (None, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0)


def _base_dir(base: str) -> Path:
    return bundled_model_dir("cnn") if base == "default" else Path(base)


def draw_hint_batch(photos: Sequence[np.ndarray], config: HintTrainConfig,
                    step: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Batch ``step``: L (B, 1, c, c) 0..100, true a*b* (B, 2, c, c), hints (B, 3, c, c) (a*b* / AB_NORM, mask)."""
    n = len(photos)
    b = min(config.batch_size, n)
    per_epoch = max(1, n // b)
    epoch, k = divmod(step, per_epoch)
    idx = np.random.default_rng([config.seed, epoch]).permutation(n)[k * b : (k + 1) * b]
    Ls, abs_, hints = [], [], []
    for i, j in enumerate(idx):
        rng = np.random.default_rng([config.seed, 2, step, i])
        L, _, ab = random_crops(photos, [j], config.crop, rng, full_ab=True)
        if rng.random() < 0.5:
            counts = None  # Zhang's geometric draw
        else:
            counts = [int(np.exp(rng.uniform(0.0, np.log(config.max_points + 1))))]
        Ls.append(L)
        abs_.append(ab)
        hints.append(simulate_hints(ab, rng, ab_norm=AB_NORM, counts=counts))
    return np.concatenate(Ls), np.concatenate(abs_), np.concatenate(hints)


def read_locality(config: HintTrainConfig) -> tuple[float, ...] | None:
    """The locality a run validates and saves its head with (:attr:`HintTrainConfig.locality`).

    >>> read_locality(HintTrainConfig(locality="128,10,15,0.3"))
    (128.0, 10.0, 15.0, 0.3, 1.0)
    >>> read_locality(HintTrainConfig(locality="48,10,15,0.3,0.5"))
    (48.0, 10.0, 15.0, 0.3, 0.5)
    >>> read_locality(HintTrainConfig(locality="none")) is None
    True

    Raises
    ------
    ValueError
        If the setting is not four or five numbers (or "none"), or ``init_head``'s config does not read.
    """
    text = config.locality.strip()
    if text == "none" or (not text and not config.init_head):
        return None
    if not text:
        where = _base_dir(config.init_head) / "config.json"
        try:
            entry = json.loads(where.read_text()).get("hint_head")
        except (OSError, ValueError, AttributeError) as e:
            raise ValueError(f"{where}: cannot read the hint head's locality ({e})") from None
        return HintHeadEntry.from_dict(entry, where).locality
    parts = text.split(",")
    try:
        numbers = [float(v) for v in parts]
    except ValueError:
        numbers = []
    if len(numbers) not in (4, 5):
        raise ValueError(f"locality must be 'none' or four or five numbers {','.join(LOCALITY_KEYS)}, got {text!r}")
    return parse_locality(dict(zip(LOCALITY_KEYS, numbers)), "locality")


class _Trainer:
    def __init__(self, config: HintTrainConfig, base: torch.nn.Module, folder, photos: list[np.ndarray],
                 locality: tuple[float, ...] | None = None):
        self.config, self.base, self.folder, self.photos = config, base, folder, photos
        head_cfg = HintHeadConfig(**{**config.head, "feat_channels": base.config.widths[2]})
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            self.head = HintHeadNet(head_cfg)
        if config.init_head:
            from safetensors.torch import load_file

            missing, unexpected = self.head.load_state_dict(
                load_file(str(_base_dir(config.init_head) / "hint_head.safetensors")), strict=False)
            if unexpected:
                raise ValueError(f"{config.init_head}: hint head weights that do not fit: {', '.join(unexpected)}")
        self.opt = torch.optim.Adam(self.head.parameters(), lr=config.lr)
        self.auto = TorchCNN(base, folder)  # decodes the network's output as the colorizer does
        if not (config.prior_gamma >= 0 and config.prior_sigma > 0):
            raise ValueError(f"prior_gamma must be >= 0 and prior_sigma > 0, got {config.prior_gamma!r} and "
                             f"{config.prior_sigma!r}")
        self.prior = (config.prior_gamma, config.prior_sigma) if config.prior_gamma else None
        if self.prior and self.auto.centers is None:
            raise ValueError("the hints' prior on the colour bins (prior_gamma) needs a base CNN with bins")
        self.locality = locality

    def train_step(self, step: int, frac: float) -> float:
        """One Adam step on batch ``step``, ``frac`` of the way through the schedule; returns the loss."""
        cfg = self.config
        L, ab_true, hints = draw_hint_batch(self.photos, cfg, step)
        b, _, h, w = L.shape
        x = torch.from_numpy(normalise_L(L))
        with torch.no_grad():
            out, feats = self.base.forward_features(x)
        out = out.numpy()
        autos, keys, reaches = [], [], []
        for i in range(b):  # as CNNColorizer._with_head at inference: the locality, the prior, the keys
            hint_ab = np.moveaxis(hints[i, :2], 0, -1) * AB_NORM
            o, near, auto = out[i], None, None
            if self.locality is not None and hints[i, 2].any():
                auto = self.auto.decode_to(o, (h, w))  # before any hint: what the locality's edges are read from
                near = key_locality(self.locality, L[i, 0], auto, Guide(hint_ab, hints[i, 2]), o, self.auto.centers,
                                    cfg.long_side)
            if cfg.prior_gamma and hints[i, 2].any():
                o = o.copy()
                reach = 1.0 if near is None else near.max(axis=0).reshape(o.shape[1:])
                o[: len(self.auto.centers)] += bin_prior(self.auto.centers, hint_ab, hints[i, 2], cfg.prior_gamma,
                                                         cfg.prior_sigma)[:, None, None] * reach
                auto = None
            if auto is None:
                auto = self.auto.decode_to(o, (h, w))
            autos.append(auto)
            keys.append(hint_keys(hint_ab, hints[i, 2], auto))
            reaches.append(near)
        kmax = max(1, max(len(k[0]) for k in keys))
        index = np.zeros((b, kmax), np.int64)
        residual = np.zeros((b, kmax, 2), np.float32)
        logw = np.full((b, kmax), -np.inf, np.float32)
        for i, (ix, r, lw) in enumerate(keys):
            index[i, : len(ix)], residual[i, : len(ix)], logw[i, : len(ix)] = ix, r, lw
        locality = None
        if self.locality is not None:  # padding keys (and crops without hints) at 1: their weights are 0 anyway
            locality = np.ones((b, kmax, (h // QUERY_STRIDE) * (w // QUERY_STRIDE)), np.float32)
            for i, near in enumerate(reaches):
                if near is not None:
                    locality[i, : len(near)] = near
            locality = torch.from_numpy(locality)
        rng = np.random.default_rng([cfg.seed, 3, step])
        q = np.stack([rng.choice(h * w, size=min(cfg.queries, h * w), replace=False) for _ in range(b)])
        auto_q = np.stack([a.reshape(-1, 2)[qi] for a, qi in zip(autos, q)]) / AB_NORM  # (B, n, 2)
        true_q = np.stack([t.reshape(2, -1)[:, qi].T for t, qi in zip(ab_true, q)]) / AB_NORM
        mask_q = np.stack([m.reshape(-1)[qi] for m, qi in zip(hints[:, 2], q)]) > 0  # (B, n)

        scale = lr_scale(step, frac, cfg.warmup_steps)
        for g in self.opt.param_groups:
            g["lr"] = cfg.lr * scale
        emb, beta = self.head(feats, x)
        unit = torch.full((b,), UNIT_SIZE / cfg.long_side)  # crops are cut from photos of long_side px, as at inference
        edge = np.stack([edge_features(L[i, 0], autos[i]) for i in range(b)]).transpose(0, 3, 1, 2)  # (B, 3, H, W)
        auto = torch.from_numpy(np.stack(autos).transpose(0, 3, 1, 2) / np.float32(AB_NORM))  # (B, 2, H, W)
        keys = Keys(torch.from_numpy(index), torch.from_numpy(residual), torch.from_numpy(logw))
        reach = Reach(self.head.sigmas, unit, self.head.edge_weights, self.head.alpha)
        change = attend_batch(emb, beta, keys, torch.from_numpy(q), self.head.config.heads, reach,
                              edge=torch.from_numpy(np.ascontiguousarray(edge)), auto=auto, locality=locality)
        pred = torch.from_numpy(auto_q) + change
        err = (pred - torch.from_numpy(true_q)) ** 2  # (B, n, 2)
        loss = err[torch.from_numpy(~mask_q)].mean()  # hinted pixels are set to the hint at inference
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return float(loss.detach())

    def colorizer(self) -> TorchCNN:
        """The base network and the current head, as a Colorizer (the inference path, torch inside)."""
        net = TorchCNN(self.base, self.folder)
        head = self.head.eval()

        def query(feats, x):
            with torch.no_grad():
                e, b = head(torch.from_numpy(feats), torch.from_numpy(x), stride=QUERY_STRIDE)
            return e.numpy(), b.numpy()

        net.hint_head = HintHead(query, replace(head_entry(head, self.prior), locality=self.locality))
        return net


def sweep_score(colorizer, photos: Sequence[np.ndarray], counts: Sequence[int] = VAL_COUNTS, patch: int = 3,
                seed: int = 0) -> dict:
    """Mean RGB PSNR of ``colorizer`` on ``photos`` with 0 and each of ``counts`` sweep points (seeded per photo)."""
    scores: dict[int, list[float]] = {n: [] for n in (0, *counts)}
    for i, truth in enumerate(photos):
        ab_true = rgb_to_lab(truth)[..., 1:]
        corners = sweep_points(truth.shape[:2], max(counts, default=0), np.random.default_rng([seed, 4, i]), patch)
        for n in scores:
            hints = sweep_hints(ab_true, corners[:n], patch) if n else None
            pred = colorize_photo(Photo(truth), colorizer, Guidance(hints=tuple(hints or ()))).rgb
            scores[n].append(compute_all(pred, truth, ["psnr_rgb"])["psnr_rgb"])
    return {f"psnr_{n}": float(np.mean(v)) for n, v in scores.items()}


def tune_refine(folder: str | os.PathLike, val: Sequence[np.ndarray], reaches=REFINE_REACHES,
                patch: int = 3) -> tuple[float | None, list[dict]]:
    """Choose the refining step's reach for the model in ``folder`` on the validation photos; writes it.

    Returns the chosen reach and every reach's scores (mean PSNR at VAL_COUNTS).
    """
    from ..models import load_model

    folder = Path(folder)
    model = load_model(folder)
    tried = []
    for reach in reaches:
        model.hint_head.refine_reach = reach
        scores = sweep_score(model, val, patch=patch)
        tried.append({"refine_reach": reach, **scores,
                      "score": float(np.mean([scores[f"psnr_{n}"] for n in VAL_COUNTS]))})
    best = max(tried, key=lambda t: t["score"])
    config = json.loads((folder / "config.json").read_text())
    config["hint_head"]["refine_reach"] = best["refine_reach"]
    config["val_hints"] = {**config.get("val_hints", {}), "refine": tried}
    if best["refine_reach"] is None:
        del config["hint_head"]["refine_reach"]
    write_config(folder, config)
    return best["refine_reach"], tried


def _save(trainer: _Trainer, folder: Path, base_dir: Path, extra: dict) -> None:
    """A complete model folder: the base network (ONNX with features), the head, the config."""
    folder.mkdir(parents=True, exist_ok=True)
    entry = replace(save_head(trainer.head, folder), bin_prior=trainer.prior or None, locality=trainer.locality)
    cfg = replace(trainer.folder, extra={**trainer.folder.extra, **extra}, hint_head=entry)
    save_model(trainer.base, folder, cfg)
    export_onnx(trainer.base, folder / "model.onnx", features=True)
    for name in ("NOTICE",):
        if (base_dir / name).is_file():
            shutil.copyfile(base_dir / name, folder / name)


class _HintLoop(TrainingLoop):
    """The hint head's run in the training skeleton: validation by the sweep's protocol, no checkpoints."""

    def __init__(self, trainer: _Trainer, out: Path, val: list[np.ndarray], base_dir: Path):
        cfg = trainer.config
        super().__init__(out, LoopState(best_score=-np.inf), cfg.steps, cfg.time_budget_min,
                         cfg.val_every if val else 0)
        self.trainer, self.val, self.base_dir = trainer, val, base_dir
        self.record = {"train_hints": asdict(cfg)}
        self.best: dict = {}

    def step(self, frac: float) -> tuple[float, dict]:
        self.trainer.head.train()
        return self.trainer.train_step(self.state.step, frac), {}

    def validate(self, loss: float | None) -> Validation:
        head = self.trainer.head
        scores = sweep_score(self.trainer.colorizer(), self.val, patch=self.trainer.config.val_patch)
        line = {"step": self.state.step, "elapsed_s": round(self.state.elapsed_s, 1), "loss": loss, **scores,
                "sigmas": [round(float(s), 2) for s in head.sigmas],
                "edge_weights": [[round(float(v), 3) for v in row] for row in head.edge_weights]}
        score = float(np.mean([scores[f"psnr_{n}"] for n in VAL_COUNTS]))
        return Validation(line, score, {"val": line, "step": self.state.step})

    def save_best(self, validation: Validation) -> None:
        self.best = validation.line
        _save(self.trainer, self.out / "best", self.base_dir, {**self.record, "val_hints": validation.line})

    def finish(self) -> dict:
        """Save the head (no validation photos) or choose its refining reach; returns the run's summary."""
        if not self.val:
            _save(self.trainer, self.out / "best", self.base_dir, self.record)
        else:
            tune_refine(self.out / "best", self.val, patch=self.trainer.config.val_patch)
        return {"step": self.state.step, "elapsed_s": self.state.elapsed_s, "best": self.best,
                "best_dir": str(self.out / "best")}


def train_hint_head(data: Sequence[str | os.PathLike], out: str | os.PathLike, config: HintTrainConfig | None = None,
                    *, overwrite: bool = False, progress: Callable[[dict], None] | None = None) -> dict:
    """Train a hint head on a frozen automatic CNN (module docstring); returns the best validation scores.

    Raises
    ------
    FileExistsError
        If ``out`` holds a run and ``overwrite`` is not set.
    ValueError
        If there are too few photos, or the base model is not an ``effnet`` CNN.
    """
    config = config or HintTrainConfig()
    out = Path(out)
    if (out / "log.jsonl").exists() and not overwrite:
        raise FileExistsError(f"{out}: holds a run already (use --overwrite)")
    locality = read_locality(config)  # a bad setting fails before anything is loaded
    base_dir = _base_dir(config.base)
    base, folder = load_torch(base_dir)
    if not base.has_features:
        raise ValueError(f"{base_dir}: a hint head needs an effnet CNN (one that returns decoder features)")
    base.eval()
    for p in base.parameters():
        p.requires_grad_(False)
    folder = replace(folder, extra={k: v for k, v in folder.extra.items() if k in ("notice", "val_metrics")},
                     hint_head=None)
    pool = load_pool(data, config.long_side, config.val_split, config.seed, mix=config.mix, holdout=config.holdout,
                     holdout_groups=config.holdout_groups, store=config.store or None)  # the CNN's split
    train, val = pool.train, pool.val
    trainer = _Trainer(config, base, folder, train, locality)
    out.mkdir(parents=True, exist_ok=True)
    (out / "log.jsonl").write_text("")
    with torch_threads(config.threads):
        return run_loop(_HintLoop(trainer, out, val[: config.val_quick or None], base_dir), progress)
