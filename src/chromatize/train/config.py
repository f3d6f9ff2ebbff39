"""The settings of the training runs, as dataclasses: :class:`TrainConfig` (the CNN) and :class:`HintTrainConfig`
(the hint head).

They need neither torch nor the data, so the CLI takes its defaults from them
(``chromatize.cli.train``); each run saves its settings with its model.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

__all__ = ["TrainConfig", "HintTrainConfig"]


@dataclass
class TrainConfig:
    """Settings of a training run; saved in ``config.json`` under ``train``."""

    arch: str = "colornet"  #: "colornet" (from scratch) or "effnet" (pretrained EfficientNet-Lite0 encoder)
    loss: str = "classify"  #: "classify" (bins + regression head), or "l2" / "l1" (regression only)
    reg_loss: str = "l2"  #: loss of the regression head next to the bins: "l2" or "l1"
    epochs: int = 20  #: passes over the training photos (one crop each)
    steps: int = 0  #: total steps; 0 = derived from ``epochs``
    batch_size: int = 32
    crop: int = 128  #: training crop side (multiple of 16)
    long_side: int = 256  #: photos are resized so their longer side is this (as at inference)
    lr: float = 2e-3  #: peak learning rate (AdamW, warm-up then cosine decay)
    lr_encoder: float = 0.0  #: peak learning rate of a pretrained encoder (0 = ``lr``)
    pretrained: bool = True  #: start a pretrained encoder from its ImageNet weights (effnet)
    weight_decay: float = 1e-4
    warmup_steps: int = 150
    reg_weight: float = 1.0  #: weight of the regression head next to the cross entropy
    rebalance: float = 0.5  #: lambda of Zhang's class rebalancing (1 = none)
    seed: int = 0
    val_split: int = 200  #: photos held out for validation and decoding tuning
    val_quick: int = 100  #: of these, photos scored at each validation (all are used for the final tuning)
    val_every: int = 0  #: steps between validations; 0 = an epoch, but at least 100 steps
    best_after: float = 0.2  #: share of the schedule before which no validation is kept as the best model
    tune_min_photos: int = 30  #: fewer validation photos than this: the decoding is not re-tuned (kept from --init)
    checkpoint_every: int = 200  #: steps between checkpoints
    time_budget_min: float = 0.0  #: stop (and finish the schedule) after this many minutes; 0 = no limit
    device: str = "auto"  #: "cpu", "cuda" or "auto"
    threads: int = 2  #: torch CPU threads
    widths: tuple = ()  #: the network's channel widths; () = the architecture's default
    tune_render_sizes: tuple = (256,)  #: working sizes tried when the decoding is tuned
    hint_inputs: bool = False  #: train with simulated point hints as extra input channels (Zhang et al. 2017; effnet)
    min_chroma: float = 0.0  #: drop training photos (not validation ones) whose mean a*b* chroma is below this
    init: str = ""  #: "" = random, "default" = the bundled model, or a model folder
    #: share of training crops whose input L is degraded like an old scan (a random kind of
    #: :data:`chromatize.degrade.KINDS`, strength 0.5..1.5); the target a*b* stays clean
    degrade: float = 0.0
    mix: str = ""  #: sampling weights of the sources: "" (as they come), "equal", "sqrt" or "name=w,name=w"
    holdout: tuple = ()  #: folders (``caltech101/accordion``) never trained on: the held-out check
    holdout_groups: int = 0  #: whole sub-folders of multi-folder sources (Caltech categories) held out too, seeded
    store: str = ""  #: folder of the memory-mapped photo store ("" = decode into memory)

    def __post_init__(self):
        self.widths = tuple(int(w) for w in self.widths)
        self.tune_render_sizes = tuple(int(s) for s in self.tune_render_sizes)
        self.holdout = tuple(str(h) for h in self.holdout)
        if not 0 <= self.degrade <= 1 or not 0 <= self.best_after <= 1:
            raise ValueError(f"degrade and best_after must be in 0..1, got {self.degrade}, {self.best_after}")
        if self.arch not in ("colornet", "effnet"):
            raise ValueError(f"arch must be 'colornet' or 'effnet', got {self.arch!r}")
        if self.loss not in ("classify", "l2", "l1") or self.reg_loss not in ("l2", "l1"):
            raise ValueError(f"loss must be classify, l2 or l1 and reg_loss l2 or l1, got {self.loss!r}, {self.reg_loss!r}")

    @property
    def regression_loss(self) -> str:
        """The loss of the regression head."""
        return self.reg_loss if self.loss == "classify" else self.loss

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        """Build from a saved dict; unknown keys are an error."""
        if "hints" in d and "hint_inputs" not in d:  # runs saved before the hint channels had one name
            d = {("hint_inputs" if k == "hints" else k): v for k, v in d.items()}
        extra = set(d) - {f.name for f in fields(cls)}
        if extra:
            raise ValueError(f"unknown training settings: {', '.join(sorted(extra))}")
        return cls(**d)


@dataclass
class HintTrainConfig:
    """Settings of a hint-head run; saved in ``out/best/config.json`` under ``train_hints``."""

    base: str = "default"  #: the automatic model: "default" (the bundled cnn) or a CNN model folder
    steps: int = 3000
    batch_size: int = 16
    crop: int = 160  #: training crop side (multiple of 32)
    long_side: int = 256  #: photos are resized so their longer side is this (as at inference)
    lr: float = 3e-3  #: peak learning rate (Adam, warm-up then cosine decay)
    warmup_steps: int = 100
    queries: int = 1024  #: pixels per crop where the loss is taken
    max_points: int = 128  #: largest count of the log-uniform half of the hint draw
    seed: int = 0
    val_split: int = 200  #: held-out photos (as ``chromatize train cnn``)
    val_quick: int = 60  #: of these, photos scored at each validation
    val_every: int = 300
    val_patch: int = 3  #: hint square side on the 256-px validation photos (5 px at the sweep's 512)
    time_budget_min: float = 0.0  #: stop after this many minutes; 0 = no limit
    threads: int = 2
    head: dict = field(default_factory=dict)  #: HintHeadConfig settings (feat_channels comes from the base)
    #: start from the head of this model folder, or "default" (the bundled cnn's); weights it lacks keep their
    #: initial values
    init_head: str = ""
    #: gamma of the hints' prior on the colour bins (:func:`~chromatize.models.cnn.hint_head.bin_prior`), in training
    #: and in the saved model; 0: none. The shipped head's setting.
    prior_gamma: float = 0.1
    prior_sigma: float = 10.0  #: its width, a*b* units
    #: "tau,kappa,sigma,rho0[,rival]" of the hints' locality (:attr:`chromatize.models.cnn.config.HintHeadEntry.locality`),
    #: used in training and validation and saved with the head; "" = that of ``init_head``'s model (none without
    #: one); "none"
    locality: str = ""
    mix: str = ""  #: sampling weights of the sources, as :attr:`TrainConfig.mix` (and the same split)
    holdout: tuple = ()  #: folders held out, as :attr:`TrainConfig.holdout`
    holdout_groups: int = 0  #: whole sub-folders held out, as :attr:`TrainConfig.holdout_groups`
    store: str = ""  #: folder of the memory-mapped photo store, as :attr:`TrainConfig.store`

    def __post_init__(self):
        self.holdout = tuple(str(h) for h in self.holdout)
