"""Videos: reading and writing through PyAV, the consistent colorizer, batches and the CLI, on tiny generated clips."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner

import chromatize
from chromatize.cli import main
from chromatize.guidance import Guidance
from chromatize.hints import HintError, parse_frame_hints
from chromatize.io import OutputExistsError, VideoReadError, is_temp_file, probe_video, read_frames, transcode_video
from chromatize.metrics.temporal import VideoScores, cdc, js_divergence, rgb_histograms
from chromatize.models.base import Colorizer
from chromatize.video import FrameColorizer, TemporalSettings, blend_ab, colorize_frames, colorize_video


def scene(i: int, h: int = 48, w: int = 64, speed: int = 2, seed: int = 0) -> np.ndarray:
    """Frame ``i`` of a textured scene gliding right by ``speed`` pixels a frame (RGB uint8)."""
    rng = np.random.default_rng(seed)
    big = rng.integers(0, 256, (h // 4, (w + 60) // 4, 3)).astype(np.uint8)
    big = np.repeat(np.repeat(big, 4, axis=0), 4, axis=1)  # blocks of 4x4: texture the flow can follow
    return np.ascontiguousarray(big[:h, 40 - speed * i: 40 - speed * i + w])


def write_clip(path: Path, frames: list[np.ndarray], *, rate: int = 25, audio: bool = False, rotation: int = 0,
               pix_fmt: str = "yuv420p", pts: list[int] | None = None, options: dict | None = None) -> Path:
    """A small H.264 clip of ``frames``, optionally with a sine audio track, a rotation and given timestamps."""
    h, w = frames[0].shape[:2]
    with av.open(str(path), "w", options=options or {}) as out:
        v = out.add_stream("libx264", rate=rate)
        v.width, v.height, v.pix_fmt = w, h, pix_fmt
        if pts is not None:
            v.codec_context.time_base = v.time_base = Fraction(1, 1000)
        if rotation:
            v.set_display_rotation(rotation)
        a = out.add_stream("aac", rate=8000) if audio else None
        for i, f in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(f, format="rgb24")
            if pts is not None:
                frame.pts, frame.time_base = pts[i], Fraction(1, 1000)
            out.mux(v.encode(frame))
        out.mux(v.encode(None))
        if a is not None:
            t = np.arange(int(8000 * len(frames) / rate)) / 8000
            sound = av.AudioFrame.from_ndarray((0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None],
                                               format="fltp", layout="mono")
            sound.sample_rate = 8000
            out.mux(a.encode(sound))
            out.mux(a.encode(None))
    return path


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """Ten moving frames, 64x48, 25 frames/s, with audio and a 90-degree rotation."""
    return write_clip(tmp_path_factory.mktemp("clip") / "film.mp4", [scene(i) for i in range(10)],
                      audio=True, rotation=90)


class NoisyModel(Colorizer):
    """Predicts a fixed colour plus fresh noise on every call (a flickering colorizer); follows hints exactly."""

    name = "noisy"
    accepts_hints = True

    def __init__(self, seed: int = 0):
        self.rng = np.random.default_rng(seed)

    def work_shape(self, h, w, render_size=None):
        return h, w

    def predict_ab(self, L, guide=None):
        ab = np.empty(L.shape + (2,), np.float32)
        ab[...] = (20.0, 30.0)
        ab += self.rng.normal(0, 8, ab.shape).astype(np.float32)
        if guide is not None:
            ab = np.where(guide.mask[..., None] > 0, guide.ab, ab)
        return ab


# --- reading and writing ---------------------------------------------------------------


def test_probe_describes_a_clip(clip):
    info = probe_video(clip)
    assert (info.width, info.height, info.frames, info.rate, info.rotation) == (64, 48, 10, 25, 90)
    assert info.streams == ("video", "audio") and info.bit_depth == 8


def _no_video_stream(tmp_path):
    path = tmp_path / "sound.mp4"
    with av.open(str(path), "w") as out:
        a = out.add_stream("aac", rate=8000)
        fr = av.AudioFrame.from_ndarray(np.zeros((1, 4000), np.float32), format="fltp", layout="mono")
        fr.sample_rate = 8000
        out.mux(a.encode(fr))
        out.mux(a.encode(None))
    return path


def _no_frames(tmp_path):
    # a Matroska file cut where its first cluster (of frames) begins: a video track, no frame
    data = write_clip(tmp_path / "full.mkv", [scene(i) for i in range(3)]).read_bytes()
    path = tmp_path / "none.mkv"
    path.write_bytes(data[: data.index(bytes.fromhex("1F43B675")) + 12])  # the cluster header, not its blocks
    return path


def _truncated(tmp_path):
    # moov first (faststart), so the file opens and declares 30 frames, then half of the frame data is cut off
    full = write_clip(tmp_path / "full.mp4", [scene(i % 10) for i in range(30)],
                      options={"movflags": "faststart"})
    data = full.read_bytes()
    path = tmp_path / "cut.mp4"
    path.write_bytes(data[: len(data) * 2 // 3])
    return path


def _photo(tmp_path):
    from PIL import Image

    path = tmp_path / "photo.mp4"
    Image.fromarray(scene(0)).save(path, format="PNG")
    return path


def _text(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("not a film")
    return path


@pytest.mark.parametrize("make, words", [
    (_text, "not a video file"), (_photo, "still image"), (_no_video_stream, "no video stream"),
    (_no_frames, "no frames"), (lambda t: (t / "empty.mp4").write_bytes(b"") or t / "empty.mp4", "empty file"),
    (lambda t: t / "missing.mp4", "not found"),
])
def test_bad_inputs_are_one_line_naming_the_file(tmp_path, make, words):
    path = make(tmp_path)
    with pytest.raises(VideoReadError) as err:
        transcode_video(path, tmp_path / "out" / "x.mp4", lambda f: f)
    msg = str(err.value)
    assert "\n" not in msg and str(path) in msg and words in msg
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_truncated_video_is_refused_and_nothing_written(tmp_path):
    path = _truncated(tmp_path)
    with pytest.raises(VideoReadError, match="truncated or damaged|damaged"):
        transcode_video(path, tmp_path / "out" / "x.mp4", lambda f: f)
    assert not any((tmp_path / "out").iterdir())


def test_a_truncated_mkv_without_a_frame_count_is_refused(tmp_path):
    full = write_clip(tmp_path / "full.mkv", [scene(i % 10) for i in range(40)])
    assert probe_video(full).frames == 0 and probe_video(full).duration_s  # mkv: a duration, no frame count
    transcode_video(full, tmp_path / "ok" / "x.mkv", lambda f: f)  # the whole file passes
    data = full.read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[: len(data) * 3 // 5])
    with pytest.raises(VideoReadError, match=r"cut\.mkv: truncated or damaged video: decoded \d+ frames of the about"):
        transcode_video(cut, tmp_path / "out" / "x.mkv", lambda f: f)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_subtitle_stream_is_copied_untouched(tmp_path):
    srt = tmp_path / "s.srt"
    srt.write_text("1\n00:00:00,000 --> 00:00:00,800\nhello\n\n")
    clip = tmp_path / "sub.mkv"
    with av.open(str(srt)) as src, av.open(str(clip), "w") as out:
        v = out.add_stream("libx264", rate=10)
        v.width, v.height, v.pix_fmt = 64, 48, "yuv420p"
        sub = out.add_stream_from_template(src.streams[0])
        for i in range(10):
            for p in v.encode(av.VideoFrame.from_ndarray(scene(i), format="rgb24")):
                out.mux(p)
        for p in v.encode():
            out.mux(p)
        for p in src.demux(src.streams[0]):
            if p.dts is not None:
                p.stream = sub
                out.mux(p)
    report = transcode_video(clip, tmp_path / "o.mkv", lambda f: 255 - f)
    assert "subtitle" in report.copied
    def payload(path):
        with av.open(str(path)) as c:
            return [bytes(p) for p in c.demux(c.streams.subtitles[0]) if p.size]
    assert payload(tmp_path / "o.mkv") == payload(clip) != []


def test_frame_size_limit(clip, tmp_path):
    with pytest.raises(VideoReadError, match="exceed the limit"):
        probe_video(clip, max_pixels=1000)


def test_transcode_keeps_frames_rate_size_rotation_duration_and_audio(clip, tmp_path):
    out = tmp_path / "o.mp4"
    report = transcode_video(clip, out, lambda f: 255 - f)
    assert report.frames == 10 and report.copied == ["audio"]
    with av.open(str(clip)) as a, av.open(str(out)) as b:
        va, vb = a.streams.video[0], b.streams.video[0]
        fa, fb = list(a.decode(va)), list(b.decode(vb))
        assert len(fb) == len(fa) == 10
        assert (vb.width, vb.height, vb.average_rate) == (64, 48, 25)
        assert [f.time for f in fb] == pytest.approx([f.time for f in fa])
        assert fb[0].rotation == 90
        assert b.duration == pytest.approx(a.duration, rel=0.05)
    with av.open(str(clip)) as a, av.open(str(out)) as b:  # the audio packets, byte for byte
        pa = [bytes(p) for p in a.demux(a.streams.audio[0]) if p.size]
        pb = [bytes(p) for p in b.demux(b.streams.audio[0]) if p.size]
        assert pa == pb and len(pa) > 0
    assert np.abs(next(read_frames(out)).astype(int) - (255 - scene(0)).astype(int)).mean() < 20


def test_variable_frame_rate_timestamps_are_kept(tmp_path):
    pts = [0, 40, 70, 150, 160, 260]
    src = write_clip(tmp_path / "vfr.mp4", [scene(i) for i in range(6)], pts=pts)
    out = tmp_path / "o.mp4"
    transcode_video(src, out, lambda f: f)
    with av.open(str(src)) as a, av.open(str(out)) as b:
        assert [f.time for f in b.decode(video=0)] == pytest.approx([f.time for f in a.decode(video=0)], abs=1e-3)


def test_odd_size_kept_in_444_with_a_note(tmp_path):
    src = write_clip(tmp_path / "odd.mp4", [scene(i, 47, 63) for i in range(3)], pix_fmt="yuv444p")
    report = transcode_video(src, tmp_path / "o.mp4", lambda f: f)
    assert probe_video(tmp_path / "o.mp4").width == 63 and any("4:4:4" in n for n in report.notes)


def test_ten_bit_written_in_8_bits_with_a_note(tmp_path):
    src = write_clip(tmp_path / "ten.mkv", [scene(i) for i in range(3)], pix_fmt="yuv420p10le")
    assert probe_video(src).bit_depth == 10
    report = transcode_video(src, tmp_path / "o.mkv", lambda f: f)
    assert report.frames == 3 and any("10-bit" in n for n in report.notes)
    assert probe_video(tmp_path / "o.mkv").bit_depth == 8


def test_failure_part_way_leaves_nothing(clip, tmp_path):
    def step(frame, seen=[]):
        seen.append(1)
        if len(seen) == 5:
            raise KeyboardInterrupt  # Ctrl-C in the middle
        return frame

    with pytest.raises(KeyboardInterrupt):
        transcode_video(clip, tmp_path / "o.mp4", step)
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "o.mp4").write_bytes(b"mine")
    with pytest.raises(OutputExistsError):
        transcode_video(clip, tmp_path / "o.mp4", lambda f: f)
    assert (tmp_path / "o.mp4").read_bytes() == b"mine"


# --- the consistent colorizer ----------------------------------------------------------


def _flicker(frames, model, temporal):
    scores, chroma = VideoScores(), []
    for out, true in zip(colorize_frames(frames, model, temporal=temporal), frames):
        scores.add(out, true)
        ab = chromatize.color.rgb_to_lab(out)[..., 1:]
        chroma.append(np.hypot(ab[..., 0], ab[..., 1]).mean())
    return {**scores.summary(), "chroma": float(np.mean(chroma))}


def test_consistent_path_flickers_less_and_keeps_colour():
    frames = [scene(i) for i in range(8)]
    per = _flicker(frames, NoisyModel(), None)
    con = _flicker(frames, NoisyModel(), TemporalSettings())
    assert con["warp_error"] < 0.3 * per["warp_error"]
    assert con["chroma"] > 0.9 * np.hypot(20, 30)  # the model's colour, not washed out by the blending
    assert con["cdc"] <= per["cdc"]


def test_scene_cut_starts_afresh():
    frames = [scene(i) for i in range(4)] + [(scene(i, seed=1) // 3) for i in range(4)]
    fc = FrameColorizer(NoisyModel(), temporal=TemporalSettings())
    for f in frames:
        fc(f)
    assert fc.cuts == [0, 4]


def test_blend_keeps_chroma_of_opposite_hues():
    pred = np.full((2, 2, 2), (30.0, 0.0), np.float32)
    prev = np.full((2, 2, 2), (0.0, 30.0), np.float32)
    out = blend_ab(pred, prev, np.ones((2, 2), bool), TemporalSettings(blend=0.5))
    assert np.hypot(out[..., 0], out[..., 1]) == pytest.approx(30.0, rel=1e-5)
    flat = blend_ab(pred, prev, np.ones((2, 2), bool), TemporalSettings(blend=0.5, keep_chroma=False))
    assert np.hypot(flat[..., 0], flat[..., 1]) == pytest.approx(15 * np.sqrt(2), rel=1e-5)


def test_video_hints_by_frame_and_errors(tmp_path):
    got = parse_frame_hints([{"x": 1, "y": 2, "ab": [10, 0], "frame": 3}, {"x": 4, "y": 5, "color": "#ff0000"}])
    assert sorted(got) == [0, 3] and got[3][0].x == 1
    with pytest.raises(HintError, match="hint 0: 'frame' must be an integer"):
        parse_frame_hints([{"x": 1, "y": 2, "ab": [10, 0], "frame": -1}])
    path = tmp_path / "h.json"
    path.write_text('[{"x": 1, "y": 2, "frame": 0}]')
    with pytest.raises(HintError, match=f"{path}: hint 0"):
        parse_frame_hints(path)


def test_hint_on_a_frame_holds_and_follows_the_motion():
    # a hint on frame 2 at (30, 20); the scene moves right 2 px a frame, so on frame 6 it is at (38, 20)
    frames = [scene(i) for i in range(7)]
    hints = [{"x": 30, "y": 20, "ab": [-60, 60], "size": 5, "frame": 2}]
    out = list(colorize_frames(frames, NoisyModel(), hints=hints, temporal=None))
    lab = [chromatize.color.rgb_to_lab(f) for f in out]
    assert abs(lab[1][20, 30, 1] - 20) < 30  # before its frame: the model's own colour (a* about 20)
    assert lab[2][20, 30, 1] < -30  # on its frame
    assert lab[6][20, 38, 1] < -30 and lab[6][20, 30, 1] > -30  # moved with the scene


def test_a_hint_of_frame_0_ends_with_its_shot():
    frames = [scene(i) for i in range(4)] + [(scene(i, seed=1) // 3) for i in range(4)]  # a cut at frame 4
    hints = [{"x": 30, "y": 20, "ab": [-60, 60], "size": 5}]  # no "frame": frame 0
    fc = FrameColorizer(NoisyModel(), Guidance.build(hints=hints), TemporalSettings())
    lab = [chromatize.color.rgb_to_lab(fc(f)) for f in frames]
    assert fc.cuts == [0, 4]
    assert lab[0][20, 30, 1] < -30  # on its frame
    assert all(abs(f[18:23, 28:33, 1].mean() - 20) < 15 for f in lab[4:])  # the next shot: the model's own colour


# --- metrics ----------------------------------------------------------------------------


def test_js_divergence_and_cdc_reference_values():
    p, q = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    assert js_divergence(p, p) == 0 and js_divergence(p, q) == pytest.approx(np.log(2))  # disjoint: ln 2
    still = rgb_histograms(scene(0))
    assert cdc([still] * 5) == 0
    assert cdc([still, rgb_histograms(255 - scene(0))]) > 0


# --- batches and the command line -------------------------------------------------------


def test_colorize_video_api_and_rerun_skip(clip, tmp_path):
    res = colorize_video(clip, tmp_path / "a.mp4", NoisyModel())
    assert res.frames == 10 and res.cuts == [0] and res.copied == ["audio"]
    out = tmp_path / "out"
    first = chromatize.colorize_files([clip], out, NoisyModel())
    assert first.colorized == [clip] and (out / "film.mp4").is_file()
    stamp = (out / "film.mp4").stat().st_mtime_ns
    again = chromatize.colorize_files([clip], out, NoisyModel())
    assert again.skipped == [clip] and (out / "film.mp4").stat().st_mtime_ns == stamp


def test_cli_colorizes_a_folder_of_photos_and_videos(clip, tmp_path):
    from PIL import Image

    src = tmp_path / "in"
    src.mkdir()
    (src / "film.mp4").write_bytes(clip.read_bytes())
    (src / "broken.mp4").write_text("not a film")
    Image.fromarray(scene(0)).save(src / "still.png")
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["colorize", str(src), "-o", str(out), "-m", "gray", "--crf", "23"])
    assert res.exit_code == 1
    assert f"error: {src / 'broken.mp4'}: not a video file" in res.output
    assert sorted(p.name for p in out.iterdir()) == ["film.mp4", "still.png"]
    assert probe_video(out / "film.mp4").frames == 10
    assert not any(is_temp_file(p) for p in out.iterdir())
