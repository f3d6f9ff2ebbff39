"""Batch rules: output naming, refusing inputs as outputs, resuming, temp-file cleanup, the saturation knob."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

import chromatize
from chromatize.batch import BatchOptions, BatchResult, colorize_files, colorize_one, plan_outputs
from chromatize.color import rgb_to_lab
from chromatize.io import atomic_output, clean_temp_files, is_temp_file, read_image, temp_prefix
from chromatize.models.base import MeanABBaseline

from conftest import make_photo
from corpus import dead_pid
from chromatize.guidance import Guidance


def put(path, rng, h=16, w=20):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(make_photo(rng, h, w)).save(path)
    return path


def dsts(plan, root):
    return {str(j.src.relative_to(root)): str(j.dst.relative_to(root / "out")) for j in plan.jobs}


def test_names_keep_the_layout_and_clashes_get_stable_names(tmp_path, rng):
    for rel in ["trip1/img.jpg", "trip2/img.jpg", "trip1/a.gif", "trip1/a.png", "trip1/sub/x.png", "trip1/b.tif"]:
        put(tmp_path / rel, rng)
    inputs = [tmp_path / "trip1", tmp_path / "trip2"]
    plan = plan_outputs(inputs, tmp_path / "out", recursive=True)
    assert dsts(plan, tmp_path) == {
        "trip1/img.jpg": "trip1/img.jpg", "trip2/img.jpg": "trip2/img.jpg",  # same name, two folders
        "trip1/a.gif": "a.gif.png", "trip1/a.png": "a.png.png",  # same stem in one folder
        "trip1/sub/x.png": "sub/x.png", "trip1/b.tif": "b.tif",
    }
    assert plan.failed == [] and dsts(plan_outputs(inputs, tmp_path / "out", recursive=True), tmp_path) == \
        dsts(plan, tmp_path)  # stable
    plan = plan_outputs(inputs, tmp_path / "out", suffix=".jpg")
    assert dsts(plan, tmp_path)["trip1/b.tif"] == "b.jpg"
    assert any("sub" in n and "--recursive" in n for n in plan.notes)


def test_an_output_never_resolves_to_an_input(tmp_path, rng):
    a = put(tmp_path / "in" / "a.png", rng)
    put(tmp_path / "in" / "b.jpg", rng)
    before = a.read_bytes()
    with pytest.raises(ValueError, match="is the input folder"):
        colorize_files([tmp_path / "in"], tmp_path / "in", "gray", options=BatchOptions(overwrite=True))
    result = colorize_files([a], tmp_path / "in", "gray", options=BatchOptions(overwrite=True))
    assert result.written == [] and "refusing to write" in result.failed[0][1]
    os.symlink(tmp_path / "in", tmp_path / "alias")  # through a link too
    result = colorize_files([a], tmp_path / "alias", "gray", options=BatchOptions(overwrite=True))
    assert result.written == [] and "over the input file" in result.failed[0][1]
    # a .jpg input turned into .png lands beside the input: allowed; a.png would not be
    result = colorize_files([tmp_path / "in" / "b.jpg"], tmp_path / "in", "gray", options=BatchOptions(suffix=".png", overwrite=True))
    assert result.written == [tmp_path / "in" / "b.png"]
    assert a.read_bytes() == before
    outcome = colorize_one(a, a, "gray", overwrite=True)
    assert outcome.error and "refusing" in outcome.error and a.read_bytes() == before


def test_rerun_skips_what_is_done_and_redoes_with_overwrite(image_dir, tmp_path):
    out = tmp_path / "out"
    first = colorize_files([image_dir], out, "gray", options=BatchOptions(compare=True))
    assert len(first.colorized) == 3 and len(first.written) == 6
    (out / "img1_compare.png").unlink()  # as if killed between the two writes of img1
    stamp = (out / "img1.jpg").stat().st_mtime_ns
    again = colorize_files([image_dir], out, "gray", options=BatchOptions(compare=True))
    assert again.written == [out / "img1_compare.png"] and len(again.skipped) == 2 and not again.failed
    assert (out / "img1.jpg").stat().st_mtime_ns == stamp  # only the missing output was written
    redo = colorize_files([image_dir], out, "gray", options=BatchOptions(compare=True, overwrite=True))
    assert len(redo.written) == 6 and not redo.skipped


def test_outcomes_collect_into_a_result(image_dir, tmp_path):
    """The per-file API, as a distributed runner would use it."""
    plan = plan_outputs([image_dir, tmp_path / "missing.png"], tmp_path / "out")
    result = BatchResult(failed=list(plan.failed))
    model = chromatize.load_model("gray")
    for job in reversed(plan.jobs):  # any order
        result.add(colorize_one(job.src, job.dst, model, compare=job.compare))
    assert len(result.colorized) == 3 and [p.name for p, _ in result.failed] == ["missing.png"]
    assert all(read_image(p).rgb.ndim == 3 for p in result.written)


def test_temp_files_are_named_and_cleaned(tmp_path):
    with atomic_output(tmp_path / "a.txt") as tmp:
        assert is_temp_file(tmp) and ".a.txt.chromatize-" in tmp.name
        assert clean_temp_files(tmp_path) == []  # this process is alive: left alone
        tmp.write_text("x")
    stale = tmp_path / (temp_prefix(tmp_path / "b.png", dead_pid()) + "x1y2z3ab.tmp")
    other = tmp_path / f".c.png.chromatize-otherhost-{os.getpid()}-x1y2z3ab.tmp"
    unrelated = tmp_path / ".notes.tmp"
    for p in (stale, other, unrelated):
        p.write_bytes(b"")
    assert clean_temp_files(tmp_path) == [stale]
    os.utime(other, (0, 0))  # another machine's, but old
    assert clean_temp_files(tmp_path) == [other]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".notes.tmp", "a.txt"]


def test_problem_inputs_are_reported_not_skipped(tmp_path, rng):
    put(tmp_path / "in" / "good.png", rng)
    (tmp_path / "in" / "sub").mkdir()
    (tmp_path / "in" / "readme.txt").write_text("x")
    os.symlink(tmp_path / "gone.png", tmp_path / "in" / "gone.png")
    (tmp_path / "empty").mkdir()
    result = colorize_files([tmp_path / "in", tmp_path / "empty"], tmp_path / "out", "gray")
    assert sorted(p.name for p, _ in result.failed) == ["empty", "gone.png"]
    assert any("broken symbolic link" in r for _, r in result.failed)
    assert any("sub-folder" in n for n in result.notes) and any("without an image suffix" in n for n in result.notes)


def test_saturation_is_relative_to_the_model_as_shipped(photo, tmp_path):
    model = MeanABBaseline(mean_ab=(10.0, 20.0))
    chroma = {s: np.abs(rgb_to_lab(chromatize.colorize(photo, model, saturation=s))[..., 1:]).mean()
              for s in (None, 1, 0, 2)}
    assert chroma[None] == chroma[1] and chroma[0] < 1 and 1.8 < chroma[2] / chroma[1] < 2.2
    Image.fromarray(photo).save(tmp_path / "p.png")
    colorize_files([tmp_path / "p.png"], tmp_path / "o", model, Guidance(saturation=2))
    assert np.array_equal(read_image(tmp_path / "o" / "p.png").rgb, chromatize.colorize(photo, model, saturation=2))


# No file the run did not write itself is replaced or taken as done (issue 22), whatever the flags.

def test_an_original_under_the_output_folder_is_never_replaced_nor_counted_done(tmp_path, rng):
    """``colorize photos -o photos/2020 -r``: photos/a.png's output is photos/2020/a.png, a user's original."""
    put(tmp_path / "photos" / "a.png", rng)
    mine = put(tmp_path / "photos" / "2020" / "a.png", rng)
    before = mine.read_bytes()
    for overwrite in (False, True):
        result = colorize_files([tmp_path / "photos"], tmp_path / "photos" / "2020", "gray", options=BatchOptions(recursive=True, overwrite=overwrite))
        assert result.written == [] and result.skipped == [] and len(result.failed) == 1
        assert "chromatize did not write" in result.failed[0][1] and str(mine) in result.failed[0][1]
    assert mine.read_bytes() == before


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".bmp", ".tif", ".webp"])
def test_a_sibling_original_is_never_replaced_by_a_format_change(tmp_path, rng, suffix):
    """``colorize in/p2.gif -o in --format jpg --overwrite`` beside the user's own in/p2.jpg."""
    src = put(tmp_path / "in" / "p2.gif", rng)
    mine = put(tmp_path / "in" / f"p2{suffix}", rng)
    before = mine.read_bytes()
    result = colorize_files([src], tmp_path / "in", "gray", options=BatchOptions(suffix=suffix, overwrite=True))
    assert result.written == [] and "chromatize did not write" in result.failed[0][1]
    assert mine.read_bytes() == before
    mine.unlink()  # once the name is free, the output is written, marked, and a rerun counts it as done
    assert colorize_files([src], tmp_path / "in", "gray", options=BatchOptions(suffix=suffix)).written == [mine]
    assert chromatize.io.written_by_chromatize(mine)
    assert colorize_files([src], tmp_path / "in", "gray", options=BatchOptions(suffix=suffix)).skipped == [src]
    assert colorize_files([src], tmp_path / "in", "gray", options=BatchOptions(suffix=suffix, overwrite=True)).written == [mine]


