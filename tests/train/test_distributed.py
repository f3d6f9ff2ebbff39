"""Training on torchrun: shard-friendly batches, and 2 gloo processes matching one process.

The equivalence test starts ``torchrun --nproc_per_node 2 -m chromatize train
cnn --resume`` on 127.0.0.1 (CPU, gloo, one thread per process) from the
step-2 checkpoint of an interrupted one-process run of a tiny net, and compares
its final weights with those of an uninterrupted one-process run: each step of
the pair is one step on the same global batch of 4 (2 + 2), batch norm
synchronised (GlobalBatchNorm2d), so the weights agree to float32 rounding.

Tolerance: after the 2 distributed steps every weight and batch-norm statistic
agrees within ``atol=2e-5, rtol=1e-4`` (measured: at most 1.2e-7), except the
biases of the global-context branch (``glob.0.bias``, ``glob.2.bias``): they
shift the features of every sample alike before batch norm (``fuse.1``)
subtracts the batch mean, so their true gradient is (nearly) zero, and AdamW
normalises the rounding noise (~1e-9) that is left into steps of up to ``lr``;
the two runs' noise differs (measured: 5e-5 and 1.5e-4). They, and
``fuse.1.running_mean`` that follows them, are checked to stay within ``2 * lr``
per step, and the two networks' outputs to agree (batch norm cancels them).
The one-step gradients agree to 3e-6 of their scale; batch-norm statistics to 6e-8.

A last test sends SIGINT to torchrun, as Ctrl-C does: both processes stop after
the same step and rank 0 checkpoints it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from chromatize.models.cnn.torch_io import load_torch  # noqa: E402
from chromatize.train.cnn import draw_batch, train_cnn  # noqa: E402
from chromatize.train.cnn_run import setup_run  # noqa: E402
from chromatize.train.config import TrainConfig  # noqa: E402
from chromatize.train.distributed import (  # noqa: E402
    GlobalBatchNorm2d, dist_env, sync_batch_norm, train_cnn_distributed,
)

CFG = dict(batch_size=4, crop=32, long_side=48, val_split=2, widths=(4, 8, 8, 16), warmup_steps=1, threads=1,
           checkpoint_every=100)
#: Weights and batch-norm statistics: |a - b| <= ATOL + RTOL * |b|.
ATOL, RTOL = 2e-5, 1e-4
#: In the null space of batch norm (see the module docstring).
NULL_SPACE = ("glob.0.bias", "glob.2.bias", "fuse.1.running_mean")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_torchrun(args: list[str], nproc: int = 2) -> subprocess.Popen:
    """``torchrun --nproc_per_node nproc -m chromatize ARGS`` on 127.0.0.1, one thread per process."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GLOO_SOCKET_IFNAME": "lo"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(nproc), "--nnodes", "1",
           "--master_addr", "127.0.0.1", "--master_port", str(free_port()), "-m", "chromatize", *args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def finish(proc: subprocess.Popen, timeout: float = 180) -> tuple[str, str]:
    """Its stdout and stderr once it ends; past ``timeout`` it is stopped (workers included) and the test fails."""
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.terminate()  # torchrun passes it on to its workers, and kills them 30 s later
        proc.communicate(timeout=60)
        raise


def test_the_shares_of_a_batch_make_the_one_process_batch(photo_dir, tmp_path):
    run = setup_run([photo_dir], tmp_path / "r", TrainConfig(**CFG))
    x, ab = draw_batch(run, 3, range(4))
    x0, ab0 = draw_batch(run, 3, range(0, 2))
    x1, ab1 = draw_batch(run, 3, range(2, 4))
    assert x.shape == (4, 1, 32, 32) and ab.shape == (4, 2, 8, 8)
    assert np.array_equal(np.concatenate([x0, x1]), x) and np.array_equal(np.concatenate([ab0, ab1]), ab)
    assert not np.array_equal(draw_batch(run, 4, range(4))[0], x)  # another step, other crops
    run.rank, run.world = 1, 2
    assert run.positions == range(2, 4)


def test_dist_env_reads_torchruns_variables():
    assert dist_env({}) is None  # a one-process run
    env = dist_env({"WORLD_SIZE": "4", "RANK": "2", "LOCAL_RANK": "0"})
    assert (env.rank, env.world_size, env.local_rank, env.lead) == (2, 4, 0, False)
    with pytest.raises(ValueError, match="RANK < WORLD_SIZE"):
        dist_env({"WORLD_SIZE": "2", "RANK": "2"})
    with pytest.raises(ValueError, match="integers"):
        dist_env({"WORLD_SIZE": "two"})


