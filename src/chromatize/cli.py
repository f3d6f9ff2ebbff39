"""The ``chromatize`` command line: thin commands over the library.

Each command parses its arguments and makes one library call; library errors
become one-line messages here, at the edge.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .io import ImageReadError
from .models import ModelFormatError

#: Library errors that the CLI turns into one-line messages.
USER_ERRORS = (ImageReadError, ModelFormatError, FileNotFoundError, FileExistsError, ValueError)


class Group(click.Group):
    """A click group that prints library errors as one line, never a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except USER_ERRORS as exc:
            raise click.ClickException(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None


def progress_bar(total: int, desc: str):
    """A tqdm bar on stderr, shown only for more than one item and on a terminal."""
    from tqdm import tqdm

    hide = total <= 1 or not sys.stderr.isatty()
    return tqdm(total=total, desc=desc, unit="img", disable=hide, file=sys.stderr, leave=False)


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
    help="Bundled model name (cnn, mlp, gray) or a model folder. Default: the bundled CNN.",
)


@main.command()
@click.argument("inputs", nargs=-1, type=click.Path(path_type=Path))
@model_option
@click.option("-o", "--out", "outdir", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output folder.")
@click.option("--render-size", type=click.IntRange(8, 4096), default=None, help="Working size of the model (CNN: longer side, default 256).")
@click.option("--overwrite", is_flag=True, help="Replace existing output files.")
@click.option("--compare", is_flag=True, help="Also write original | gray | colorized side by side.")
@click.option("--samples", is_flag=True, help="Colorize the sample photos bundled with chromatize.")
@click.option("--format", "fmt", type=click.Choice(["png", "jpg", "same"]), default="same", show_default=True, help="Output format.")
def colorize(inputs, model, outdir, render_size, overwrite, compare, samples, fmt):
    """Colorize photos (files or folders) into OUT, keeping each file's name.

    \b
    Example:
        chromatize colorize scan1.jpg scans/ -o colorized/
        chromatize colorize --samples -o demo_out --compare
    """
    from .batch import colorize_files, sample_images

    inputs = list(inputs) + (sample_images() if samples else [])
    if not inputs:
        raise click.UsageError("give at least one INPUT file or folder, or --samples")
    from .io import list_images

    files = list_images(inputs)
    with progress_bar(len(files), "colorizing") as bar:
        result = colorize_files(
            files, outdir, model, render_size=render_size, overwrite=overwrite, compare=compare,
            suffix=None if fmt == "same" else "." + fmt, progress=lambda _: bar.update(1),
        )
    n_out = len(files) - len(result.failed)
    click.echo(f"colorized {n_out} of {len(files)} image(s) into {outdir}")
    if result.failed:
        for _, reason in result.failed:
            click.echo(f"error: {reason}", err=True)
        click.echo(f"{len(result.failed)} file(s) failed", err=True)
        sys.exit(1)


@main.group()
def train():
    """Train a colorizer.

    \b
    Example:
        chromatize train mlp photos/ --out my_mlp
    """


@main.group()
def experiment():
    """Re-run the report's experiments.

    \b
    Example:
        chromatize experiment seed-trials --data scenes/ --out runs/trials
    """