def test_a_users_own_compare_file_is_never_replaced(tmp_path, rng):
    """``colorize in/p0.png -o in --compare --format jpg --overwrite`` with the user's in/p0_compare.png."""
    src = put(tmp_path / "in" / "p0.png", rng)
    mine = put(tmp_path / "in" / "p0_compare.png", rng)
    before = mine.read_bytes()
    result = colorize_files([src], tmp_path / "in", "gray", options=BatchOptions(compare=True, suffix=".jpg", overwrite=True))
    assert result.written == [] and str(mine) in result.failed[0][1]
    assert mine.read_bytes() == before and not (tmp_path / "in" / "p0.jpg").exists()  # nothing half-done


def test_outputs_of_an_older_chromatize_or_other_tools_are_not_taken_as_done(tmp_path, rng):
    src = put(tmp_path / "in" / "a.png", rng)
    first = colorize_files([src], tmp_path / "out", "gray")
    assert chromatize.io.written_by_chromatize(first.written[0])
    Image.open(first.written[0]).save(first.written[0])  # re-saved by another program: the mark is gone
    result = colorize_files([src], tmp_path / "out", "gray")
    assert result.skipped == [] and "did not write" in result.failed[0][1]
    assert not chromatize.io.written_by_chromatize(tmp_path / "missing.png")


