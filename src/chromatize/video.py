"""Colorizing videos with colours that do not flicker.

Each frame goes through the photo path (:func:`chromatize.infer.predict_ab`,
at the model's working size); its a*b* is then blended with the previous
frame's output brought onto it by optical flow (OpenCV's DIS, computed at the
working size), wherever the motion passes the forward-backward test. The blend
is a running average that follows the motion, so colours stay put on a moving
object instead of flickering from frame to frame. Averaging two different
colours shrinks their chroma (a washed-out look); the blend therefore restores
the chroma magnitude to the average of the two magnitudes.

A frame whose lightness histogram differs from the previous one by more than
``TemporalSettings.cut``, or whose motion is trusted on too few pixels, starts
a new shot: nothing is carried across it.

Guidance: point hints with ``"frame": N`` (0 when absent) start on frame N,
hold for the rest of that shot and move with it (the hint map is warped by the
same flow); a reference photo applies to every frame.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable, Iterator

import cv2
import numpy as np

from .guidance import NO_GUIDANCE, Guidance
from .hints import Guide, check_inside, merge_guides, rasterize, resize_guide
from .infer import cached_model, lightness, merge_full, predict_ab
from .io import as_photo
from .io.images import DEFAULT_MAX_PIXELS
from .io.video import VideoEncoding, VideoInfo, transcode_video
from .models import Colorizer
from .motion import DisFlow, consistent, histogram_distance, to_u8, warp

__all__ = ["TemporalSettings", "VideoOptions", "VideoResult", "FrameColorizer", "colorize_frames", "colorize_video"]


@dataclass(frozen=True)
class TemporalSettings:
    """How much of the previous output each frame keeps, and when a new shot starts."""

    blend: float = 0.85  #: share of the motion-warped previous a*b* kept where the motion is trusted (0 = per frame)
    untracked: float = 0.6  #: where the forward-backward test fails, the share kept is ``blend * untracked``
    cut: float = 0.3  #: lightness-histogram distance (0..1) between frames above which a new shot starts
    min_tracked: float = 0.25  #: a frame with a smaller share of trusted pixels starts a new shot
    keep_chroma: bool = True  #: give the blend the average chroma magnitude of its inputs (no washing out)
    max_gain: float = 3.0  #: largest factor by which that restoration may scale a pixel's a*b*

    def __post_init__(self):
        for name, value, hi in (("blend", self.blend, 0.99), ("untracked", self.untracked, 1.0),
                                ("cut", self.cut, 1.0), ("min_tracked", self.min_tracked, 1.0)):
            if not 0 <= value <= hi:
                raise ValueError(f"temporal {name} must be within 0..{hi:g}, got {value!r}")
        if self.max_gain < 1:
            raise ValueError(f"temporal max_gain must be at least 1, got {self.max_gain!r}")


@dataclass(frozen=True)
class VideoOptions:
    """Settings of :func:`colorize_video` besides the model and guidance."""

    temporal: TemporalSettings | None = field(default_factory=TemporalSettings)  #: None: frame by frame
    encoding: VideoEncoding = field(default_factory=VideoEncoding)  #: H.264 quality (CRF) and preset
    overwrite: bool = False  #: replace an output that exists
    max_pixels: int = DEFAULT_MAX_PIXELS  #: refuse larger frames
    progress: Callable[[int, int], None] | None = None  #: ``progress(frames_done, frames_expected)``


@dataclass
class VideoResult:
    """What :func:`colorize_video` did: the input's description, frames written, shots, copied streams, notices."""

    info: VideoInfo
    frames: int
    cuts: list[int]  #: frames that started a new shot (0 included)
    copied: list[str]  #: types of the streams copied untouched
    notes: list[str]


@dataclass
class _Shot:
    """What a frame hands to the next one: its lightness (uint8), a*b* and hint map, all at the working size."""

    g8: np.ndarray
    ab: np.ndarray
    guide: Guide | None


