"""The training skeleton on a toy loop (no torch): what it calls, when, and what it writes."""

from __future__ import annotations

import json

import pytest

from chromatize.train.run_loop import LoopState, TrainingLoop, Validation, lr_scale, run_loop


class Toy(TrainingLoop):
    """Scores follow ``scores``; records every call."""

    def __init__(self, out, scores, total=7, validate_every=3, checkpoint_every=2, state=None):
        super().__init__(out, state or LoopState(), total, 0.0, validate_every, checkpoint_every)
        self.scores, self.calls = list(scores), []

    def step(self, frac):
        self.calls.append(("step", self.state.step, round(frac, 3)))
        return float(self.state.step), {"lr": 0.1}

    def validate(self, loss):
        score = self.scores.pop(0)
        return Validation({"step": self.state.step, "score": score}, score, {"val": score, "step": self.state.step})

    def save_best(self, v):  # has_best() then finds it
        (self.out / "best").mkdir(exist_ok=True)
        (self.out / "best" / "config.json").write_text(json.dumps(v.line))
        self.calls.append(("best", self.state.step))

    def checkpoint(self):
        self.calls.append(("checkpoint", self.state.step))

    def finish(self):
        return {"step": self.state.step}


def test_steps_validation_best_and_checkpoints(tmp_path):
    loop, seen = Toy(tmp_path, [0.5, 0.2, 0.9]), []
    assert run_loop(loop, seen.append) == {"step": 7}
    assert [c[1] for c in loop.calls if c[0] == "step"] == list(range(7))
    assert [c[2] for c in loop.calls if c[0] == "step"][:2] == [0.0, round(1 / 7, 3)]  # the schedule's fraction
    assert [c[1] for c in loop.calls if c[0] == "checkpoint"] == [2, 4, 6]
    assert [c[1] for c in loop.calls if c[0] == "best"] == [3, 7]  # 0.5 at 3, not 0.2 at 6, 0.9 at the end
    log = [json.loads(x) for x in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [x["step"] for x in log] == [3, 6, 7]  # the last steps are validated once more
    steps = [s for s in seen if "loss" in s]
    assert steps[0] == {"step": 1, "total": 7, "loss": 0.0, "lr": 0.1}
    assert steps[1]["loss"] == pytest.approx(0.02)  # smoothed
    assert [s["val"] for s in seen if "val" in s] == [0.5, 0.2, 0.9]
    assert loop.state.best_score == 0.9


def test_interrupt_saves_a_checkpoint_and_a_resumed_loop_continues(tmp_path):
    def stop_at_4(info):
        if info.get("step") == 4 and "loss" in info:
            raise KeyboardInterrupt

    loop = Toy(tmp_path, [0.5, 0.6])
    with pytest.raises(KeyboardInterrupt):
        run_loop(loop, stop_at_4)
    assert loop.calls[-1] == ("checkpoint", 4) and loop.state.step == 4
    again = Toy(tmp_path, [0.1, 0.2], state=loop.state)
    run_loop(again)
    assert [c[1] for c in again.calls if c[0] == "step"] == [4, 5, 6]
    assert not any(c[0] == "best" for c in again.calls)  # 0.1 and 0.2 are below the saved 0.5
    assert json.loads((tmp_path / "best" / "config.json").read_text()) == {"step": 3, "score": 0.5}


def test_no_validation_when_validate_every_is_0(tmp_path):
    loop = Toy(tmp_path, [], validate_every=0, checkpoint_every=0)
    run_loop(loop)
    assert {c[0] for c in loop.calls} == {"step"} and not (tmp_path / "log.jsonl").exists()


def test_lr_scale_warms_up_then_decays():
    assert lr_scale(0, 0.0, 4) == pytest.approx(0.25)
    assert lr_scale(10, 0.0, 4) == pytest.approx(1.0)
    assert lr_scale(10, 1.0, 4) == pytest.approx(0.02)
    assert lr_scale(10, 0.5, 4) == pytest.approx(0.51)


def test_no_best_is_kept_before_best_from(tmp_path):
    """A high early score (noise on a few photos) is logged but not kept; the best comes from later on."""
    loop = Toy(tmp_path, [0.9, 0.5, 0.6], total=9, validate_every=3)
    loop.best_from = 0.5
    run_loop(loop)
    assert [c for c in loop.calls if c[0] == "best"] == [("best", 6), ("best", 9)]
    assert len((tmp_path / "log.jsonl").read_text().splitlines()) == 3
    assert json.loads((tmp_path / "best" / "config.json").read_text())["step"] == 9
