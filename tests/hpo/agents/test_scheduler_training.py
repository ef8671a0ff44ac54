"""``hpo.agents.scheduler_training``: a short run writes the agent and its validation curve,
a rerun resumes from its checkpoint, and a run with other settings in the same folder is
refused."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from hpo.agents.scheduler import AgentPolicy, load_scheduler
from hpo.agents.scheduler_training import CURVE_COLUMNS, mean_regret, train_scheduler
from hpo.errors import UserError


def test_a_short_run_writes_its_agent_and_curve_and_a_rerun_resumes(tmp_path):
    options = dict(eval_every=150, validation_episodes=2, progress=lambda line: None)
    path = train_scheduler(tmp_path, steps=300, seed=1, **options)
    with open(tmp_path / "curve.csv") as lines:
        rows = list(csv.DictReader(lines))
    assert tuple(rows[0]) == CURVE_COLUMNS and [int(r["step"]) for r in rows] == [150, 300]
    assert all(0 <= float(r["agent"]) <= 2 for r in rows)
    train_scheduler(tmp_path, steps=450, seed=1, **options)  # resumes at 300: one more validation
    with open(tmp_path / "curve.csv") as lines:
        assert [int(r["step"]) for r in csv.DictReader(lines)] == [150, 300, 450]
    with pytest.raises(UserError, match="holds a run with other settings"):
        train_scheduler(tmp_path, steps=450, seed=2, **options)
    from hpo.agents.persistence import load_agent

    agent = load_agent(path, device="cpu")
    assert 0 <= mean_regret(AgentPolicy(agent), seed=5, episodes=2) <= 2


def test_the_shipped_scheduler_validates_at_least_as_well_as_training_everything():
    # the curve the shipped weights were made with: the agent's validation regret
    agent = load_scheduler("sac-hmr-scheduler")
    everything = mean_regret(lambda observation: True, seed=7, episodes=40)
    assert mean_regret(AgentPolicy(agent), seed=7, episodes=40) < everything


def test_the_same_seed_trains_the_same_weights(tmp_path):
    from hpo.agents.persistence import load_agent

    options = dict(steps=1_200, seed=3, eval_every=1_200, validation_episodes=1, progress=lambda line: None)
    weights = []
    for name in ("a", "b"):
        agent = load_agent(train_scheduler(tmp_path / name, **options), device="cpu")
        weights.append([p.detach().numpy().copy() for p in agent.actor.parameters()])
    assert all(np.array_equal(x, y) for x, y in zip(*weights))


def _source_study(name: str, direction: str = "minimize"):
    import optuna

    sign = 1.0 if direction == "minimize" else -1.0
    study = optuna.create_study(study_name=name, direction=direction)
    rng = np.random.default_rng(0)
    for _ in range(12):
        trial = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
        final = float(rng.uniform(0.05, 0.5))
        values = final + (0.9 - final) * np.arange(1, 9) ** -0.7
        for epoch, value in enumerate(values, start=1):
            trial.report(sign * float(value), epoch)
        study.tell(trial, sign * float(values[-1]))
    return study


def test_transfer_from_meta_trains_the_scheduler_on_the_sources_intermediate_values(monkeypatch, caplog):
    import hpo.agents.scheduler_training as training
    from hpo.agents.scheduler import SchedulerPruner
    from hpo.transfer import load_sources
    from hpo.tuning import tune

    real, seen = training.train_scheduler, {}

    def short(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **{**kwargs, "steps": 1_200})  # past the 1000 steps before the first update

    monkeypatch.setattr(training, "train_scheduler", short)
    sources = [_source_study("a"), _source_study("b", "maximize")]
    space = {"x": {"type": "float", "low": 0.0, "high": 1.0}}

    def objective(params, trial):
        for epoch in range(1, 9):
            trial.report(params["x"] + 1.0 / epoch, epoch)
        return params["x"]

    result = tune(objective, space, optimizer="random", pruner="sac-hmr", transfer_from=sources, n_trials=3, seed=0)
    pruner = result.study.pruner
    assert isinstance(pruner, SchedulerPruner) and seen["curves"].name == "sources a, b"
    pools = seen["curves"].pools
    assert [p.shape for p in pools] == [(12, 8), (12, 8)]
    assert np.allclose(pools[0], pools[1])  # the maximized source's values are negated back
    shipped = load_scheduler("sac-hmr-scheduler")
    tuned = pruner._policy.agent
    assert any(
        not np.array_equal(a.detach().numpy(), b.detach().numpy())
        for a, b in zip(tuned.actor.parameters(), shipped.actor.parameters())
    )
    # sources without intermediate values: the shipped scheduler, with a warning
    frame = sources[0].trials_dataframe()
    with caplog.at_level("WARNING", logger="hpo"):
        plain = training.meta_trained(load_sources([frame], space))
    assert "the shipped scheduler as it is" in caplog.text and isinstance(plain, SchedulerPruner)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--steps", "-5"], "steps must be an integer >= 1, got -5"),
        (["--gamma", "2"], "gamma must be a finite number in (0.0, 1.0], got 2.0"),
        (["--validation-episodes", "0"], "validation_episodes must be an integer >= 1"),
    ],
)
def test_bad_arguments_give_one_line_before_any_training(tmp_path, capsys, argv, message):
    from hpo.agents.scheduler_training import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--out", str(tmp_path / "run"), *argv])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert message in error[-1] and not (tmp_path / "run" / "agent.zip").exists()
