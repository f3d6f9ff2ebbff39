"""The ``chromatize`` command line: thin commands over the library.

Each command parses its arguments and makes one library call; library errors
become one-line messages here, at the edge.
"""

from __future__ import annotations

import errno
import sys
from pathlib import Path

import click

from .io import ImageReadError, is_uri
from .models import ModelFormatError
from .text import one_line

#: Library errors that the CLI turns into one-line messages (OSError: a full disk, a read-only folder, ...).
USER_ERRORS = (ImageReadError, ModelFormatError, OSError, ValueError)
#: Optional dependencies, and the extra that installs each.
EXTRAS = {"torch": "train", "onnx": "train", "ray": "scale", "pyarrow": "scale"}


class PathOrURI(click.Path):
    """A path, as ``click.Path`` gives it, or a URI (``s3://bucket/key``) kept as text (``Path`` folds ``//``)."""

    def convert(self, value, param, ctx):
        return value if is_uri(value) else super().convert(value, param, ctx)


class Group(click.Group):
    """A click group that prints library errors as one line, never a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ModuleNotFoundError as exc:
            top = (exc.name or "").split(".")[0]
            if top not in EXTRAS:
                raise
            raise click.ClickException(
                f"this command needs {top}, which is not installed: pip install 'chromatize[{EXTRAS[top]}]'") from None
        except USER_ERRORS as exc:
            raise click.ClickException(one_line(exc)) from None


def listen_error(host: str, port: int, exc: BaseException) -> str:
    """One line saying why a server could not listen on ``host:port``."""
    if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
        return f"cannot serve on {host}:{port}: the port is taken (choose another with --port, or --port 0 for a free one)"
    return f"cannot serve on {host}:{port}: {one_line(exc)}"


def progress_bar(total: int, desc: str):
    """A tqdm bar on stderr, shown only for more than one item and on a terminal."""
    from tqdm import tqdm

    hide = total <= 1 or not sys.stderr.isatty()
    return tqdm(total=total, desc=desc, unit="img", disable=hide, file=sys.stderr, leave=False)


def exit_on_failures(failed: list) -> None:
    """List the files a batch could not handle, one line each, and exit with status 1."""
    if failed:
        for _, reason in failed:
            click.echo(f"error: {reason}", err=True)
        click.echo(f"{len(failed)} file(s) failed", err=True)
        sys.exit(1)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="chromatize")
def main():
    """Turn grayscale photographs into colour ones.

    \b
    Example:
        chromatize colorize old_photos/ -o colorized/
    """


model_option = click.option(
    "--model", "-m", default=None, metavar="NAME|PATH",
    help="Bundled model name (cnn, mlp), gray, levin (hints spread along lightness; gray without them) "
         "or a model folder. Default: the bundled CNN.",
)


@main.command()
@click.argument("inputs", nargs=-1, type=PathOrURI(path_type=Path))
@model_option
@click.option("-o", "--out", "outdir", required=True, type=PathOrURI(file_okay=False, path_type=Path),
              help="Output folder, or a URI: s3://bucket/out, gs://bucket/out (through pyarrow).")
@click.option("--render-size", type=click.IntRange(8, 4096), default=None,
              help="Working size of the model (CNN: longer side, default 256; choosing it: docs/FINETUNING.md).")
@click.option("--overwrite", is_flag=True,
              help="Redo files whose outputs exist and replace them (never an input file). "
                   "Default: skip them, so rerunning a stopped batch finishes only what is missing.")
@click.option("--recursive", "-r", is_flag=True, help="Also colorize images in sub-folders of input folders.")
@click.option("--compare", is_flag=True, help="Also write original | gray | colorized side by side.")
@click.option("--samples", is_flag=True, help="Colorize the sample photos bundled with chromatize.")
@click.option("--format", "fmt", type=click.Choice(["png", "jpg", "same"]), default="same", show_default=True,
              help="Output format (same: the input's, or png for formats chromatize does not write, e.g. GIF).")
@click.option("--saturation", type=click.FloatRange(0, 10), default=None,
              help="Colour gain relative to the model as shipped: 1 = as shipped (default), <1 paler, >1 more vivid.")
@click.option("--hints", "hints", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="JSON point hints, in the photo's pixels: a list of {\"x\", \"y\", \"color\": \"#rrggbb\" "
                   "or \"ab\": [a, b], \"size\"} or {\"hints\": [...]}. Applied to every input; a photo "
                   "they fall outside of fails (see docs/GUIDED.md). Needs --model cnn or levin.")
@click.option("--scribbles", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="An RGBA PNG of the photo's size whose opaque pixels are colour strokes. Applied to every "
                   "input; a photo of another size fails. Needs --model cnn or levin.")
@click.option("--reference", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="A colour photo whose colours guide the result (any model).")
@click.option("--reference-strength", type=click.FloatRange(0, 1), default=None,
              help="How far to move towards the reference's colours: 0..1 (default 0.25).")
@click.option("--ray", "use_ray", is_flag=True,
              help="Run the batch on Ray Data: a local Ray on this machine, or the cluster of --ray-address. "
                   "The same outputs, names, skip/resume and error report as without it. "
                   "Needs: pip install 'chromatize[scale]'.")
@click.option("--ray-address", default=None, metavar="ADDRESS",
              help="Join this Ray cluster (implies --ray): auto (this machine's cluster) or ray://HOST:10001. "
                   "Inputs, OUT and the model must be at the same paths on every node "
                   "(or inputs and OUT s3://, gs:// URIs).")
@click.option("--ray-workers", type=click.IntRange(1), default=None,
              help="Ray actors, each holding one model copy. Default: the cluster's CPUs / --ray-threads.")
@click.option("--ray-threads", type=click.IntRange(1), default=1, show_default=True,
              help="CPU threads (and Ray CPUs) per Ray actor.")
def colorize(inputs, model, outdir, render_size, overwrite, recursive, compare, samples, fmt, saturation,
             hints, scribbles, reference, reference_strength, use_ray, ray_address, ray_workers, ray_threads):
    """Colorize photos (files or folders, or s3://, gs:// URIs) into OUT, keeping each file's name.

    Outputs keep each input folder's layout (scans/2020/a.jpg, given as scans/,
    becomes OUT/2020/a.jpg). Inputs that would get the same output name are
    renamed, the same way on every run: same-named files from different folders
    get their path from the folder they share (OUT/trip1/a.jpg, OUT/trip2/a.jpg),
    same-stem files of one folder their full name (OUT/a.gif.png, OUT/a.png.png).
    No output ever replaces an input file. Files whose outputs exist are skipped,
    so rerunning an interrupted batch finishes it; --overwrite redoes them.
    Files that fail are listed at the end (exit status 1).

    \b
    Example:
        chromatize colorize scan1.jpg scans/ -o colorized/
        chromatize colorize albums/ -o colorized/ --recursive     # rerun it to resume
        chromatize colorize --samples -o demo_out --compare
        chromatize colorize scan.jpg -o out/ --hints scan_hints.json --model levin
        chromatize colorize scan.jpg -o out/ --scribbles strokes.png --reference beach.jpg
        chromatize colorize archive/ -o colorized/ -r --ray                    # a local Ray
        chromatize colorize /mnt/archive -o /mnt/colorized -r --ray-address auto --ray-threads 2
        chromatize colorize s3://bucket/scans -o s3://bucket/colorized -r --ray-address auto
    """
    from .batch import colorize_files, sample_images

    inputs = list(inputs) + (sample_images() if samples else [])
    if not inputs:
        raise click.UsageError("give at least one INPUT file or folder, or --samples")
    run_batch = colorize_files
    if use_ray or ray_address:
        from functools import partial

        from .ray_batch import colorize_files_ray

        run_batch = partial(colorize_files_ray, address=ray_address, workers=ray_workers, threads=ray_threads)
    bars = StageBars()
    try:
        result = run_batch(
            inputs, outdir, model, render_size=render_size, saturation=saturation, overwrite=overwrite,
            compare=compare, suffix=None if fmt == "same" else "." + fmt, recursive=recursive,
            progress=lambda done, total, _path: bars("colorizing", done, total),
            hints=hints, scribbles=scribbles, reference=reference, reference_strength=reference_strength,
        )
    finally:
        bars.close()
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    if result.removed_temp:
        click.echo(f"note: removed {len(result.removed_temp)} temp file(s) left by an interrupted run", err=True)
    summary = f"colorized {len(result.colorized)} image(s) into {outdir}"
    if result.skipped:
        summary += f"; {len(result.skipped)} already done, skipped (--overwrite redoes them)"
    click.echo(summary)
    exit_on_failures(result.failed)


@main.command()
@click.argument("data", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--model", "-m", "models", multiple=True, metavar="NAME|PATH",
              help="A model to score (repeat for several). Default: the bundled default model.")
@click.option("--size", type=click.IntRange(0), default=512, show_default=True,
              help="Longer side images are reduced to (never enlarged); 0 keeps every image's own size.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Write summary and per-image scores as JSON.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), help="Write the summary table as CSV.")
@click.option("--report", "report_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write an HTML report (index.html + thumbs/) into this folder.")
@click.option("--overwrite", is_flag=True, help="Replace existing output files.")
@click.option("--hints", "hint_counts", default=None, metavar="N,N,...",
              help="Hint sweep (Zhang et al. 2017): score each model with N simulated user points per photo "
                   "(5x5 squares of the true mean colour, drawn around the centre), e.g. 0,1,2,5,10,20,50,100. "
                   "Models must accept hints (cnn, levin); the report then holds the tables and a plot.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seeds the sweep's points (--hints).")
def evaluate(data, models, size, json_path, csv_path, report_dir, overwrite, hint_counts, seed):
    """Score models and the gray and mean-a*b* baselines on datasets (folders or files).

    Each image is reduced to --size on its longer side, colorized from its own
    L and compared with itself (see docs/EVALUATION.md). Files that cannot be
    read are listed at the end and make the exit status 1. With --hints, each
    model is scored instead at every number of points (docs/GUIDED.md).

    \b
    Example:
        chromatize evaluate ../shared/datasets/kodak24 --model mlp --model cnn
        chromatize evaluate photos/ -m my_model --json scores.json --csv scores.csv --report eval_report
        chromatize evaluate ../shared/datasets/kodak24 -m cnn -m levin --hints 0,1,2,5,10,20,50,100 --report sweep
    """
    from .evaluate import format_sweep, format_table, parse_counts, run_evaluation, run_sweep

    counts = None
    if hint_counts is not None:
        try:
            counts = parse_counts(hint_counts)
        except ValueError as exc:
            raise click.BadParameter(one_line(exc), param_hint="--hints") from None
    bars = StageBars()
    try:
        if counts is None:
            result = run_evaluation(data, list(models), size or None, json_path=json_path, csv_path=csv_path,
                                    report_dir=report_dir, overwrite=overwrite,
                                    progress=lambda done, total, _path: bars("evaluating", done, total))
        else:
            result = run_sweep(data, list(models), counts, size or None, json_path=json_path, csv_path=csv_path,
                               report_dir=report_dir, overwrite=overwrite, seed=seed,
                               progress=lambda done, total, _path: bars("sweeping", done, total))
    finally:
        bars.close()
    click.echo(format_table(result) if counts is None else format_sweep(result))
    for written in (json_path, csv_path, report_dir and report_dir / "index.html"):
        if written:
            click.echo(f"wrote {written}")
    exit_on_failures(result.failed)


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

    from .train.cnn import TrainConfig, train_cnn
    from .train.distributed import dist_env, train_cnn_distributed

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

    from .train.hints import HintTrainConfig, train_hint_head

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


class StageBars:
    """A progress callback ``(stage, done, total)`` that shows one tqdm bar per stage."""

    def __init__(self):
        self.bar, self.stage = None, None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            self.close()
            self.bar, self.stage = progress_bar(total, stage), stage
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


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
    from .models.mlp import MLPConfig
    from .train.mlp import train_mlp

    config = MLPConfig(lr=lr, epochs=epochs, size=size, seed=seed, engine=engine, batch_size=batch_size)
    bars = StageBars()
    try:
        result = train_mlp(data, out, config, overwrite=overwrite, progress=bars)
    finally:
        bars.close()
    for path, reason in result.skipped:
        click.echo(f"skipped: {reason}", err=True)
    click.echo(f"trained on {result.n_images} photo(s), last epoch mean loss {result.losses[-1].mean():.5f}; saved {out}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port (0 picks a free one).")
@model_option
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64),
              help="Photos colorized at once (threads); more requests wait in a bounded queue.")
def serve(host, port, model, workers):
    """Serve the interactive colorizing page: drop a photo, click to add colour hints.

    The page compares before and after, suggests colours for each hint, takes
    brush scribbles and a reference photo, and downloads the result under the
    input's name. It is for this machine: it listens on 127.0.0.1 unless told
    otherwise and refuses requests made by other web sites.

    \b
    Example:
        chromatize serve                  # then open http://127.0.0.1:8000/
        chromatize serve --port 8080 --workers 4 --model mlp
    """
    from .web import make_server

    try:  # a busy port: OSError from a socket server, SystemExit(1) from uvicorn
        server = make_server(host, port, model=model, workers=workers)
    except OSError as exc:
        raise click.ClickException(listen_error(host, port, exc)) from None
    click.echo(f"serving on http://{server.server_address[0]}:{server.server_address[1]}/ (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    except SystemExit as exc:
        if exc.code in (0, None):
            raise
        raise click.ClickException(listen_error(host, port, exc)) from None
    finally:
        server.server_close()


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

    from .experiments.seed_trials import run_seed_trials
    from .experiments.trials import TrialSettings

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