class FrameColorizer:
    """Colorizes a video's frames in order, each blended with the previous output along the motion.

    Call it on each frame in turn: ``rgb = fc(frame)``.

    Parameters
    ----------
    model : name, path, Colorizer or None
        As for :func:`chromatize.colorize`.
    guidance : chromatize.guidance.Guidance
        Working size, colour gain, the reference, and point hints by the frame
        they start on (:attr:`~chromatize.guidance.Guidance.hints_by_frame`);
        scribbles are refused (they are drawn on one photo).
    temporal : TemporalSettings or None
        The blending and shot detection; None colorizes each frame on its own.

    Attributes
    ----------
    cuts : list of int
        Frames that started a new shot (the first frame included).
    index : int
        Frames colorized so far.
    """

    def __init__(self, model: "str | os.PathLike | Colorizer | None" = None, guidance: Guidance = NO_GUIDANCE,
                 temporal: TemporalSettings | None = TemporalSettings()):
        if guidance.scribbles is not None:
            raise ValueError("scribbles are drawn for one photo; give a video point hints with \"frame\" instead")
        self.model = cached_model(model)
        guidance.check_model(self.model)
        self.hints = guidance.hints_by_frame
        # the hints reach predict_ab as this frame's carried or new guide only, never as the guidance's own
        self.guidance, self.temporal = replace(guidance, hints=(), frame_hints={}), temporal
        self.cuts: list[int] = []
        self.index = 0
        self._flow = DisFlow()
        self._shot: _Shot | None = None

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        """The colorized frame: RGB uint8 (H, W, 3) for a gray (H, W) or RGB (H, W, 3) frame."""
        rgb = as_photo(frame).rgb
        L = lightness(rgb)
        h, w = L.shape
        wh, ww = self.model.work_shape(h, w, self.guidance.render_size)
        small = L if (wh, ww) == (h, w) else cv2.resize(L, (ww, wh), interpolation=cv2.INTER_AREA)
        g8 = to_u8(small)
        back, tracked = self._motion(g8)
        if back is None:
            self.cuts.append(self.index)
        guide = self._guide((h, w), (wh, ww), back, tracked)
        ab = predict_ab(self.model, L, self.guidance, work_guide=guide)
        if back is not None and self.temporal is not None and self.temporal.blend > 0:
            ab = blend_ab(ab, warp(self._shot.ab, back), tracked, self.temporal)
        self._shot = _Shot(g8, ab, guide)
        self.index += 1
        return merge_full(L, ab)

    def _motion(self, g8: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Backward flow to the previous frame and its trusted pixels, or (None, None) when a new shot starts."""
        prev = self._shot
        if prev is None or prev.g8.shape != g8.shape:
            return None, None
        cut = self.temporal.cut if self.temporal is not None else TemporalSettings().cut
        if histogram_distance(prev.g8, g8) > cut:
            return None, None
        if self.temporal is None and prev.guide is None:
            return np.zeros(g8.shape + (2,), np.float32), None  # frame by frame, nothing to carry: no flow needed
        back = self._flow(g8, prev.g8)
        tracked = consistent(back, self._flow(prev.g8, g8))
        min_tracked = self.temporal.min_tracked if self.temporal is not None else TemporalSettings().min_tracked
        if tracked.mean() < min_tracked:
            return None, None
        return back, tracked

    def _guide(self, shape: tuple[int, int], work: tuple[int, int], back, tracked) -> Guide | None:
        """This frame's hint map at the working size: the previous one moved along the flow, plus new hints."""
        carried = None
        prev = self._shot
        if back is not None and prev is not None and prev.guide is not None and tracked is not None:
            mask = warp(prev.guide.mask, back, nearest=True) * tracked
            carried = Guide(warp(prev.guide.ab, back, nearest=True) * mask[..., None], mask.astype(np.float32))
            carried = None if carried.empty else carried
        new = self.hints.get(self.index)
        if new:
            check_inside(new, shape, self.guidance.hints_source)
            new = resize_guide(rasterize(list(new), shape), work)
        return merge_guides(carried, new or None)

    @property
    def unused_hint_frames(self) -> list[int]:
        """Frames that hints were given for but that were never reached."""
        return sorted(n for n in self.hints if n >= self.index)


def blend_ab(pred: np.ndarray, prev: np.ndarray, tracked: np.ndarray, temporal: TemporalSettings) -> np.ndarray:
    """This frame's a*b* blended with the previous output warped onto it, where the motion is trusted.

    ``out = pred + w (prev - pred)`` with ``w = blend`` on trusted pixels and
    ``blend * untracked`` elsewhere (a strict occlusion test would hand those
    pixels back to the flickering per-frame prediction; on bikes.mp4 keeping
    some of the warped colour there flickers less and scores higher); with ``keep_chroma``, each pixel's a*b* is then scaled (by at
    most ``max_gain``, never down) so that its magnitude is the same blend of
    the two magnitudes: averaging two different hues keeps their saturation.

    Parameters
    ----------
    pred, prev : ndarray of float32, shape (h, w, 2)
    tracked : ndarray of bool, shape (h, w)
    temporal : TemporalSettings

    Returns
    -------
    ndarray of float32, shape (h, w, 2)
    """
    wgt = np.where(tracked, np.float32(temporal.blend), np.float32(temporal.blend * temporal.untracked))
    wgt = wgt[..., None]  # (h, w, 1)
    out = pred + wgt * (prev - pred)
    if temporal.keep_chroma:
        def chroma(ab):  # (h, w, 1)
            return np.hypot(ab[..., :1], ab[..., 1:])

        target = chroma(pred)
        target += wgt * (chroma(prev) - target)
        out *= np.clip(target / np.maximum(chroma(out), 1e-3), 1.0, temporal.max_gain)
    return out.astype(np.float32)


def colorize_frames(frames: Iterable[np.ndarray], model: "str | os.PathLike | Colorizer | None" = None, *,
                    hints=None, reference=None, reference_strength: float | None = None,
                    render_size: int | None = None, saturation: float | None = None,
                    temporal: TemporalSettings | None = TemporalSettings(),
                    guidance: Guidance | None = None) -> Iterator[np.ndarray]:
    """Colorize a sequence of frames (arrays) with steady colours; one frame in memory at a time.

    Parameters
    ----------
    frames : iterable of ndarray
        Gray (H, W) or RGB (H, W, 3) frames in order, uint8 (or uint16, float in 0..1).
    model : name, path, Colorizer or None
        As for :func:`chromatize.colorize`.
    hints : list of dict or path, optional
        Point hints, each with an optional ``"frame": N`` (default 0): they
        start on frame N and follow the motion until the shot ends.
    reference : path, ndarray or Photo, optional
        A colour photo whose colours guide every frame.
    reference_strength, render_size, saturation : optional
        As for :func:`chromatize.colorize`.
    temporal : TemporalSettings or None
        The blending and shot detection; None colorizes each frame on its own.
    guidance : chromatize.guidance.Guidance, optional
        All the guidance keywords above, parsed once (instead of them).

    Yields
    ------
    ndarray of uint8, shape (H, W, 3)

    Examples
    --------
    >>> import numpy as np
    >>> clip = [np.full((16, 16), 100 + i, np.uint8) for i in range(3)]
    >>> [f.shape for f in colorize_frames(clip, model="gray")]
    [(16, 16, 3), (16, 16, 3), (16, 16, 3)]
    """
    guidance = Guidance.from_keywords(guidance, hints=hints, reference=reference,
                                      reference_strength=reference_strength, render_size=render_size,
                                      saturation=saturation)
    fc = FrameColorizer(model, guidance, temporal)
    for frame in frames:
        yield fc(frame)


def colorize_video(src: "str | os.PathLike", dst: "str | os.PathLike",
                   model: "str | os.PathLike | Colorizer | None" = None, *, hints=None, reference=None,
                   reference_strength: float | None = None, render_size: int | None = None,
                   saturation: float | None = None, options: VideoOptions | None = None,
                   guidance: Guidance | None = None) -> VideoResult:
    """Colorize a video file into ``dst``: same frames, timestamps, size and rotation; audio and subtitles copied.

    The frames are streamed (memory does not grow with the length) through a
    :class:`FrameColorizer` and encoded as H.264 into a temp file beside
    ``dst``, renamed when complete: an interruption leaves no partial output.

    Parameters
    ----------
    src, dst : path
        Input video (mp4, mkv, mov, avi, webm, ...) and output (``.mp4``, ``.mov`` or ``.mkv``).
    model, hints, reference, reference_strength, render_size, saturation : optional
        As for :func:`colorize_frames`.
    options : VideoOptions, optional
        Temporal settings, H.264 quality, overwrite, frame-size limit, progress callback.
    guidance : chromatize.guidance.Guidance, optional
        The guidance keywords above, parsed once (instead of them).

    Returns
    -------
    VideoResult

    Raises
    ------
    chromatize.io.VideoReadError
        If ``src`` is not a readable video (one line naming it); nothing is written.
    chromatize.io.OutputExistsError
        If ``dst`` exists and ``options.overwrite`` is false.
    chromatize.hints.HintError, ValueError, TypeError
        Bad hints or settings, checked before any frame is decoded.

    Examples
    --------
    >>> chromatize.colorize_video("film.mp4", "out/film.mp4")  # doctest: +SKIP
    """
    options = options or VideoOptions()
    guidance = Guidance.from_keywords(guidance, hints=hints, reference=reference,
                                      reference_strength=reference_strength, render_size=render_size,
                                      saturation=saturation)
    fc = FrameColorizer(model, guidance, options.temporal)
    report = transcode_video(src, dst, fc, encoding=options.encoding, overwrite=options.overwrite,
                             max_pixels=options.max_pixels, progress=options.progress)
    notes = list(report.notes)
    if fc.unused_hint_frames:
        notes.append(f"{src}: hints for frame(s) {', '.join(map(str, fc.unused_hint_frames))} were not used: "
                     f"the video has {fc.index} frames")
    return VideoResult(report.info, report.frames, fc.cuts, report.copied, notes)
