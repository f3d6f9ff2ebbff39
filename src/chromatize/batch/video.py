"""The batch's rules for one video: skip if done, colorize with steady colours, write atomically, never raise.

:func:`colorize_video_job` is what :func:`chromatize.batch.colorize_one` does
for a file with a video suffix; the batch's :class:`~chromatize.batch.BatchOptions`
carries what it gives every video (:class:`chromatize.video.VideoOptions`), its
:class:`~chromatize.guidance.Guidance` the hints by frame.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2

from ..guidance import Guidance
from ..hints import HintError
from ..io import ImageReadError, OutputExistsError, UriPath
from ..models import Colorizer
from ..text import one_line
from ..video import VideoOptions, colorize_video

__all__ = ["colorize_video_job"]


def colorize_video_job(src: Path | UriPath, dst: Path | UriPath, model: Colorizer, outcome, *, guidance: Guidance,
                       options: VideoOptions | None, overwrite: bool):
    """Colorize one video into ``dst``, filling in ``outcome`` (a :class:`chromatize.batch.FileOutcome`).

    The caller has done the skip rule. Scribbles are refused (they are drawn on
    one photo). Every failure becomes ``outcome.error``, one line naming ``src``.
    """
    if isinstance(src, UriPath) or isinstance(dst, UriPath):
        outcome.error = f"{src}: videos are read and written on this machine's disk only, not through URIs"
        return outcome
    if guidance.scribbles is not None:
        outcome.error = f"{src}: scribbles are drawn for one photo; give a video point hints with \"frame\" instead"
        return outcome
    options = replace(options or VideoOptions(), overwrite=overwrite)
    try:
        result = colorize_video(src, dst, model, options=options, guidance=guidance)
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
