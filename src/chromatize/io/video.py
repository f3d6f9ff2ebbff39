"""Videos in and out through PyAV (FFmpeg): probing, streaming frames, re-encoding with the other streams copied.

:func:`probe_video` checks a file once and says, in one line naming it, what
is wrong (not a video, no video stream, no frames, truncated, too large);
:func:`read_frames` streams its frames as RGB uint8 arrays, one at a time, so
that memory does not grow with the length; :func:`transcode_video` decodes the
first video stream, passes every frame through a function and encodes the
result as H.264 (libx264) into a temp file beside the output, copying the
audio and subtitle streams untouched, then renames it (``io.atomic``).

What is kept: the frame count, each frame's timestamp (so the frame rate,
variable or not, and the duration), the size and the rotation (display
matrix). Odd widths or heights cannot be stored in 4:2:0 chroma; such clips
are written in 4:4:4 (``yuv444p``) at their own size, with a notice. Videos of
more than 8 bits per sample are colorized and written in 8 bits, with a notice.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from .atomic import atomic_output
from .images import DEFAULT_MAX_PIXELS, OUTPUT_MARK, ImageReadError

__all__ = [
    "VIDEO_SUFFIXES", "VideoReadError", "VideoInfo", "VideoEncoding", "is_video", "video_output_suffix",
    "probe_video", "read_frames", "transcode_video", "video_written_by_chromatize",
]

#: A video without a frame count that decodes fewer than this share of the frames its duration and rate
#: declare is truncated (a variable frame rate makes the estimate rough: hence the slack).
TRUNCATED_SHARE = 0.9
#: Frames larger than this (4K UHD) are encoded without x264's lookahead and frame threads, whose buffers
#: grow with the frame size (about 2.5 GB at 8K): memory stays bounded, files get a little larger.
LOOKAHEAD_MAX_PIXELS = 3840 * 2160
#: File suffixes taken as videos (in folders, and by name).
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mkv", ".mov", ".avi", ".webm")
#: Output container per input suffix: H.264 does not go in WebM, and AVI copies audio badly, so both become .mkv.
_OUTPUT_SUFFIX = {".mp4": ".mp4", ".m4v": ".mp4", ".mov": ".mov", ".mkv": ".mkv", ".avi": ".mkv", ".webm": ".mkv"}
_MUXER = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska"}
#: Streams copied untouched into the output.
COPIED_STREAMS = ("audio", "subtitle")


class VideoReadError(ImageReadError):
    """A video file is missing, not a video, truncated, without frames, or too large; the message is one line."""


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe_video` found in a video file.

    Attributes
    ----------
    path : str
    width, height : int
        Coded size of the first video stream, in pixels (before rotation).
    frames : int
        Frame count the container declares; 0 when it does not say (Matroska, WebM).
    rate : Fraction or None
        Average frame rate (frames/s).
    time_base : Fraction
        Unit of the frames' timestamps.
    duration_s : float or None
    rotation : int
        Display rotation in degrees (counter-clockwise), kept in the output.
    pix_fmt : str
        Pixel format of the decoded frames (``yuv420p``, ``yuv420p10le``, ...).
    bit_depth : int
        Bits per sample (8, 10, 12).
    codec : str
    streams : tuple of str
        Every stream's type, in order (``"video"``, ``"audio"``, ``"subtitle"``, ``"data"``).
    """

    path: str
    width: int
    height: int
    frames: int
    rate: Fraction | None
    time_base: Fraction
    duration_s: float | None
    rotation: int
    pix_fmt: str
    bit_depth: int
    codec: str
    streams: tuple[str, ...] = ()

    @property
    def expected_frames(self) -> int:
        """The declared frame count, else one estimated from the duration and rate (for progress bars); 0 unknown."""
        if self.frames:
            return self.frames
        if self.duration_s and self.rate:
            return max(1, round(self.duration_s * float(self.rate)))
        return 0


