"""The training commands take their defaults from the settings dataclasses, and a test says they agree."""

from __future__ import annotations

import dataclasses

import click
import pytest

from chromatize.cli import main
from chromatize.experiments.trials import TrialSettings
from chromatize.models.cnn.config import HintHeadConfig
from chromatize.models.mlp import MLPConfig
from chromatize.train.config import HintTrainConfig, TrainConfig

#: command -> (its settings class, its options that set no field of it)
COMMANDS = {
    ("train", "cnn"): (TrainConfig, {"out", "resume", "overwrite"}),
    ("train", "hints"): (HintTrainConfig, {"out", "overwrite", "alpha"}),
    ("train", "mlp"): (MLPConfig, {"out", "overwrite"}),
    ("experiment", "seed-trials"): (TrialSettings, {"data", "out", "kinds", "overwrite", "seeds", "first_seed"}),
}


def command(path: tuple[str, ...]) -> click.Command:
    cmd = main
    for name in path:
        cmd = cmd.commands[name]
    return cmd


def defaults(cls) -> dict:
    return {f.name: f.default_factory() if f.default is dataclasses.MISSING else f.default
            for f in dataclasses.fields(cls)}


def disagreements(cmd: click.Command, cls, others: set[str]) -> list[str]:
    """Options of ``cmd`` whose default is not that of the field of ``cls`` they set, or that set no field."""
    want, bad = defaults(cls), []
    for p in cmd.params:
        if not isinstance(p, click.Option) or p.name in others:
            continue
        got = tuple(p.default) if p.multiple else p.default
        if p.name not in want:
            bad.append(f"--{p.name} sets no field of {cls.__name__}")
        elif got != want[p.name] or type(got) is not type(want[p.name]):
            bad.append(f"--{p.name}: CLI default {got!r}, {cls.__name__}.{p.name} = {want[p.name]!r}")
    return bad


@pytest.mark.parametrize("path", list(COMMANDS), ids=" ".join)
def test_every_cli_default_is_the_dataclass_default(path):
    cls, others = COMMANDS[path]
    cmd = command(path)
    assert disagreements(cmd, cls, others) == []
    assert len([p for p in cmd.params if p.name not in others]) >= 4  # the options are there to compare


def test_defaults_that_are_not_fields():
    seeds = {p.name: p.default for p in command(("experiment", "seed-trials")).params}
    assert tuple(range(seeds["first_seed"], seeds["first_seed"] + seeds["seeds"])) == TrialSettings.seeds
    alpha = next(p for p in command(("train", "hints")).params if p.name == "alpha")
    assert alpha.default is None and f"default {HintHeadConfig.alpha})" in alpha.help


def test_a_wrong_default_is_found():
    @click.command()
    @click.option("--lr", type=float, default=0.5)
    @click.option("--epochs", type=int, default=20)
    @click.option("--crops", type=int, default=1)
    def cmd(**_):
        """A command whose --lr does not agree with TrainConfig, and whose --crops sets nothing."""

    assert disagreements(cmd, TrainConfig, set()) == [
        "--lr: CLI default 0.5, TrainConfig.lr = 0.002", "--crops sets no field of TrainConfig"]
