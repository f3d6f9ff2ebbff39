"""The commands that work on photos: ``colorize`` (many files), ``evaluate`` (scores) and ``serve`` (the page)."""

from __future__ import annotations

from pathlib import Path

import click

from ..text import one_line
from .base import PathOrURI, StageBars, exit_on_failures, guidance_options, listen_error, main, model_option

#: The Ray options of ``colorize``, which go to :func:`chromatize.batch.ray.colorize_files_ray`.
RAY_OPTIONS = ("ray_address", "ray_workers", "ray_threads")


@main.command()
@click.argument("inputs", nargs=-1, type=PathOrURI(path_type=Path))
@model_option
@click.option("-o", "--out", "outdir", required=True, type=PathOrURI(file_okay=False, path_type=Path),
              help="Output folder, or a URI: s3://bucket/out, gs://bucket/out (through pyarrow).")
@click.option("--overwrite", is_flag=True,
              help="Redo files whose outputs exist and replace them. Only files chromatize wrote are replaced "
                   "or skipped: an input, or any file of yours in an output's place, fails that file instead. "
                   "Default: skip them, so rerunning a stopped batch finishes only what is missing.")
@click.option("--recursive", "-r", is_flag=True, help="Also colorize images in sub-folders of input folders.")
@click.option("--compare", is_flag=True, help="Also write original | gray | colorized side by side.")
@click.option("--samples", is_flag=True, help="Colorize the sample photos bundled with chromatize.")
@click.option("--format", "fmt", type=click.Choice(["png", "jpg", "same"]), default="same", show_default=True,
              help="Output format (same: the input's, or png for formats chromatize does not write, e.g. GIF).")
@guidance_options
@click.option("--crf", type=click.IntRange(0, 51), default=18, show_default=True,
              help="Videos: H.264 quality, 0 (lossless) .. 51; 18 looks like the input, 23 is smaller.")
@click.option("--per-frame", is_flag=True,
              help="Videos: colorize each frame on its own (flickers; for comparison). "
                   "Default: colours follow the motion and start afresh at each scene cut.")
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
def colorize(inputs, model, outdir, guidance, samples, crf, per_frame, **output):
    """Colorize photos (files or folders, or s3://, gs:// URIs) into OUT, keeping each file's name.

    Outputs keep each input folder's layout (scans/2020/a.jpg, given as scans/,
    becomes OUT/2020/a.jpg). Inputs that would get the same output name are
    renamed, the same way on every run: same-named files from different folders
    get their path from the folder they share (OUT/trip1/a.jpg, OUT/trip2/a.jpg),
    same-stem files of one folder their full name (OUT/a.gif.png, OUT/a.png.png).
    No output ever replaces an input file, nor any file chromatize did not write
    (outputs carry a mark in their metadata). Files whose outputs exist are
    skipped, so rerunning an interrupted batch finishes it; --overwrite redoes them.
    Files that fail are listed at the end (exit status 1).

    A video (mp4, mkv, mov, avi, webm) becomes an H.264 video of the same
    frames, timestamps, size and rotation, its audio and subtitles copied
    (film.mp4 -> OUT/film.mp4; mkv, avi and webm -> .mkv), with colours that
    follow the motion; hints may name the frame they start on ("frame": N).

    \b
    Example:
        chromatize colorize scan1.jpg scans/ -o colorized/
        chromatize colorize film.mp4 -o colorized/ --crf 20              # a video
        chromatize colorize albums/ -o colorized/ --recursive     # rerun it to resume
        chromatize colorize --samples -o demo_out --compare
        chromatize colorize scan.jpg -o out/ --hints scan_hints.json --model levin
        chromatize colorize scan.jpg -o out/ --scribbles strokes.png --reference beach.jpg
        chromatize colorize archive/ -o colorized/ -r --ray                    # a local Ray
        chromatize colorize /mnt/archive -o /mnt/colorized -r --ray-address auto --ray-threads 2
        chromatize colorize s3://bucket/scans -o s3://bucket/colorized -r --ray-address auto
    """
    from ..batch import BatchOptions, colorize_files, sample_images

    inputs = list(inputs) + (sample_images() if samples else [])
    if not inputs:
        raise click.UsageError("give at least one INPUT file or folder, or --samples")
    fmt, use_ray, ray = output.pop("fmt"), output.pop("use_ray"), {k: output.pop(k) for k in RAY_OPTIONS}
    bars = StageBars()
    options = BatchOptions(suffix=None if fmt == "same" else "." + fmt, video=_video_options(crf, per_frame, bars),
                           **output)
    progress = lambda done, total, _path: bars("colorizing", done, total)  # noqa: E731
    try:
        if use_ray or ray["ray_address"]:
            from ..batch.ray import colorize_files_ray

            result = colorize_files_ray(inputs, outdir, model, guidance, options, address=ray["ray_address"],
                                        workers=ray["ray_workers"], threads=ray["ray_threads"], progress=progress)
        else:
            result = colorize_files(inputs, outdir, model, guidance, options, progress=progress)
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


def _video_options(crf: int, per_frame: bool, bars: StageBars):
    """The batch's video options from the command line; frame progress on its own bar."""
    from ..io import VideoEncoding
    from ..video import TemporalSettings, VideoOptions

    return VideoOptions(temporal=None if per_frame else TemporalSettings(), encoding=VideoEncoding(crf=crf),
                        progress=lambda done, total: bars("frames", done, total))


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
@click.option("--hint-counts", "hint_counts", default=None, metavar="N,N,...",
              help="Hint sweep (Zhang et al. 2017): score each model with N simulated user points per photo "
                   "(5x5 squares of the true mean colour, drawn around the centre), e.g. 0,1,2,5,10,20,50,100. "
                   "Models must accept hints (cnn, levin); the report then holds the tables and a plot.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seeds the sweep's points (--hint-counts).")
def evaluate(data, models, size, json_path, csv_path, report_dir, overwrite, hint_counts, seed):
    """Score models and the gray and mean-a*b* baselines on datasets (folders or files).

    Each image is reduced to --size on its longer side, colorized from its own
    L and compared with itself (see docs/EVALUATION.md). Files that cannot be
    read are listed at the end and make the exit status 1. With --hint-counts, each
    model is scored instead at every number of points (docs/GUIDED.md).

    \b
    Example:
        chromatize evaluate ../shared/datasets/kodak24 --model mlp --model cnn
        chromatize evaluate photos/ -m my_model --json scores.json --csv scores.csv --report eval_report
        chromatize evaluate ../shared/datasets/kodak24 -m cnn -m levin --hint-counts 0,1,2,5,10,20,50,100 --report sweep
    """
    from ..evaluate import format_sweep, format_table, parse_counts, run_evaluation, run_sweep

    counts = None
    if hint_counts is not None:
        try:
            counts = parse_counts(hint_counts)
        except ValueError as exc:
            raise click.BadParameter(one_line(exc), param_hint="--hint-counts") from None
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
    from ..web import make_server

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
