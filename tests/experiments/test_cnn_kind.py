"""The CNN as a kind of the seed trials (needs torch)."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import make_photo

pytest.importorskip("torch")


def test_seed_trials_kind(monkeypatch, rng):
    from types import SimpleNamespace

    import chromatize.experiments.cnn_kind as trials
    from chromatize.experiments.seed_trials import KINDS, trainer as _trainer
    from chromatize.experiments.trials import TrialSettings

    assert "cnn" in KINDS and _trainer("cnn") is trials.train_trial
    monkeypatch.setattr(trials, "TRIAL_STEPS", 3)
    photos = np.stack([make_photo(rng, 32, 32) for _ in range(5)])
    train = SimpleNamespace(rgb=photos, mean_ab=lambda: (1.0, 2.0))
    a = trials.train_trial(train, 0, TrialSettings(size=32))
    b = trials.train_trial(train, 0, TrialSettings(size=32))
    assert a.losses.shape == (3,) and np.array_equal(a.losses, b.losses)  # seeded
    assert a.model.work_shape(32, 32) == (32, 32)
    assert a.model.predict_ab(np.full((32, 32), 50, np.float32)).shape == (32, 32, 2)