def test_onnx_runtime_failures_fail_each_file_and_the_batch_goes_on(tmp_path, rng):
    """ONNX Runtime's errors (out of memory; a network that cannot run) are one line per file, not the batch's end."""
    from onnxruntime.capi.onnxruntime_pybind11_state import RuntimeException

    from chromatize.models import ModelRunError

    srcs = [put(tmp_path / "in" / f"p{i}.png", rng, 40, 56) for i in range(2)]
    model = chromatize.load_model("cnn-small")

    class OutOfMemory:  # what ORT raises under `ulimit -v` at a large working size
        def run(self, *args):
            raise RuntimeException("[ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION : Failed to allocate memory")

    session, model.session = model.session, OutOfMemory()
    result = colorize_files(srcs, tmp_path / "out", model)
    assert [p for p, _ in result.failed] == srcs and all("not enough memory" in m for _, m in result.failed)
    model.session, model.stride = session, 7  # a real ORT failure: sides that are not the network's multiples
    result = colorize_files(srcs, tmp_path / "out", model)
    assert [p for p, _ in result.failed] == srcs
    assert all("ONNX Runtime cannot run it" in m and "\n" not in m for _, m in result.failed)
    with pytest.raises(ModelRunError, match="model.onnx: ONNX Runtime cannot run it"):
        chromatize.colorize(make_photo(rng, 40, 56), model)


def test_render_size_is_never_more_than_the_photo(tmp_path, rng, monkeypatch):
    """--render-size 4096 on a small photo took 4 GB and 25 s: it is lowered to the photo's longer side."""
    from chromatize import infer

    model = chromatize.load_model("cnn-small")
    seen = []
    monkeypatch.setattr(model, "predict_ab", lambda L, guide=None: seen.append(L.shape) or np.zeros(L.shape + (2,),
                                                                                                    np.float32))
    from chromatize.guidance import Guidance

    infer.colorize_photo(infer.as_photo(make_photo(rng, 256, 384)), model, Guidance.build(render_size=4096))
    assert seen == [(256, 384)]
    infer.colorize_photo(infer.as_photo(make_photo(rng, 256, 384)), model, Guidance.build(render_size=192))
    assert seen[-1] == (128, 192)
