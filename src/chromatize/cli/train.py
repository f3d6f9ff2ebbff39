"""The commands that train models: ``train cnn``, ``train hints``, ``train mlp`` and ``experiment seed-trials``.

Every option that sets a field of a settings dataclass (:class:`~chromatize.train.config.TrainConfig`,
:class:`~chromatize.train.config.HintTrainConfig`, :class:`~chromatize.models.mlp.MLPConfig`,
:class:`~chromatize.experiments.trials.TrialSettings`) is made by :func:`setting`, which takes the default
from the field; options that several commands share are defined once (:func:`run_options`,
:func:`report_options`).
"""

from __future__ import annotations

import sys
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Callable

import click

from ..experiments.trials import TrialSettings
from ..models.cnn.config import HintHeadConfig
from ..models.mlp import MLPConfig
from ..train.config import HintTrainConfig, TrainConfig
from .base import StageBars, main, progress_bar


class SettingOption(click.Option):
    """An option that sets field ``setting = (dataclass, name)``; its default is that field's."""

    def __init__(self, *args, setting: tuple[type, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.setting = setting


def field_default(cls: type, name: str):
    """The default of field ``name`` of dataclass ``cls``."""
    f = {f.name: f for f in fields(cls)}[name]
    return f.default_factory() if f.default is MISSING else f.default


def setting(cls: type, name: str, *decls: str, **kwargs) -> Callable:
    """A click option for field ``name`` of the settings dataclass ``cls``, with that field's default.

    ``decls`` default to ``--name-with-dashes``; ``kwargs`` go to ``click.option``.
    """
    decls = decls or ("--" + name.replace("_", "-"),)
    return click.option(*decls, name, cls=SettingOption, setting=(cls, name), default=field_default(cls, name),
                        **kwargs)


def options(*decorators: Callable) -> Callable:
    """Several click decorators as one, applied in the order given (as if written one above the other)."""

    def apply(f: Callable) -> Callable:
        for d in reversed(decorators):
            f = d(f)
        return f

    return apply


data_argument = click.argument("data", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))


def run_options(cls: type) -> Callable:
    """The options that ``train cnn`` and ``train hints`` share, for their settings class ``cls``."""
    return options(
        setting(cls, "long_side", type=click.IntRange(32), show_default=True,
                help="Photos are resized so their longer side is this before cropping."),
        setting(cls, "lr", type=float, show_default=True, help="Peak learning rate."),
        setting(cls, "seed", type=int, show_default=True),
        setting(cls, "threads", type=click.IntRange(1), show_default=True, help="CPU threads."),
        setting(cls, "time_budget_min", type=float, help="Stop after this many minutes (the schedule fits it)."),
        click.option("--overwrite", is_flag=True, help="Start afresh in an --out that holds a run."),
    )


def pool_options(cls: type) -> Callable:
    """The options that choose a run's photos and split, shared by ``train cnn`` and ``train hints`` (whose head
    then learns on the network's training photos, given the same data, seed and these)."""
    return options(
        setting(cls, "mix", metavar="''|equal|sqrt|NAME=W,...", show_default=True,
                help="Sampling weights of the sources (each input folder and its sub-folders): as they come, "
                     "equal shares, sqrt of their sizes, or weights by name (others 1)."),
        setting(cls, "holdout", multiple=True, metavar="FOLDER",
                help="A folder (e.g. caltech101/accordion) never trained on, scored as the held-out check (repeat)."),
        setting(cls, "holdout_groups", type=click.IntRange(0), show_default=True,
                help="Hold out this many whole sub-folders (e.g. Caltech categories), drawn with the seed."),
        setting(cls, "store", metavar="FOLDER",
                help="Decode and resize the photos once into a memory-mapped store under FOLDER (reused)."),
    )


def report_options(cls: type) -> Callable:
    """The options of the report's MLP training that ``train mlp`` and ``experiment seed-trials`` share."""
    return options(
        setting(cls, "size", type=click.IntRange(5, 1024), show_default=True, help="Photos are resized to SIZE x SIZE."),
        setting(cls, "epochs", type=click.IntRange(1), show_default=True, help="Passes over the training photos."),
        setting(cls, "lr", type=click.FloatRange(0, min_open=True), show_default=True, help="Learning rate."),
    )


@main.group()
def train():
    """Train a colorizer.

    \b
    Example:
        chromatize train mlp photos/ --out my_mlp
    """


def _cnn_options(f: Callable) -> Callable:
    T = TrainConfig
    return options(
        setting(T, "arch", type=click.Choice(["colornet", "effnet"]), show_default=True,
                help="colornet: small net from scratch; effnet: pretrained EfficientNet-Lite0 encoder + U-Net decoder."),
        setting(T, "loss", type=click.Choice(["classify", "l2", "l1"]), show_default=True,
                help="Zhang et al. bins + regression head, or plain L2 / L1 regression."),
        setting(T, "reg_loss", type=click.Choice(["l2", "l1"]), show_default=True,
                help="Loss of the regression head beside the bins (--loss classify)."),
        setting(T, "reg_weight", type=click.FloatRange(0), show_default=True, help="Weight of the regression head."),
        setting(T, "rebalance", type=click.FloatRange(0, 1), show_default=True,
                help="Zhang's class-rebalancing lambda (1 = no rebalancing)."),
        setting(T, "epochs", type=click.IntRange(1), show_default=True),
        setting(T, "steps", type=click.IntRange(0), help="Total steps (overrides --epochs)."),
        setting(T, "batch_size", type=click.IntRange(1), show_default=True),
        setting(T, "crop", type=click.IntRange(16), show_default=True,
                help="Crop side, a multiple of the net's stride (colornet 16, effnet 32)."),
        setting(T, "lr_encoder", type=float, help="Peak learning rate of a pretrained encoder (default: --lr)."),
        setting(T, "weight_decay", type=click.FloatRange(0), show_default=True),
        setting(T, "warmup_steps", type=click.IntRange(1), show_default=True),
        setting(T, "tune_render_sizes", "--tune-render-size", type=click.IntRange(32, 4096), multiple=True,
                show_default=True, help="Working size tried when the decoding is tuned (repeat for several)."),
        setting(T, "val_split", type=click.IntRange(0), show_default=True, help="Photos held out for validation."),
        setting(T, "checkpoint_every", type=click.IntRange(1), show_default=True, help="Steps between checkpoints."),
        click.option("--resume", is_flag=True, help="Continue the run in --out."),
        setting(T, "init", metavar="default|PATH", help="Fine-tune from the bundled CNN (default) or a model folder."),
        setting(T, "device", type=click.Choice(["auto", "cpu", "cuda"]), show_default=True),
        setting(T, "hint_inputs", is_flag=True,
                help="Train with simulated point hints as extra inputs (effnet; Zhang et al. 2017)."),
        setting(T, "min_chroma", type=click.FloatRange(0), help="Drop photos whose mean a*b* chroma is below this."),
        setting(T, "degrade", type=click.FloatRange(0, 1), show_default=True,
                help="Share of crops whose input is degraded like an old scan (blur, fade, grain, JPEG, sepia)."),
        pool_options(T),
        setting(T, "val_every", type=click.IntRange(0), show_default=True,
                help="Steps between validations (0: an epoch, at least 100 steps)."),
        setting(T, "best_after", type=click.FloatRange(0, 1), show_default=True,
                help="Share of the run before which no validation is kept as the best model."),
        setting(T, "tune_min_photos", type=click.IntRange(1), show_default=True,
                help="Re-tune the decoding only with at least this many validation photos."),
        run_options(T),
    )(f)


@train.command("cnn")
@data_argument
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Run folder (checkpoints, log, best/).")
@_cnn_options
def train_cnn_cmd(data, out, resume, overwrite, **opts):
    """Train the CNN colorizer on photos (files or folders, searched recursively).

    The model lands in OUT/best (the best on the held-out photos, its decoding
    tuned); use the run folder as a model: chromatize colorize -m OUT, or
    chromatize.load_model(OUT). Fine-tuning on your own photos: docs/FINETUNING.md.

    Started by torchrun, each process trains on its share of every batch with
    DistributedDataParallel (gloo on CPU, nccl on GPU; --batch-size is the
    global batch, a multiple of the process count); rank 0 logs, validates and
    checkpoints. DATA and --out must be folders every process can see.

    \b
    Example:
        chromatize train cnn photos/ --out runs/cnn --time-budget-min 60
        chromatize train cnn photos/ --out runs/eff --arch effnet --loss classify --reg-loss l1
        chromatize train cnn --resume --out runs/cnn photos/
        chromatize train cnn my_photos/ --init default --epochs 5 --out runs/mine
        chromatize colorize old_photos/ -m runs/mine -o colorized/
        torchrun --nproc_per_node 4 -m chromatize train cnn photos/ --out runs/ddp --threads 1
    """
    from tqdm import tqdm

    from ..train.cnn import train_cnn
    from ..train.distributed import dist_env, train_cnn_distributed

    env = dist_env()  # None unless started by torchrun
    lead = env is None or env.lead
    # smoothing 0: the estimate is the mean time per step so far, validations included
    bar = tqdm(desc="training", unit="step", file=sys.stderr, dynamic_ncols=True, disable=not lead, smoothing=0)

    def progress(info):
        if "val" in info:
            v = info["val"]
            bar.write(f"epoch {info['epoch']} step {info['step']}: " + " ".join(f"{k}={x:.3f}" for k, x in v.items()))
        else:
            bar.total = info["total"]
            bar.n = info["step"]
            bar.set_postfix(loss=f"{info['loss']:.4f}", refresh=True)

    train_fn = train_cnn if env is None else train_cnn_distributed
    result = train_fn(data, out, TrainConfig(**opts), resume=resume, overwrite=overwrite, progress=progress)
    bar.close()
    if lead:
        for note in result.get("notes", []):
            click.echo(f"note: {note}", err=True)
        click.echo(f"trained {result['step']} steps in {result['elapsed_s'] / 60:.1f} min; best model: {result['best_dir']}")


@train.command("hints")
@data_argument
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Run folder (log, best/).")
@setting(HintTrainConfig, "base", show_default=True, metavar="default|PATH",
         help="The automatic effnet CNN the head learns on (frozen): the bundled cnn or a model folder.")
@setting(HintTrainConfig, "steps", type=click.IntRange(1), show_default=True)
@setting(HintTrainConfig, "batch_size", type=click.IntRange(1), show_default=True)
@setting(HintTrainConfig, "crop", type=click.IntRange(32), show_default=True, help="Crop side, a multiple of 32.")
@setting(HintTrainConfig, "val_split", type=click.IntRange(0), show_default=True,
         help="Photos held out (the same split as train cnn with the same data and seed).")
@setting(HintTrainConfig, "val_every", type=click.IntRange(1), show_default=True, help="Steps between validations.")
@setting(HintTrainConfig, "init_head", metavar="default|PATH",
         help="Start from the hint head of the bundled cnn (default) or of a model folder (and keep its locality).")
@click.option("--alpha", type=click.FloatRange(0.0, 1.0), default=None,
              help=f"Initial share of a hint's own colour a pixel takes (learned; default {HintHeadConfig.alpha}).")
@setting(HintTrainConfig, "prior_gamma", type=click.FloatRange(0.0, 100.0), show_default=True,
         help="Strength of the hints' prior on the colour bins (0: none).")
@setting(HintTrainConfig, "prior_sigma", type=click.FloatRange(0.0, 1000.0, min_open=True), show_default=True,
         help="Width of that prior around each hinted colour, a*b* units.")
@setting(HintTrainConfig, "locality", metavar="TAU,KAPPA,SIGMA,RHO0|none",
         help="The hints' locality, used in training and validation and saved with the head (default: --init-head's).")
@pool_options(HintTrainConfig)
@run_options(HintTrainConfig)
def train_hints_cmd(data, out, overwrite, **opts):
    """Train a hint head: learned propagation of point hints on a frozen automatic CNN.

    Simulated hints as Zhang et al. 2017 draw them; the head learns how far,
    and to which pixels, a hint's colour should spread. OUT/best is a complete
    model (the base CNN plus the head): use it with --hints, --scribbles or the
    page (chromatize colorize -m OUT ...). With no hints it colorizes exactly
    as the base.

    \b
    Example:
        chromatize train hints photos/ --out runs/hints --time-budget-min 45
        chromatize colorize photo.jpg --hints photo.json -m runs/hints -o out/
    """
    from tqdm import tqdm

    from ..train.hints import train_hint_head

    bar = tqdm(desc="training", unit="step", file=sys.stderr, dynamic_ncols=True)

    def progress(info):
        if "val" in info:
            v = info["val"]
            bar.write(f"step {info['step']}: " + " ".join(f"{k}={x:.3f}" for k, x in v.items() if k.startswith("psnr")))
        else:
            bar.total = info["total"]
            bar.n = info["step"]
            bar.set_postfix(loss=f"{info['loss']:.5f}", refresh=True)

    alpha = opts.pop("alpha")
    head = {} if alpha is None else {"alpha": alpha}
    result = train_hint_head(data, out, HintTrainConfig(**opts, head=head), overwrite=overwrite, progress=progress)
    bar.close()
    click.echo(f"trained {result['step']} steps in {result['elapsed_s'] / 60:.1f} min; best model: {result['best_dir']}")


@train.command("mlp")
@data_argument
@click.option("--out", "-o", required=True, type=click.Path(file_okay=False, path_type=Path), help="Model folder to write.")
@report_options(MLPConfig)
@setting(MLPConfig, "seed", type=int, show_default=True, help="Seeds the initial weights and the photo order.")
@setting(MLPConfig, "engine", type=click.Choice(["fast", "reference", "minibatch"]), show_default=True,
         help="fast and reference run the report's per-pixel SGD; minibatch is a different algorithm.")
@setting(MLPConfig, "batch_size", type=click.IntRange(1), show_default=True, help="Pixels per update (minibatch only).")
@click.option("--overwrite", is_flag=True, help="Replace a model already in OUT.")
def train_mlp_cmd(data, out, overwrite, **opts):
    """Train the report's 25-16-2 MLP on photos (files or folders, searched recursively).

    \b
    Example:
        chromatize train mlp ../shared/datasets/scenes --out my_mlp --epochs 3
        chromatize colorize old.jpg --model my_mlp -o colorized/
    """
    from ..train.mlp import train_mlp

    bars = StageBars()
    try:
        result = train_mlp(data, out, MLPConfig(**opts), overwrite=overwrite, progress=bars)
    finally:
        bars.close()
    for path, reason in result.skipped:
        click.echo(f"skipped: {reason}", err=True)
    click.echo(f"trained on {result.n_images} photo(s), last epoch mean loss {result.losses[-1].mean():.5f}; saved {out}")


@main.group()
def experiment():
    """Re-run the report's experiments.

    \b
    Example:
        chromatize experiment seed-trials --data scenes/ --out runs/trials
    """


#: The seed-trials options recorded, in this order, in the command line its reports show.
_TRIAL_FLAGS = ("seeds", "first_seed", "n_train", "n_test", "size", "epochs", "lr", "split_seed", "trial1_category")


@experiment.command("seed-trials")
@click.option("--data", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder with one sub-folder of photos per category (e.g. beach/ forest/ sunrise/).")
@click.option("--out", "-o", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output folder.")
@click.option("--seeds", type=click.IntRange(1), default=len(TrialSettings.seeds), show_default=True,
              help="Training runs per trial: seeds FIRST-SEED.. .")
@click.option("--first-seed", type=int, default=TrialSettings.seeds[0], show_default=True, help="First training seed.")
@setting(TrialSettings, "n_train", type=click.IntRange(1), show_default=True, help="Training photos per trial.")
@setting(TrialSettings, "n_test", type=click.IntRange(1), show_default=True, help="Held-out test photos per category.")
@report_options(TrialSettings)
@setting(TrialSettings, "split_seed", type=int, show_default=True, help="Seeds the choice of test and training photos.")
@setting(TrialSettings, "trial1_category", show_default=True, help="The category trial 1 trains on.")
@click.option("--kind", "kinds", multiple=True, default=("mlp",), show_default=True,
              help="Model kind to train (repeat for several): mlp, mlp-minibatch, ...")
@click.option("--overwrite", is_flag=True, help="Replace an earlier seed-trials folder.")
def seed_trials_cmd(data, out, kinds, overwrite, **opts):
    """Trial 1 (train on one category) and trial 2 (all categories, several seeds).

    Writes PNG figures, report.md, report.html and results.json into OUT.

    \b
    Example:
        chromatize experiment seed-trials --data ../shared/datasets/scenes --out runs/trials
        chromatize experiment seed-trials --data scenes/ --out runs/t --seeds 10 --kind mlp --kind mlp-minibatch
    """
    import shlex

    from ..experiments.seed_trials import run_seed_trials

    command = shlex.join(["chromatize", "experiment", "seed-trials", "--data", str(data), "--out", str(out)]
                         + [a for k in _TRIAL_FLAGS for a in ("--" + k.replace("_", "-"), str(opts[k]))]
                         + [a for k in kinds for a in ("--kind", k)])
    seeds, first = opts.pop("seeds"), opts.pop("first_seed")
    settings = TrialSettings(seeds=tuple(range(first, first + seeds)), **opts)
    with progress_bar(len(settings.seeds) * len(kinds) * 2, "training runs") as bar:
        results = run_seed_trials(data, out, settings, kinds=kinds, overwrite=overwrite, command=command,
                                  progress=lambda done, total: bar.update(done - bar.n))
    for name, trial in results["trials"].items():
        for kind, res in trial["kinds"].items():
            cells = ", ".join(f"{c} {v['mean']:.5f} +- {v['std']:.5f}" for c, v in res["test_loss"].items())
            click.echo(f"{name} {kind}: test loss {cells}")
    click.echo(f"wrote {out}/report.html, report.md, results.json and figures")
