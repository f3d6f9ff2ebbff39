"""What the retraining of the default needs: degraded inputs, a mix of sources with a held-out check, the
photo store, and a run stopped and resumed that equals one that was not."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from conftest import make_photo

torch = pytest.importorskip("torch")

from chromatize.models.cnn.torch_io import load_torch  # noqa: E402
from chromatize.train.cnn import draw_batch, train_cnn  # noqa: E402
from chromatize.train.cnn_run import setup_run  # noqa: E402
from chromatize.train.config import TrainConfig  # noqa: E402

TINY = dict(batch_size=4, crop=32, long_side=48, val_split=4, widths=(4, 8, 8, 16), warmup_steps=1, threads=1)


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    """big/ (16 photos) and small/{a,b,c} (4 each)."""
    root = tmp_path_factory.mktemp("sources")
    rng = np.random.default_rng(11)
    for folder, n in {"big": 16, "small/a": 4, "small/b": 4, "small/c": 4}.items():
        (root / folder).mkdir(parents=True)
        for i in range(n):
            Image.fromarray(make_photo(rng, 40 + 2 * (i % 4), 48)).save(root / folder / f"{i}.png")
    return root


def test_degrade_changes_the_input_only(sources, tmp_path):
    clean = setup_run([sources], tmp_path / "a", TrainConfig(**TINY))
    worn = setup_run([sources], tmp_path / "b", TrainConfig(degrade=1.0, **TINY))
    x0, ab0 = draw_batch(clean, 3, range(4))
    x1, ab1 = draw_batch(worn, 3, range(4))
    assert np.array_equal(ab0, ab1)  # the target stays clean
    assert all(not np.array_equal(x0[i], x1[i]) for i in range(4))
    half = setup_run([sources], tmp_path / "c", TrainConfig(degrade=0.5, **TINY))
    changed = [not np.array_equal(a, b) for s in range(5)
               for a, b in zip(draw_batch(clean, s, range(4))[0], draw_batch(half, s, range(4))[0])]
    assert 3 <= sum(changed) <= 17  # about half of the 20 crops


def test_a_mix_draws_the_sources_by_their_weights(sources, tmp_path):
    run = setup_run([sources], tmp_path / "m", TrainConfig(mix="big=1,small=3", val_split=0,
                                                             **{k: v for k, v in TINY.items() if k != "val_split"}))
    from chromatize.train.cnn import batch_photos

    big = np.flatnonzero(np.isclose(run.weights, run.weights.min()))  # the 16 big/ photos: a quarter of the draws together
    assert len(big) == 16
    drawn = np.concatenate([batch_photos(run, s) for s in range(200)])
    assert abs(np.isin(drawn, big).mean() - 0.25) < 0.05


RUN = dict(mix="equal", holdout=("small/c",), degrade=0.5, val_every=2, best_after=0.0, tune_min_photos=1,
           checkpoint_every=100, **TINY)


def test_stopped_and_resumed_equals_uninterrupted(sources, tmp_path):
    """Weights, optimiser state, schedule and data order: a run stopped at step 3 and resumed ends bit for bit
    where an uninterrupted one does, with the store, the mix, the degradations and the held-out check on."""
    store = str(tmp_path / "store")

    def stop_at_3(info):
        if info.get("step") == 3 and "loss" in info:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_cnn([sources], tmp_path / "r", TrainConfig(steps=6, store=store, **RUN), progress=stop_at_3)
    assert json.loads((tmp_path / "r" / "config.json").read_text())["state"]["step"] == 3
    train_cnn([sources], tmp_path / "r", resume=True)
    train_cnn([sources], tmp_path / "u", TrainConfig(steps=6, store=store, **RUN))
    a, b = load_torch(tmp_path / "r")[0].state_dict(), load_torch(tmp_path / "u")[0].state_dict()
    assert all(torch.equal(a[k], b[k]) for k in b)
    from safetensors.numpy import load_file

    oa, ob = load_file(str(tmp_path / "r" / "optimizer.safetensors")), load_file(str(tmp_path / "u" / "optimizer.safetensors"))
    assert oa.keys() == ob.keys() and all(np.array_equal(oa[k], ob[k]) for k in ob)
    log = [json.loads(line) for line in (tmp_path / "u" / "log.jsonl").read_text().splitlines()]
    assert [line["step"] for line in log] == [2, 4, 6]
    name = sources.name
    assert set(log[0]["sources"]) == {f"{name}/big", f"{name}/small"}  # the split is stratified by source
    assert set(log[0]["holdout"]["sources"]) == {f"{name}/small/c"}  # never trained on, scored apart
