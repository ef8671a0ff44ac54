"""``hpo.samplers.sac_hmr``: Optuna's sampler test cases, seeding, pickling, failures, threads
and processes sharing a study."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import optuna
import pytest
import torch
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.testing.pytest_samplers import (
    BasicSamplerTestCase,
    MultiObjectiveSamplerTestCase,
    RelativeSamplerTestCase,
)
from optuna.trial import TrialState

import hpo
from hpo.errors import UserError
from hpo.samplers.sac_hmr import SACHMRSampler

torch.set_num_threads(1)


optuna.logging.set_verbosity(optuna.logging.WARNING)


# Cheap settings: the generic cases check the sampler's contract, not its search quality.
CHEAP = dict(n_startup_trials=1, gradient_steps=2, batch_size=8, net_arch=(8, 8))


def cheap_sac_hmr():
    return SACHMRSampler(seed=0, **CHEAP)


def cheap_sac():
    return SACHMRSampler(seed=1, hmr=False, action_mode="absolute", **CHEAP)


def cheap_unseeded():
    return SACHMRSampler(**CHEAP)


FACTORIES = [
    pytest.param(cheap_sac_hmr, id="sac-hmr"),
    pytest.param(cheap_sac, id="sac-absolute"),
    pytest.param(cheap_unseeded, id="sac-hmr-unseeded"),
]

SPACE = {
    "x": FloatDistribution(-5.0, 5.0),
    "lr": FloatDistribution(1e-4, 1.0, log=True),
    "n": IntDistribution(1, 10),
    "kind": CategoricalDistribution(["a", "b"]),
}


def quadratic(params):
    return (params["x"] - 1.0) ** 2 + np.log10(params["lr"]) ** 2 + 0.1 * params["n"] + (params["kind"] == "b")


def params_of(seed, n_trials=15, **kwargs):
    sampler = SACHMRSampler(seed=seed, **{**CHEAP, "n_startup_trials": 4, **kwargs})
    result = hpo.tune(quadratic, SPACE, optimizer=sampler, n_trials=n_trials)
    return [t.params for t in result.study.trials]


def flaky_quadratic(params):
    flaky_quadratic.calls += 1
    if flaky_quadratic.calls % 5 == 0:
        raise RuntimeError("out of memory (simulated)")
    return quadratic(params)


WORKER = textwrap.dedent(
    """
    import sys, optuna, torch
    torch.set_num_threads(1)
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC
    from hpo.samplers.sac_hmr import SACHMRSampler

    storage, seed = sys.argv[1], int(sys.argv[2])
    X, y = load_breast_cancer(return_X_y=True)
    sampler = SACHMRSampler(seed=seed, n_startup_trials=3, gradient_steps=2, batch_size=8, net_arch=(8, 8))
    study = optuna.load_study(study_name="shared", storage=storage, sampler=sampler)

    def objective(trial):
        model = SVC(C=trial.suggest_float("C", 1e-2, 1e3, log=True),
                    gamma=trial.suggest_float("gamma", 1e-5, 1.0, log=True),
                    kernel=trial.suggest_categorical("kernel", ["rbf", "sigmoid"]))
        return cross_val_score(make_pipeline(StandardScaler(), model), X, y, cv=3).mean()

    study.optimize(objective, n_trials=8)
    """
)


class TestBasic(BasicSamplerTestCase):
    @pytest.fixture(params=FACTORIES[::2])
    def sampler(self, request):
        return request.param


class TestRelative(RelativeSamplerTestCase):
    @pytest.fixture(params=FACTORIES[:2])
    def sampler(self, request):
        return request.param


class TestMultiObjective(MultiObjectiveSamplerTestCase):
    @pytest.fixture(params=FACTORIES[:1])
    def sampler(self, request):
        return request.param


def test_same_seed_same_trials_and_other_seed_other_trials():
    first = params_of(3)
    assert first == params_of(3)
    different = params_of(4)
    assert first[5:] != different[5:]


def test_the_agent_proposes_after_the_startup_trials_and_keeps_training():
    sampler = SACHMRSampler(seed=0, **{**CHEAP, "n_startup_trials": 4})
    hpo.tune(quadratic, SPACE, optimizer=sampler, n_trials=8)
    assert sampler._agent is not None
    assert sampler._trained_transitions == 7  # the history before the last proposal
    assert sampler._agent._n_updates == 2 * 7  # gradient_steps per finished trial


def test_sampler_leaves_the_global_rngs_alone():
    np.random.seed(123)
    torch.manual_seed(123)
    expected_numpy, expected_torch = np.random.rand(), torch.rand(1)
    np.random.seed(123)
    torch.manual_seed(123)
    params_of(0, n_trials=8)
    assert np.random.rand() == expected_numpy
    assert torch.equal(torch.rand(1), expected_torch)


def test_reseed_rng_changes_the_following_proposals():
    def run(reseed):
        sampler = SACHMRSampler(seed=0, **{**CHEAP, "n_startup_trials": 3})
        study = optuna.create_study(sampler=sampler)
        for i in range(8):
            if reseed and i == 5:
                sampler.reseed_rng()
            trial = study.ask(SPACE)
            study.tell(trial, quadratic(trial.params))
        return [t.params for t in study.trials]

    plain, reseeded = run(False), run(True)
    assert plain[:5] == reseeded[:5]
    assert plain[5:] != reseeded[5:]


def test_a_pickled_sampler_goes_on_exactly_like_the_original():
    import pickle

    sampler = SACHMRSampler(seed=0, **{**CHEAP, "n_startup_trials": 3})
    study = optuna.create_study(sampler=sampler)
    for _ in range(5):
        trial = study.ask(SPACE)
        study.tell(trial, quadratic(trial.params))
    copy = pickle.loads(pickle.dumps(sampler))
    twin = optuna.create_study(sampler=copy)
    twin.add_trials(study.trials)
    for _ in range(3):
        proposals = []
        for each in (study, twin):
            trial = each.ask(SPACE)
            each.tell(trial, quadratic(trial.params))
            proposals.append(trial.params)
        assert proposals[0] == proposals[1]


def test_sac_hmr_goes_on_through_20_percent_failures_and_shows_them():
    flaky_quadratic.calls = 0
    sampler = SACHMRSampler(seed=0, **{**CHEAP, "n_startup_trials": 5})
    result = hpo.tune(flaky_quadratic, SPACE, optimizer=sampler, n_trials=30)
    states = [t.state for t in result.study.trials]
    assert len(states) == 30
    assert states.count(TrialState.FAIL) == 6 and states.count(TrialState.COMPLETE) == 24
    failed = [t for t in result.study.trials if t.state == TrialState.FAIL]
    assert all(t.user_attrs["error"] == "RuntimeError: out of memory (simulated)" for t in failed)
    # The agent saw the failures as penalized transitions.
    assert sampler._agent.replay_buffer.rewards[:29, 0].min() == pytest.approx(-1.0)


def test_registry_names_build_the_sampler_without_importing_torch_at_import():
    code = "import sys, hpo; print('torch' in sys.modules, 'stable_baselines3' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
    assert isinstance(hpo.make_sampler("sac-hmr", seed=0), SACHMRSampler)
    plain = hpo.make_sampler("sac", seed=0)
    assert isinstance(plain, SACHMRSampler) and plain.hmr is False


@pytest.mark.slow  # about 10 s: 14 cross-validated SVC fits
def test_tune_with_sac_hmr_on_a_scikit_learn_task():
    from hpo.tasks import get_task

    task = get_task("svc-digits")
    space = {"C": FloatDistribution(1e-1, 1e2, log=True), "gamma": FloatDistribution(1e-4, 1e-2, log=True)}
    result = hpo.tune(task.objective, space, optimizer="sac-hmr", n_trials=14, direction="maximize", seed=0)
    assert [t.state for t in result.study.trials] == [TrialState.COMPLETE] * 14
    assert result.best_value > 0.9


def test_n_jobs_2_threads_share_one_sampler():
    sampler = SACHMRSampler(seed=0, **{**CHEAP, "n_startup_trials": 3})
    study = optuna.create_study(sampler=sampler)
    study.optimize(lambda t: quadratic({name: t._suggest(name, d) for name, d in SPACE.items()}), n_trials=16, n_jobs=2)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 16


@pytest.mark.slow  # 10-50 s: two fresh interpreters import torch, SB3 and scikit-learn
def test_two_processes_share_one_sqlite_study(tmp_path):
    storage = f"sqlite:///{tmp_path / 'shared.db'}"
    # Create the study once before the workers start (concurrent schema creation races).
    optuna.create_study(study_name="shared", storage=storage, direction="maximize")
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    env = {**__import__("os").environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(Path(__file__).parents[3])}
    workers = [
        subprocess.Popen([sys.executable, str(script), storage, str(seed)], env=env, stderr=subprocess.PIPE, text=True)
        for seed in (0, 1)  # a distinct seed per worker process
    ]
    for worker in workers:
        _, err = worker.communicate()
        assert worker.returncode == 0, err
    trials = optuna.load_study(study_name="shared", storage=storage).trials
    assert len(trials) == 16
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 16
    assert sorted(t.number for t in trials) == list(range(16))
    assert len({tuple(sorted(t.params.items())) for t in trials}) == 16  # no duplicated proposal


def test_fine_tunes_a_given_agent_and_checks_its_spaces():
    import envs
    from hpo.agents import SACHMR

    env = envs.HPOEnv(quadratic, SPACE, n_trials=10)
    agent = SACHMR("MlpPolicy", env, policy_kwargs=dict(net_arch=[8, 8]), learning_starts=5, batch_size=8, seed=0)
    agent.learn(10)
    updates_before = agent._n_updates
    sampler = SACHMRSampler(seed=0, agent=agent, **{**CHEAP, "n_startup_trials": 3})
    hpo.tune(quadratic, SPACE, optimizer=sampler, n_trials=6)
    assert sampler._agent is agent and agent._n_updates > updates_before

    wrong = SACHMRSampler(seed=0, agent=agent, **{**CHEAP, "n_startup_trials": 2})
    study = optuna.create_study(sampler=wrong)
    for _ in range(2):
        trial = study.ask({"x": SPACE["x"], "n": SPACE["n"]})
        study.tell(trial, 1.0)
    with pytest.raises(UserError, match=r"agent: its observation_space has shape \(36,\).*needs \(24,\)"):
        study.ask({"x": SPACE["x"], "n": SPACE["n"]})


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_startup_trials": -1}, "n_startup_trials must be an integer >= 0, got -1"),
        ({"gamma": 1.0}, "gamma must be a finite number in [0, 1), got 1.0"),
        ({"net_arch": []}, "net_arch must be a non-empty list of positive layer widths, got []"),
        ({"action_mode": "jump"}, "action_mode is 'jump'; allowed: absolute, relative"),
        ({"hmr_critic_levels": (-1,)}, "hmr_critic_levels must hold non-negative integers, got -1"),
        ({"seed": -3}, "seed must be a non-negative integer or None, got -3"),
        ({"independent_sampler": "random"}, "independent_sampler must be an optuna BaseSampler, got str"),
    ],
)
def test_bad_options_name_the_parameter(kwargs, message):
    with pytest.raises(UserError) as excinfo:
        SACHMRSampler(**kwargs)
    assert message in str(excinfo.value)


def test_zero_startup_trials_lets_the_agent_act_from_the_second_trial_as_optuna_samplers_do():
    # Optuna's meaning: no random start-up phase; the first trial has no relative space yet.
    study = optuna.create_study(sampler=SACHMRSampler(seed=0, **{**CHEAP, "n_startup_trials": 0}))
    study.optimize(lambda t: (t.suggest_float("x", -1, 1) - 0.3) ** 2, n_trials=3)
    assert len(study.trials) == 3
    assert study.sampler._agent is not None  # built by the first relative suggestion, at trial 1
    with_startup = optuna.create_study(sampler=SACHMRSampler(seed=0, **{**CHEAP, "n_startup_trials": 3}))
    with_startup.optimize(lambda t: (t.suggest_float("x", -1, 1) - 0.3) ** 2, n_trials=3)
    assert with_startup.sampler._agent is None
