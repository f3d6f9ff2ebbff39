"""The ``chromatize`` group and what its commands share: the error edge, options and progress bars.

:class:`Group` turns library errors (and a missing optional dependency) into
one line; the commands of :mod:`chromatize.cli.photos` and
:mod:`chromatize.cli.train` hang on :func:`main`.
"""

from __future__ import annotations

import errno
import functools
import sys
from pathlib import Path

import click

from ..guidance import Guidance
from ..io import ImageReadError, is_uri
from ..models import ModelFormatError, ModelRunError
from ..text import one_line

#: Library errors that the CLI turns into one-line messages (OSError: a full disk, a read-only folder, ...).
USER_ERRORS = (ImageReadError, ModelFormatError, ModelRunError, OSError, ValueError)
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


def _model_help() -> str:
    from ..models import bundled_models, hint_models

    takes = [m for m in hint_models() if m != "levin"]
    return (f"Bundled model name ({', '.join(bundled_models())}; {', '.join(takes)} take hints), gray, levin "
            "(hints spread along lightness; gray without them) or a model folder. Default: the bundled CNN.")


def hint_models_text() -> str:
    """``"cnn, cnn-small or levin"``: the models that take hints, for help texts."""
    from ..models import hint_models

    names = hint_models()
    return ", ".join(names[:-1]) + " or " + names[-1]


model_option = click.option("--model", "-m", default=None, metavar="NAME|PATH", help=_model_help())


#: The guidance options, defined once: (flags, click keywords). :func:`guidance_options` adds them.
GUIDANCE_OPTIONS = [
    (("--render-size",), dict(type=click.IntRange(8, 4096), default=None,
                              help="Working size of the model (CNN: longer side, default 256; choosing it: "
                                   "docs/FINETUNING.md). Never more than each photo's longer side (a larger value "
                                   "is lowered to it).")),
    (("--saturation",), dict(type=click.FloatRange(0, 10), default=None,
                             help="Colour gain relative to the model as shipped: 1 = as shipped (default), "
                                  "<1 paler, >1 more vivid.")),
    (("--hints",), dict(type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
                        help="JSON point hints, in the photo's pixels: a list of {\"x\", \"y\", \"color\": "
                             "\"#rrggbb\" or \"ab\": [a, b], \"size\"} or {\"hints\": [...]}. Applied to every "
                             "input; a photo they fall outside of fails (see docs/GUIDED.md). "
                             f"Needs --model {hint_models_text()}.")),
    (("--scribbles",), dict(type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
                            help="An RGBA PNG of the photo's size whose opaque pixels are colour strokes. Applied "
                                 "to every input; a photo of another size fails. "
                                 f"Needs --model {hint_models_text()}.")),
    (("--reference",), dict(type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
                            help="A colour photo whose colours guide the result (any model).")),
    (("--reference-strength",), dict(type=click.FloatRange(0, 1), default=None,
                                     help="How far to move towards the reference's colours: 0..1 (default 0.25).")),
]


def guidance_options(command):
    """Add the guidance options to a command, which then gets one ``guidance`` keyword: a
    :class:`~chromatize.guidance.Guidance` built once from them (bad files become one-line errors)."""
    names = [flags[0].lstrip("-").replace("-", "_") for flags, _ in GUIDANCE_OPTIONS]

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        given = {name: kwargs.pop(name) for name in names}
        return command(*args, guidance=Guidance.build(**given), **kwargs)

    for flags, options in reversed(GUIDANCE_OPTIONS):
        wrapper = click.option(*flags, **options)(wrapper)
    return wrapper


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