def test_distributed_training_needs_torchrun(photo_dir, tmp_path, monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    with pytest.raises(ValueError, match="torchrun"):
        train_cnn_distributed([photo_dir], tmp_path / "r", TrainConfig(**CFG))


def test_global_batch_norm_keeps_parameters_and_is_batch_norm_in_one_process():
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 3, 3), torch.nn.Sequential(torch.nn.BatchNorm2d(3, momentum=0.3)))
    params = [id(p) for p in net.parameters()]
    keys = set(net.state_dict())
    sync_batch_norm(net, torch.device("cpu"))
    assert isinstance(net[1][0], GlobalBatchNorm2d) and [id(p) for p in net.parameters()] == params
    assert set(net.state_dict()) == keys  # checkpoints do not change
    ref = torch.nn.BatchNorm2d(3, momentum=0.3)
    x = torch.randn(2, 3, 5, 5)
    assert torch.equal(net[1][0](x), ref(x))  # no process group: plain batch norm
    assert torch.equal(net[1][0].running_var, ref.running_var)


def test_two_gloo_processes_match_one_process(photo_dir, tmp_path):
    """Resume an interrupted one-process run on 2 processes; compare with the uninterrupted run."""
    one, two = tmp_path / "one", tmp_path / "two"
    train_cnn([photo_dir], one, TrainConfig(steps=4, **CFG))

    def interrupt(info):
        if info.get("step") == 2 and "loss" in info:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_cnn([photo_dir], two, TrainConfig(steps=4, **CFG), progress=interrupt)
    proc = start_torchrun(["train", "cnn", "--resume", "--out", str(two), str(photo_dir)])
    out, err = finish(proc)
    assert proc.returncode == 0, err[-3000:]
    assert out.count("trained 4 steps") == 1  # only rank 0 reports
    log = [json.loads(line) for line in (two / "log.jsonl").read_text().splitlines()]
    assert [line["step"] for line in log] == [4]  # validated once, by rank 0
    assert json.loads((two / "config.json").read_text())["state"]["step"] == 4
    assert (two / "best" / "model.onnx").is_file()

    a, _ = load_torch(one)
    b, _ = load_torch(two)
    sa, sb = a.state_dict(), b.state_dict()
    lr = CFG.get("lr", TrainConfig().lr)
    for name, wa in sa.items():
        diff = (wa.double() - sb[name].double()).abs()
        if name in NULL_SPACE:
            assert diff.max() <= 2 * lr * 2 + 1e-6, name  # 2 steps of at most lr each way
        else:
            bound = ATOL + RTOL * sb[name].double().abs()
            assert (diff <= bound).all(), f"{name}: off by {float(diff.max()):.2e}"
    x = torch.from_numpy(np.random.default_rng(3).uniform(-1, 1, (2, 1, 32, 48)).astype(np.float32))
    with torch.no_grad():
        np.testing.assert_allclose(a.eval()(x).numpy(), b.eval()(x).numpy(), atol=2e-4, rtol=1e-3)


def test_ctrl_c_stops_every_process_at_one_step_and_saves_it(photo_dir, tmp_path):
    """SIGINT to torchrun (as Ctrl-C): both processes stop after the same step and rank 0 checkpoints it."""
    import signal
    import time

    run = tmp_path / "run"

    def interrupt(info):
        if info.get("step") == 1 and "loss" in info:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):  # a tiny run of many steps, checkpointed every 2
        train_cnn([photo_dir], run, TrainConfig(steps=100_000, **{**CFG, "checkpoint_every": 2, "val_every": 2}), progress=interrupt)
    proc = start_torchrun(["train", "cnn", "--resume", "--out", str(run), str(photo_dir)])
    deadline = time.time() + 120
    while json.loads((run / "config.json").read_text())["state"]["step"] < 3 and time.time() < deadline:
        time.sleep(0.2)  # until the 2 processes have checkpointed once
    proc.send_signal(signal.SIGINT)
    _, err = finish(proc, timeout=90)
    assert proc.returncode != 0 and err.count("Aborted!") == 2  # both workers stopped on the interrupt
    step = json.loads((run / "config.json").read_text())["state"]["step"]
    assert step >= 3 and load_torch(run)[0] is not None
    log = [json.loads(line)["step"] for line in (run / "log.jsonl").read_text().splitlines()]
    assert log == sorted(set(log)) and log[-1] <= step  # rank 0 alone wrote it, once per validation
