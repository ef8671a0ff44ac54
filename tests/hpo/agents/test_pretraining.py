"""``hpo.agents.pretraining``: pre-training is seeded, checkpoints and resumes; the validation
run's best values never increase."""

from __future__ import annotations

import tempfile

import numpy as np
import pytest

import hpo
from envs.acquisition_env import (
    log_regret,
)
from hpo.agents.pretraining import params_sha, pretrain, read_curve
from hpo.errors import UserError

TINY = dict(
    steps=240,
    learning_starts=60,
    checkpoint_every=80,
    batch_size=16,
    net_arch=(16, 16),
    validation_functions=2,
    progress=False,
)


def test_pretrain_is_seeded_checkpoints_and_resumes(tmp_path, monkeypatch):
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.delenv("SB3_LOGDIR", raising=False)
    first = pretrain(tmp_path / "a", seed=3, **TINY)
    assert not list(temp.glob("SB3-*"))  # SB3 made no log folder in the temp dir
    again = pretrain(tmp_path / "b", seed=3, **TINY)
    other = pretrain(tmp_path / "c", seed=4, **TINY)
    curve_a, curve_b = read_curve(first.curve_path), read_curve(again.curve_path)
    assert [row["step"] for row in curve_a] == ["80", "160", "240"]
    assert [row["params_sha"] for row in curve_a] == [row["params_sha"] for row in curve_b]
    assert read_curve(other.curve_path)[-1]["params_sha"] != curve_a[-1]["params_sha"]
    for name in ("agent.zip", "curve.csv", "curve.png", "checkpoint/agent.zip", "checkpoint/buffer.npz"):
        assert (tmp_path / "a" / name).is_file()

    # An interrupted run (160 of 240 steps) resumes from its checkpoint to the full length.
    short = pretrain(tmp_path / "d", seed=3, **{**TINY, "steps": 160})
    # a run of N steps gives the agent any longer run had at step N (the shipped weights rely on it)
    assert params_sha(hpo.load_agent(short.agent_path)) == curve_a[1]["params_sha"]
    resumed = pretrain(tmp_path / "d", seed=3, **TINY)
    assert resumed.resumed_from == 160
    curve_d = read_curve(resumed.curve_path)
    assert [row["step"] for row in curve_d] == ["80", "160", "240"]
    assert curve_d[1]["params_sha"] == curve_a[1]["params_sha"]  # identical up to the checkpoint
    agent = hpo.load_agent(resumed.agent_path)
    assert agent.num_timesteps == 240

    with pytest.raises(UserError, match="other settings"):
        pretrain(tmp_path / "d", seed=5, **TINY)


# ---- leverage benchmark (benchmarks/pretrained/leverage.py) --------------------------------
def test_best_values_never_increase_and_agree_with_run_policy():
    from hpo.agents.pretraining import best_values, make_validation_functions, run_policy

    function, lower, center = make_validation_functions(3, 1)[0]
    best = best_values("uniform", function, 12, rng=np.random.default_rng(0))
    assert len(best) == 12 and all(b <= a for a, b in zip(best, best[1:]))
    assert run_policy("uniform", function, 12, rng=np.random.default_rng(0), lower=lower, center=center) == log_regret(
        best[-1], lower, center
    )
