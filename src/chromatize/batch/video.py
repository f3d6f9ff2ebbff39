"""The batch's rules for one video: skip if done, colorize with steady colours, write atomically, never raise.

:func:`colorize_video_job` is what :func:`chromatize.batch.colorize_one` does
for a file with a video suffix; :class:`VideoSettings` carries what a batch
gives every video (the temporal and encoding options, the hints by frame).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2

from ..hints import Hint, HintError, as_hints
from ..io import ImageReadError, OutputExistsError, UriPath
from ..models import Colorizer
from ..text import one_line
from ..video import VideoOptions, colorize_video, parse_video_hints

__all__ = ["VideoSettings", "video_settings", "photo_hints", "colorize_video_job"]


@dataclass(frozen=True)
class VideoSettings:
    """What a batch applies to each of its videos.

    Attributes
    ----------
    options : VideoOptions
        Temporal settings, H.264 quality, frame-size limit, progress callback (``overwrite`` is the batch's).
    hints : dict of int to list of Hint
        Point hints by the frame they start on (:func:`chromatize.video.parse_video_hints`).
    """

    options: VideoOptions = field(default_factory=VideoOptions)
    hints: dict[int, list[Hint]] = field(default_factory=dict)


def video_settings(options: VideoOptions | None, hints=None) -> VideoSettings:
    """The batch's :class:`VideoSettings`: the options and the hints read and checked once.

    Raises
    ------
    chromatize.hints.HintError
        One line naming the hints file and the entry.
    """
    return VideoSettings(options or VideoOptions(), parse_video_hints(hints) if hints is not None else {})


def photo_hints(hints):
    """The hints a batch gives its photos: a photo is a one-frame video, so those of frame 0.

    Hints that photos accept as they are (no ``"frame"`` key) are returned as given.

    Raises
    ------
    chromatize.hints.HintError
        One line naming the file and the entry.
    """
    if hints is None:
        return None
    try:
        as_hints(hints)
        return hints
    except HintError:
        return parse_video_hints(hints).get(0, [])  # says what is wrong, if it is not the "frame" key


def colorize_video_job(src: Path | UriPath, dst: Path | UriPath, model: Colorizer, outcome, *,
                       settings: VideoSettings, overwrite: bool, render_size: int | None = None,
                       saturation: float | None = None, guidance: dict | None = None):
    """Colorize one video into ``dst``, filling in ``outcome`` (a :class:`chromatize.batch.FileOutcome`).

    The caller has done the skip rule. ``guidance`` holds the batch's
    ``reference`` and ``reference_strength``; scribbles are refused (they are
    drawn on one photo). Every failure becomes ``outcome.error``, one line naming ``src``.
    """
    guidance = guidance or {}
    if isinstance(src, UriPath) or isinstance(dst, UriPath):
        outcome.error = f"{src}: videos are read and written on this machine's disk only, not through URIs"
        return outcome
    if guidance.get("scribbles") is not None:
        outcome.error = f"{src}: scribbles are drawn for one photo; give a video point hints with \"frame\" instead"
        return outcome
    options = replace(settings.options, overwrite=overwrite)
    try:
        result = colorize_video(src, dst, model, hints=settings.hints or None, reference=guidance.get("reference"),
                                reference_strength=guidance.get("reference_strength"), render_size=render_size,
                                saturation=saturation, options=options)
    except OutputExistsError:  # another process wrote it meanwhile
        outcome.skipped = True
        return outcome
    except (ImageReadError, HintError) as exc:
        outcome.error = one_line(exc)
        return outcome
    except MemoryError:
        outcome.error = f"{src}: not enough memory to colorize it (try a smaller --render-size)"
        return outcome
    except (OSError, ValueError, cv2.error) as exc:
        outcome.error = f"{src}: {one_line(exc)}"
        return outcome
    outcome.written.append(dst)
    outcome.notes += result.notes
    return outcome