@dataclass(frozen=True)
class VideoEncoding:
    """How the output video is encoded (H.264 through libx264)."""

    crf: int = 18  #: quality: 0 lossless .. 51 worst; 18 is visually near-lossless, 23 x264's default
    preset: str = "veryfast"  #: x264 speed/size trade-off: ultrafast .. veryslow (same quality, smaller file)

    def __post_init__(self):
        if isinstance(self.crf, bool) or not isinstance(self.crf, (int, np.integer)) or not 0 <= self.crf <= 51:
            raise ValueError(f"crf must be an integer 0..51, got {self.crf!r}")
        presets = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
        if self.preset not in presets:
            raise ValueError(f"preset must be one of {', '.join(presets)}, got {self.preset!r}")


def is_video(path: "str | os.PathLike") -> bool:
    """Whether ``path`` has a video suffix (:data:`VIDEO_SUFFIXES`)."""
    return Path(str(path)).suffix.lower() in VIDEO_SUFFIXES


def video_output_suffix(src: "str | os.PathLike") -> str:
    """The output container's suffix for a video input: ``.mp4`` and ``.mov`` kept, the others ``.mkv``."""
    return _OUTPUT_SUFFIX.get(Path(str(src)).suffix.lower(), ".mkv")


def _open(path: str):
    """``av.open`` for reading, its errors as one :class:`VideoReadError` line."""
    import av

    try:
        return av.open(path, "r")
    except FileNotFoundError:
        raise VideoReadError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise VideoReadError(f"{path}: is a folder, not a video file") from None
    except av.FFmpegError as exc:
        raise VideoReadError(f"{path}: not a video file, or damaged ({_reason(exc)})") from None


def _reason(exc: BaseException) -> str:
    """FFmpeg's message without the errno and the file name PyAV adds."""
    text = getattr(exc, "strerror", None) or str(exc)
    return str(text).strip().splitlines()[0] if str(text).strip() else type(exc).__name__


def _first_frame(container, stream, path: str):
    """The first decoded frame of ``stream``, or a VideoReadError saying it has none."""
    import av

    try:
        for frame in container.decode(stream):
            return frame
    except av.FFmpegError as exc:
        raise VideoReadError(f"{path}: damaged video, no frame could be decoded ({_reason(exc)})") from None
    raise VideoReadError(f"{path}: the video has no frames")


def probe_video(path: "str | os.PathLike", *, max_pixels: int = DEFAULT_MAX_PIXELS) -> VideoInfo:
    """Open a video, decode its first frame and describe it; every problem is one line naming the file.

    Parameters
    ----------
    path : str or path
    max_pixels : int
        Refuse frames with more pixels than this (8K, 7680x4320, is 33 MP and passes the default).

    Returns
    -------
    VideoInfo

    Raises
    ------
    VideoReadError
        Missing or empty file, not a video (a photo or text named ``.mp4``), no video stream, no frames,
        damaged, or frames larger than ``max_pixels``.
    """
    path = str(path)
    if os.path.isfile(path) and os.path.getsize(path) == 0:
        raise VideoReadError(f"{path}: empty file (0 bytes)")
    with _open(path) as container:
        fmt = container.format.name
        if fmt.endswith("_pipe") or fmt in ("image2", "gif", "webp", "apng"):
            raise VideoReadError(f"{path}: is a still image ({fmt.removesuffix('_pipe')}), not a video; "
                                 "give it a photo suffix to colorize it as a photo")
        if not container.streams.video:
            kinds = ", ".join(s.type for s in container.streams) or "no streams"
            raise VideoReadError(f"{path}: has no video stream ({kinds})")
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        if width * height > max_pixels:
            raise VideoReadError(f"{path}: frames of {width}x{height} exceed the limit of {max_pixels} pixels")
        frame = _first_frame(container, stream, path)
        desc = frame.format.components[0] if frame.format.components else None
        duration = (float(stream.duration * stream.time_base) if stream.duration else
                    (container.duration / 1e6 if container.duration else None))
        return VideoInfo(
            path=path, width=frame.width, height=frame.height, frames=int(stream.frames or 0),
            rate=stream.average_rate or stream.guessed_rate, time_base=Fraction(stream.time_base),
            duration_s=duration, rotation=int(round(frame.rotation or 0)), pix_fmt=frame.format.name,
            bit_depth=int(desc.bits) if desc is not None else 8, codec=stream.codec_context.name,
            streams=tuple(s.type for s in container.streams))


