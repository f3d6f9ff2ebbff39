"""The commands that train models: ``train cnn``, ``train hints``, ``train mlp`` and ``experiment seed-trials``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .base import StageBars, main, progress_bar


@main.group()
def train():
    """Train a colorizer.

    \b
    Example:
        chromatize train mlp photos/ --out my_mlp
    """


@train.command("cnn")
@click.argument("data", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Run folder (checkpoints, log, best/).")
@click.option("--arch", type=click.Choice(["colornet", "effnet"]), default="colornet", show_default=True,
              help="colornet: small net from scratch; effnet: pretrained EfficientNet-Lite0 encoder + U-Net decoder.")
@click.option("--loss", type=click.Choice(["classify", "l2", "l1"]), default="classify", show_default=True,
              help="Zhang et al. bins + regression head, or plain L2 / L1 regression.")
@click.option("--reg-loss", type=click.Choice(["l2", "l1"]), default="l2", show_default=True,
              help="Loss of the regression head beside the bins (--loss classify).")
@click.option("--reg-weight", type=click.FloatRange(0), default=1.0, show_default=True, help="Weight of the regression head.")
@click.option("--rebalance", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="Zhang's class-rebalancing lambda (1 = no rebalancing).")
@click.option("--epochs", type=click.IntRange(1), default=20, show_default=True)
@click.option("--steps", type=click.IntRange(0), default=0, help="Total steps (overrides --epochs).")
@click.option("--batch-size", type=click.IntRange(1), default=32, show_default=True)
@click.option("--crop", type=click.IntRange(16), default=128, show_default=True,
              help="Crop side, a multiple of the net's stride (colornet 16, effnet 32).")
@click.option("--lr", type=float, default=2e-3, show_default=True, help="Peak learning rate.")
@click.option("--lr-encoder", type=float, default=0.0, help="Peak learning rate of a pretrained encoder (default: --lr).")
@click.option("--weight-decay", type=click.FloatRange(0), default=1e-4, show_default=True)
@click.option("--warmup-steps", type=click.IntRange(1), default=150, show_default=True)
@click.option("--long-side", type=click.IntRange(32), default=256, show_default=True,
              help="Photos are resized so their longer side is this before cropping.")
@click.option("--tune-render-size", "tune_render_sizes", type=click.IntRange(32, 4096), multiple=True, default=(256,),
              show_default=True, help="Working size tried when the decoding is tuned (repeat for several).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--val-split", type=click.IntRange(0), default=200, show_default=True, help="Photos held out for validation.")
@click.option("--checkpoint-every", type=click.IntRange(1), default=200, show_default=True, help="Steps between checkpoints.")
@click.option("--resume", is_flag=True, help="Continue the run in --out.")
@click.option("--init", default="", metavar="default|PATH", help="Fine-tune from the bundled CNN (default) or a model folder.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--threads", type=click.IntRange(1), default=2, show_default=True, help="CPU threads.")
@click.option("--time-budget-min", type=float, default=0.0, help="Stop after this many minutes (the schedule fits it).")
@click.option("--hints", is_flag=True, help="Train with simulated point hints as extra inputs (effnet; Zhang et al. 2017).")
@click.option("--min-chroma", type=click.FloatRange(0), default=0.0, help="Drop photos whose mean a*b* chroma is below this.")
@click.option("--overwrite", is_flag=True, help="Start afresh in an --out that holds a run.")
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
    from ..train.cnn_run import TrainConfig
    from ..train.distributed import dist_env, train_cnn_distributed

    env = dist_env()  # None unless started by torchrun
    lead = env is None or env.lead
    bar = tqdm(desc="training", unit="step", file=sys.stderr, dynamic_ncols=True, disable=not lead)

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
        click.echo(f"trained {result['step']} steps in {result['elapsed_s'] / 60:.1f} min; best model: {result['best_dir']}")


@train.command("hints")
@click.argument("data", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Run folder (log, best/).")
@click.option("--base", default="default", show_default=True, metavar="default|PATH",
              help="The automatic effnet CNN the head learns on (frozen): the bundled cnn or a model folder.")
@click.option("--steps", type=click.IntRange(1), default=3000, show_default=True)
@click.option("--batch-size", type=click.IntRange(1), default=16, show_default=True)
@click.option("--crop", type=click.IntRange(32), default=160, show_default=True, help="Crop side, a multiple of 32.")
@click.option("--long-side", type=click.IntRange(32), default=256, show_default=True,
              help="Photos are resized so their longer side is this before cropping.")
@click.option("--lr", type=float, default=3e-3, show_default=True, help="Peak learning rate.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--val-split", type=click.IntRange(0), default=200, show_default=True,
              help="Photos held out (the same split as train cnn with the same data and seed).")
@click.option("--val-every", type=click.IntRange(1), default=300, show_default=True, help="Steps between validations.")
@click.option("--init-head", default="", metavar="PATH", help="Start from the hint head of this model folder.")
@click.option("--alpha", type=click.FloatRange(0.0, 1.0), default=None,
              help="Initial share of a hint's own colour a pixel takes (learned; default 0.5).")
@click.option("--prior-gamma", type=click.FloatRange(0.0, 100.0), default=0.1, show_default=True,
              help="Strength of the hints' prior on the colour bins (0: none).")
@click.option("--prior-sigma", type=click.FloatRange(0.0, 1000.0, min_open=True), default=10.0, show_default=True,
              help="Width of that prior around each hinted colour, a*b* units.")
@click.option("--threads", type=click.IntRange(1), default=2, show_default=True, help="CPU threads.")
@click.option("--time-budget-min", type=float, default=0.0, help="Stop after this many minutes (the schedule fits it).")
@click.option("--overwrite", is_flag=True, help="Start afresh in an --out that holds a run.")
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

    from ..train.hints import HintTrainConfig, train_hint_head

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
@click.argument("data", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--out", "-o", required=True, type=click.Path(file_okay=False, path_type=Path), help="Model folder to write.")
@click.option("--epochs", type=click.IntRange(1), default=1, show_default=True, help="Passes over the photos.")
@click.option("--lr", type=click.FloatRange(0, min_open=True), default=0.01, show_default=True, help="Learning rate.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seeds the initial weights and the photo order.")
@click.option("--size", type=click.IntRange(5, 1024), default=64, show_default=True, help="Photos are resized to SIZE x SIZE.")
@click.option("--engine", type=click.Choice(["fast", "reference", "minibatch"]), default="fast", show_default=True,
              help="fast and reference run the report's per-pixel SGD; minibatch is a different algorithm.")
@click.option("--batch-size", type=click.IntRange(1), default=256, show_default=True, help="Pixels per update (minibatch only).")
@click.option("--overwrite", is_flag=True, help="Replace a model already in OUT.")
def train_mlp_cmd(data, out, epochs, lr, seed, size, engine, batch_size, overwrite):
    """Train the report's 25-16-2 MLP on photos (files or folders, searched recursively).

    \b
    Example:
        chromatize train mlp ../shared/datasets/scenes --out my_mlp --epochs 3
        chromatize colorize old.jpg --model my_mlp -o colorized/
    """
    from ..models.mlp import MLPConfig
    from ..train.mlp import train_mlp

    config = MLPConfig(lr=lr, epochs=epochs, size=size, seed=seed, engine=engine, batch_size=batch_size)
    bars = StageBars()
    try:
        result = train_mlp(data, out, config, overwrite=overwrite, progress=bars)
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


@experiment.command("seed-trials")
@click.option("--data", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder with one sub-folder of photos per category (e.g. beach/ forest/ sunrise/).")
@click.option("--out", "-o", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output folder.")
@click.option("--seeds", type=click.IntRange(1), default=5, show_default=True, help="Training runs per trial: seeds FIRST-SEED.. .")
@click.option("--first-seed", type=int, default=0, show_default=True, help="First training seed.")
@click.option("--n-train", type=click.IntRange(1), default=53, show_default=True, help="Training photos per trial.")
@click.option("--n-test", type=click.IntRange(1), default=50, show_default=True, help="Held-out test photos per category.")
@click.option("--size", type=click.IntRange(5, 1024), default=64, show_default=True, help="Photos are resized to SIZE x SIZE.")
@click.option("--epochs", type=click.IntRange(1), default=1, show_default=True, help="Passes over the training photos.")
@click.option("--lr", type=click.FloatRange(0, min_open=True), default=0.01, show_default=True, help="Learning rate.")
@click.option("--split-seed", type=int, default=0, show_default=True, help="Seeds the choice of test and training photos.")
@click.option("--trial1-category", default="beach", show_default=True, help="The category trial 1 trains on.")
@click.option("--kind", "kinds", multiple=True, default=("mlp",), show_default=True,
              help="Model kind to train (repeat for several): mlp, mlp-minibatch, ...")
@click.option("--overwrite", is_flag=True, help="Replace an earlier seed-trials folder.")
def seed_trials_cmd(data, out, seeds, first_seed, n_train, n_test, size, epochs, lr, split_seed, trial1_category,
                    kinds, overwrite):
    """Trial 1 (train on one category) and trial 2 (all categories, several seeds).

    Writes PNG figures, report.md, report.html and results.json into OUT.

    \b
    Example:
        chromatize experiment seed-trials --data ../shared/datasets/scenes --out runs/trials
        chromatize experiment seed-trials --data scenes/ --out runs/t --seeds 10 --kind mlp --kind mlp-minibatch
    """
    import shlex

    from ..experiments.seed_trials import run_seed_trials
    from ..experiments.trials import TrialSettings

    settings = TrialSettings(seeds=tuple(range(first_seed, first_seed + seeds)), n_train=n_train, n_test=n_test,
                             size=size, epochs=epochs, lr=lr, split_seed=split_seed, trial1_category=trial1_category)
    command = shlex.join(["chromatize", "experiment", "seed-trials", "--data", str(data), "--out", str(out),
                          "--seeds", str(seeds), "--first-seed", str(first_seed), "--n-train", str(n_train),
                          "--n-test", str(n_test), "--size", str(size), "--epochs", str(epochs), "--lr", str(lr),
                          "--split-seed", str(split_seed), "--trial1-category", trial1_category]
                         + [a for k in kinds for a in ("--kind", k)])
    with progress_bar(len(settings.seeds) * len(kinds) * 2, "training runs") as bar:
        results = run_seed_trials(data, out, settings, kinds=kinds, overwrite=overwrite, command=command,
                                  progress=lambda done, total: bar.update(done - bar.n))
    for name, trial in results["trials"].items():
        for kind, res in trial["kinds"].items():
            cells = ", ".join(f"{c} {v['mean']:.5f} +- {v['std']:.5f}" for c, v in res["test_loss"].items())
            click.echo(f"{name} {kind}: test loss {cells}")
    click.echo(f"wrote {out}/report.html, report.md, results.json and figures")
