"""``hpo.samplers._ask_tell``: the distributions as the peers see them, what a peer is told
(pruned, failed, maximized), its state kept per study, rebuilt where it must be, and the
missing extra; with a recording peer, so that no peer library is needed."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

import hpo
from hpo.errors import UserError
from hpo.samplers._ask_tell import AskTellSampler, Param, Peer, derive_seed, global_seed, peer_params

SPACE = {
    "x": FloatDistribution(-2.0, 3.0),
    "lr": FloatDistribution(1e-4, 1.0, log=True),
    "d": FloatDistribution(0.0, 0.5, step=0.1),
    "n": IntDistribution(1, 10),
    "units": IntDistribution(8, 128, log=True),
    "width": IntDistribution(8, 128, step=8),
    "act": CategoricalDistribution(["relu", None, True, 2.5]),
}

PEERS = ("hebo", "smac", "ngopt", "syne-tune-bo")
TRANSFER_PEERS = ("syne-tune-quantile", "syne-tune-box")
PEER_MODULES = {"hebo": "hebo", "smac": "smac", "ngopt": "nevergrad", "syne-tune-bo": "syne_tune"}


class RecordingPeer(Peer):
    """Proposes uniform random configurations from its own seed; records what it is told."""

    builds: list[RecordingPeer] = []

    def __init__(self, params: list[Param], seed: int, budget: int, told):
        self.params, self.seed, self.budget = params, seed, budget
        self.rng = np.random.default_rng(seed)
        self.built_with = list(told)
        self.told: list[tuple[dict, float, object]] = []
        RecordingPeer.builds.append(self)

    def ask(self):
        config = {}
        for p in self.params:
            if p.kind == "float":
                low, high = (math.log(p.low), math.log(p.high)) if p.log else (p.low, p.high)
                value = self.rng.uniform(low, high)
                config[p.name] = math.exp(value) if p.log else value
            else:
                config[p.name] = int(self.rng.integers(p.low, p.high + 1))
        return config, ("token", len(self.told))

    def tell(self, config, loss, token):
        self.told.append((config, loss, token))


class RebuiltPeer(RecordingPeer):
    incremental = False


@pytest.fixture(autouse=True)
def _fresh_builds():
    RecordingPeer.builds = []


def test_every_distribution_round_trips_through_the_peers_terms():
    params = {p.name: p for p in peer_params(SPACE)}
    assert [(p.kind, p.low, p.high, p.log) for p in params.values()] == [
        ("float", -2.0, 3.0, False),
        ("float", 1e-4, 1.0, True),
        ("int", 0, 5, False),
        ("int", 1, 10, False),
        ("int", 8, 128, True),
        ("int", 0, 15, False),
        ("choice", 0, 3, False),
    ]
    for value in (0.0, 0.1, 0.3, 0.5):
        assert params["d"].from_peer(params["d"].to_peer(value)) == pytest.approx(value)
    assert [params["width"].to_peer(v) for v in (8, 16, 128)] == [0, 1, 15]
    assert [params["width"].from_peer(i) for i in (0, 1, 15, 99)] == [8, 16, 128, 128]
    assert [params["act"].to_peer(v) for v in ("relu", None, True, 2.5)] == [0, 1, 2, 3]
    assert [params["act"].from_peer(i) for i in (0, 1, 2, 3.2)] == ["relu", None, True, 2.5]
    assert params["lr"].from_peer(1.0 + 1e-12) == 1.0 and params["x"].from_peer(-2.5) == -2.0
    assert params["n"].from_peer(4.6) == 5 and params["units"].from_peer(200) == 128


def _objective(params):
    return (params["x"] - 0.5) ** 2 + params["n"]


def test_a_single_process_study_builds_its_peer_once_and_tells_each_trial_once():
    sampler = AskTellSampler(RecordingPeer, seed=3, n_trials=10)
    result = hpo.tune(_objective, SPACE, optimizer=sampler, n_trials=10, seed=3)
    trials = result.study.trials
    assert len(RecordingPeer.builds) == 1 and RecordingPeer.builds[0].budget == 10
    peer = RecordingPeer.builds[0]
    # trial 0 is sampled independently (no search space yet), then every trial by the peer
    assert [loss for _, loss in peer.built_with] == [trials[0].value]
    assert [loss for _, loss, _ in peer.told] == [t.value for t in trials[1:-1]]
    assert [token for _, _, token in peer.told] == [("token", i) for i in range(8)]  # each told its own ask
    assert all(SPACE[name]._contains(SPACE[name].to_internal_repr(v)) for t in trials for name, v in t.params.items())


def test_a_sampler_given_its_space_lets_the_peer_suggest_the_first_trial_too():
    space = {**SPACE, "fixed": FloatDistribution(1.0, 1.0)}
    sampler = AskTellSampler(RecordingPeer, seed=3, n_trials=5, space=space)
    result = hpo.tune(
        lambda p: _objective({n: v for n, v in p.items() if n != "fixed"}), space, optimizer=sampler, n_trials=5, seed=3
    )
    peer = RecordingPeer.builds[0]
    assert len(RecordingPeer.builds) == 1 and peer.built_with == []
    assert [p.name for p in peer.params] == list(SPACE)  # a single-valued parameter is not the peer's
    asked = np.random.default_rng(peer.seed).uniform(-2.0, 3.0)  # the peer's first draw, for x
    assert result.study.trials[0].params["x"] == pytest.approx(asked)


def test_a_maximized_study_tells_negated_values():
    sampler = AskTellSampler(RecordingPeer, seed=0)
    result = hpo.tune(_objective, SPACE, optimizer=sampler, direction="maximize", n_trials=6, seed=0)
    (peer,) = RecordingPeer.builds
    told = [loss for _, loss in peer.built_with] + [loss for _, loss, _ in peer.told]
    assert told == [-t.value for t in result.study.trials[:5]]


def test_pruned_trials_tell_their_last_intermediate_value_and_failed_ones_nothing():
    study = optuna.create_study(sampler=AskTellSampler(RecordingPeer, seed=0))

    def objective(trial):
        x = trial.suggest_float("x", 0.0, 1.0)
        if trial.number == 1:
            trial.report(7.0, 0)
            trial.report(5.0, 3)
            raise optuna.TrialPruned()
        if trial.number == 2:
            raise optuna.TrialPruned()  # no intermediate value: skipped
        if trial.number == 3:
            raise RuntimeError("fails")
        if trial.number == 4:
            return float("inf")  # not finite: skipped
        return x

    study.optimize(objective, n_trials=7, catch=(RuntimeError,))
    (peer,) = RecordingPeer.builds
    losses = [loss for _, loss in peer.built_with] + [loss for _, loss, _ in peer.told]
    assert losses == [study.trials[0].value, 5.0, study.trials[5].value]


def test_a_fresh_sampler_on_a_resumed_study_rebuilds_the_peer_from_every_finished_trial(tmp_path):
    storage = f"sqlite:///{tmp_path / 'db.sqlite'}"
    first = AskTellSampler(RecordingPeer, seed=1)
    hpo.tune(_objective, SPACE, optimizer=first, n_trials=5, seed=1, storage=storage, study_name="s")
    second = AskTellSampler(RecordingPeer, seed=1)
    result = hpo.tune(_objective, SPACE, optimizer=second, n_trials=9, seed=1, storage=storage, study_name="s")
    rebuilt = RecordingPeer.builds[-1]
    assert len(result.study.trials) == 9
    assert [loss for _, loss in rebuilt.built_with] == [t.value for t in result.study.trials[:5]]
    assert rebuilt.seed == derive_seed(1, 5) != RecordingPeer.builds[0].seed


def test_a_peer_that_cannot_be_updated_is_rebuilt_at_each_suggestion():
    hpo.tune(_objective, SPACE, optimizer=AskTellSampler(RebuiltPeer, seed=0), n_trials=6, seed=0)
    assert [len(peer.built_with) for peer in RecordingPeer.builds] == [1, 2, 3, 4, 5]


def test_threads_share_one_peer_per_study():
    sampler = AskTellSampler(RecordingPeer, seed=0)
    study = optuna.create_study(sampler=sampler)
    study.optimize(lambda t: t.suggest_float("x", 0, 1) + t.suggest_int("n", 0, 3), n_trials=16, n_jobs=2)
    assert len(study.trials) == 16 and all(t.state.name == "COMPLETE" for t in study.trials)
    assert len(sampler._states) == 1


def test_conditional_parameters_outside_the_search_space_are_sampled_independently():
    def objective(trial):
        kind = trial.suggest_categorical("kind", ["a", "b"])
        return trial.suggest_float("y", 0.0, 1.0) if kind == "b" else 1.0

    study = optuna.create_study(sampler=AskTellSampler(RecordingPeer, seed=0))
    study.optimize(objective, n_trials=12)
    assert [p.name for p in RecordingPeer.builds[-1].params] == ["kind"]  # once a trial went without y
    assert all(("y" in t.params) == (t.params["kind"] == "b") for t in study.trials)


def test_global_seed_seeds_the_peer_and_restores_the_callers_generators():
    np.random.seed(5)
    expected = np.random.random()
    np.random.seed(5)
    with global_seed(11):
        inside = np.random.random()
    with global_seed(11):
        assert np.random.random() == inside
    assert np.random.random() == expected


@pytest.mark.parametrize("optimizer", PEERS)
def test_a_missing_peer_library_is_a_user_error_naming_the_extra(monkeypatch, optimizer):
    for module in ("hebo", "smac", "nevergrad", "syne_tune", "botorch"):
        monkeypatch.setitem(sys.modules, module, None)  # import fails as if not installed
    with pytest.raises(UserError, match=rf"optimizer '{optimizer}' needs the peers extra: .*install_peers.sh"):
        hpo.make_sampler(optimizer, seed=0)


@pytest.mark.parametrize("optimizer", TRANSFER_PEERS)
def test_a_transfer_peer_without_its_library_is_a_user_error_naming_the_extra(monkeypatch, optimizer):
    from hpo.optimizers import make_transfer_sampler
    from hpo.transfer import load_sources

    sources = load_sources([_source_frame()], {"x": FloatDistribution(-2.0, 3.0)}, "minimize")
    monkeypatch.setitem(sys.modules, "syne_tune", None)
    with pytest.raises(UserError, match=rf"optimizer '{optimizer}' needs the peers extra: .*install_peers.sh"):
        make_transfer_sampler(optimizer, sources, {"x": FloatDistribution(-2.0, 3.0)}, seed=0)
    with pytest.raises(UserError, match="needs source studies"):
        hpo.make_sampler(optimizer, seed=0)


def _source_frame():
    import pandas as pd

    return pd.DataFrame({"params_x": [0.0, 1.0, 2.0], "value": [3.0, 1.0, 2.0], "state": ["COMPLETE"] * 3})


def test_import_hpo_imports_no_peer_library():
    code = (
        "import sys, hpo, hpo.optimizers; "
        "print([m for m in ('hebo', 'smac', 'nevergrad', 'syne_tune', 'botorch') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