def read_frames(path: "str | os.PathLike", *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Iterator[np.ndarray]:
    """The frames of a video's first video stream as RGB uint8 (H, W, 3), decoded one at a time.

    The arrays are the coded frames (rotation not applied); 10- and 12-bit
    videos come out in 8 bits.

    Raises
    ------
    VideoReadError
        As :func:`probe_video`, and when decoding fails part-way (damaged or truncated).
    """
    import av

    info = probe_video(path, max_pixels=max_pixels)
    with _open(info.path) as container:
        try:
            for frame in container.decode(container.streams.video[0]):
                yield frame.to_ndarray(format="rgb24")
        except av.FFmpegError as exc:
            raise VideoReadError(f"{info.path}: damaged or truncated video ({_reason(exc)})") from None


@dataclass
class TranscodeReport:
    """What :func:`transcode_video` did.

    Attributes
    ----------
    info : VideoInfo
        The input's description.
    frames : int
        Frames written (as many as were decoded).
    copied : list of str
        Types of the streams copied untouched (``"audio"``, ``"subtitle"``).
    notes : list of str
        One-line notices (odd size written in 4:4:4, 10-bit written in 8 bits, streams dropped).
    """

    info: VideoInfo
    frames: int = 0
    copied: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _add_video_stream(out, vin, info: VideoInfo, encoding: VideoEncoding, report: TranscodeReport):
    """The H.264 output stream: the input's size, timestamps' unit and rotation."""
    odd = info.width % 2 or info.height % 2
    vout = out.add_stream("libx264", rate=info.rate or 25)
    vout.width, vout.height = info.width, info.height
    vout.pix_fmt = "yuv444p" if odd else "yuv420p"
    vout.time_base = vin.time_base
    vout.codec_context.time_base = vin.time_base
    vout.options = {"crf": str(encoding.crf), "preset": encoding.preset}
    if info.width * info.height > LOOKAHEAD_MAX_PIXELS:
        # x264 holds its lookahead and a frame per thread: a few GB at 8K; hold one frame, one thread at a time
        vout.options.update({"tune": "zerolatency", "threads": "1"})
    if info.rotation:
        vout.set_display_rotation(info.rotation)
    if odd:
        report.notes.append(f"{info.path}: odd size {info.width}x{info.height} cannot be stored in 4:2:0 chroma; "
                            "written in 4:4:4 (yuv444p), which some players do not play")
    if info.bit_depth > 8:
        report.notes.append(f"{info.path}: {info.bit_depth}-bit video, colorized and written in 8 bits")
    return vout


def _copy_streams(cin, out, report: TranscodeReport) -> dict:
    """Output streams for the input's audio and subtitle streams, by input index; others are noted as dropped."""
    copies, dropped = {}, []
    video = cin.streams.video[0]
    for s in cin.streams:
        if s.index == video.index:
            continue
        if s.type in COPIED_STREAMS:
            copies[s.index] = out.add_stream_from_template(s)
            report.copied.append(s.type)
        else:
            dropped.append(s.type)
    if dropped:
        report.notes.append(f"{report.info.path}: dropped {len(dropped)} stream(s) that are neither the first "
                            f"video, audio nor subtitles ({', '.join(dropped)})")
    return copies


def _encode_frame(frame, rgb: np.ndarray, vout, last_pts: int | None, index: int):
    """An output frame for ``rgb`` carrying the input frame's timestamp (kept strictly increasing)."""
    import av

    out = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
    pts = frame.pts
    if pts is None:  # no timestamp: the frame's place at the nominal rate
        pts = int(round(index / (float(vout.codec_context.framerate or 25) * float(vout.time_base))))
    if last_pts is not None and pts <= last_pts:
        pts = last_pts + 1
    out.pts, out.time_base = pts, vout.time_base
    return out, pts


def _run(cin, out, step, info: VideoInfo, encoding: VideoEncoding, report: TranscodeReport, progress) -> None:
    """Demux the input once: video frames through ``step`` and the encoder, other packets copied."""
    import av

    vin = cin.streams.video[0]
    vout = _add_video_stream(out, vin, info, encoding, report)
    copies = _copy_streams(cin, out, report)
    streams = [vin] + [s for s in cin.streams if s.index in copies]
    last_pts = None
    for packet in cin.demux(streams):
        if packet.stream.index in copies:
            if packet.dts is not None:  # not the demuxer's closing empty packet
                packet.stream = copies[packet.stream.index]
                out.mux(packet)
            continue
        try:
            frames = packet.decode()
        except av.FFmpegError as exc:
            raise VideoReadError(f"{info.path}: damaged or truncated video at frame {report.frames} "
                                 f"({_reason(exc)})") from None
        for frame in frames:
            rgb = step(frame.to_ndarray(format="rgb24"))
            if rgb.shape != (info.height, info.width, 3) or rgb.dtype != np.uint8:
                raise ValueError(f"frame function returned {rgb.dtype} {rgb.shape}, "
                                 f"expected uint8 {(info.height, info.width, 3)}")
            encoded, last_pts = _encode_frame(frame, rgb, vout, last_pts, report.frames)
            out.mux(vout.encode(encoded))
            report.frames += 1
            if progress is not None:
                progress(report.frames, max(info.expected_frames, report.frames))
    out.mux(vout.encode(None))


def transcode_video(
    src: "str | os.PathLike",
    dst: "str | os.PathLike",
    step: Callable[[np.ndarray], np.ndarray],
    *,
    encoding: VideoEncoding | None = None,
    overwrite: bool = False,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    progress: Callable[[int, int], None] | None = None,
) -> TranscodeReport:
    """Re-encode a video with every frame passed through ``step``; written atomically, other streams copied.

    Parameters
    ----------
    src : path
        Input video (mp4, mkv, mov, avi, webm, ... whatever FFmpeg reads).
    dst : path
        Output; its suffix picks the container (``.mp4``, ``.mov``, ``.mkv``, see :func:`video_output_suffix`).
    step : callable
        ``step(rgb) -> rgb``: an RGB uint8 (H, W, 3) frame in, one of the same shape out, in order.
    encoding : VideoEncoding, optional
        H.264 quality and speed (default CRF 18, preset veryfast).
    overwrite : bool
        Replace ``dst`` if it exists.
    max_pixels : int
        Refuse larger frames.
    progress : callable, optional
        ``progress(frames_done, frames_expected)`` after each frame.

    Returns
    -------
    TranscodeReport

    Raises
    ------
    VideoReadError
        If the input is not a readable video, or is damaged or truncated (fewer frames than it declares);
        nothing is written then.
    chromatize.io.OutputExistsError
        If ``dst`` exists and ``overwrite`` is false.
    """
    import av

    encoding = encoding or VideoEncoding()
    info = probe_video(src, max_pixels=max_pixels)
    report = TranscodeReport(info)
    dst = Path(dst)
    muxer = _MUXER.get(dst.suffix.lower())
    if muxer is None:
        raise ValueError(f"{dst}: output suffix must be one of {', '.join(_MUXER)}")
    with atomic_output(dst, overwrite=overwrite) as tmp:
        with _open(info.path) as cin:
            try:
                with av.open(str(tmp), "w", format=muxer) as out:
                    out.metadata["comment"] = OUTPUT_MARK  # what tells a rerun that chromatize wrote it
                    _run(cin, out, step, info, encoding, report, progress)
            except av.FFmpegError as exc:
                raise VideoReadError(f"{info.path}: cannot write {dst} ({_reason(exc)})") from None
        if info.frames and report.frames < info.frames:
            raise VideoReadError(f"{info.path}: truncated or damaged video: decoded {report.frames} "
                                 f"of its {info.frames} frames")
        expected = info.expected_frames  # a container without a frame count (mkv, webm): from its duration
        if not info.frames and expected and report.frames < TRUNCATED_SHARE * expected - 1:
            raise VideoReadError(f"{info.path}: truncated or damaged video: decoded {report.frames} frames "
                                 f"of the about {expected} its duration ({info.duration_s:.2f} s) declares")
    return report


def video_written_by_chromatize(path: "str | os.PathLike") -> bool:
    """Whether the video at ``path`` carries the mark :func:`transcode_video` puts in its metadata (a comment).

    False for a missing or unreadable file and for any video chromatize did not write.
    """
    import av

    try:
        with av.open(str(path), "r") as c:
            return {k.lower(): v for k, v in c.metadata.items()}.get("comment") == OUTPUT_MARK
    except (OSError, ValueError, av.FFmpegError):
        return False
