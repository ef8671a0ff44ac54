"""The sac-hmr-transfer sampler: meta-training on source studies, its cache in the study's
storage, reproducibility, and workers sharing one study."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
import textwrap
import threading
import time
import tracemalloc
import zipfile

import numpy as np
import optuna
import pytest
from optuna.distributions import FloatDistribution

from hpo.errors import UserError
from hpo.samplers.sac_hmr_transfer import CACHE_ATTR, SACHMRTransferSampler, from_sources
from hpo.transfer import PRIOR_MIN_AGREEMENT, PortfolioSampler, load_sources

SPACE = {"x": FloatDistribution(0.0, 1.0), "y": FloatDistribution(0.0, 1.0)}

FAST = dict(training_steps=40, episode_length=10, batch_size=16)


def _source(center, seed, storage=None, name=None):
    rng = np.random.default_rng(seed)
    study = optuna.create_study(storage=storage, study_name=name)
    for _ in range(30):
        params = {"x": float(rng.uniform()), "y": float(rng.uniform())}
        value = (params["x"] - center) ** 2 + (params["y"] - center) ** 2
        study.add_trial(optuna.trial.create_trial(params=params, distributions=SPACE, value=value))
    return study


def _objective(trial):
    return (trial.suggest_float("x", 0, 1) - 0.75) ** 2 + (trial.suggest_float("y", 0, 1) - 0.75) ** 2


def _run(sampler, n_trials=12, storage=None, name=None):
    study = optuna.create_study(sampler=sampler, storage=storage, study_name=name, load_if_exists=True)
    study.optimize(_objective, n_trials=n_trials)
    return study


@pytest.fixture(scope="module")
def sources():
    return load_sources([_source(0.7, 1), _source(0.8, 2)], SPACE)


_WORKER = textwrap.dedent(
    """
    import json, sys
    import optuna
    from optuna.distributions import FloatDistribution
    from hpo.samplers.sac_hmr_transfer import from_sources
    from hpo.transfer import load_sources
    from hpo.trials import work

    storage, seed = sys.argv[1], int(sys.argv[2])
    space = {"x": FloatDistribution(0.0, 1.0), "y": FloatDistribution(0.0, 1.0)}
    sources = load_sources(["src-a", "src-b"], space, storage=storage)
    sampler = from_sources(sources, space, seed=0, training_steps=40, episode_length=10, batch_size=16)
    study = optuna.load_study(study_name="target", storage=storage, sampler=sampler)
    work(study, lambda p: (p["x"] - 0.75) ** 2 + (p["y"] - 0.75) ** 2, space)
    print(json.dumps({"trained": sampler.sampler.training_seconds is not None}))
    """
)


def test_the_portfolio_comes_first_then_the_meta_trained_agent(sources):
    sampler = from_sources(sources, SPACE, seed=0, portfolio_size=2, **FAST)
    assert isinstance(sampler, PortfolioSampler)
    study = _run(sampler)
    assert [t.params for t in study.trials[:2]] == sampler.configs
    assert sampler.sampler.training_seconds is not None  # it trained, here, once
    # The sources' good region transfers: the agent's proposals beat random search's.
    random_study = _run(optuna.samplers.RandomSampler(seed=0))
    assert np.median([t.value for t in study.trials[2:]]) < np.median([t.value for t in random_study.trials[2:]])


def test_seeded_runs_repeat_exactly(sources):
    first = _run(from_sources(sources, SPACE, seed=3, **FAST), n_trials=6)
    second = _run(from_sources(sources, SPACE, seed=3, **FAST), n_trials=6)
    assert [t.params for t in first.trials] == [t.params for t in second.trials]


def test_a_rerun_on_the_same_storage_loads_the_cached_agent_and_continues_identically(sources, tmp_path):
    storage = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    trained = from_sources(sources, SPACE, seed=5, **FAST)
    first = _run(trained, n_trials=6, storage=storage, name="target")
    assert trained.sampler.training_seconds is not None
    attrs = first._storage.get_study_system_attrs(first._study_id)
    assert any(key.startswith(CACHE_ATTR) and not key.endswith(":claim") for key in attrs)
    # Same seed, same study: the weights are read back, not trained again.
    again = from_sources(sources, SPACE, seed=5, **FAST)
    copy = _run(again, n_trials=6, storage=f"sqlite:///{tmp_path / 'other.sqlite3'}", name="target")
    reloaded = from_sources(sources, SPACE, seed=5, **FAST)
    _run(reloaded, n_trials=1, storage=storage, name="target")
    assert reloaded.sampler.training_seconds is None
    assert again.sampler.training_seconds is not None
    assert [t.params for t in copy.trials] == [t.params for t in first.trials[:6]]


def test_a_rerun_with_a_larger_budget_loads_the_cached_agent(sources, tmp_path):
    storage = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    first = from_sources(sources, SPACE, seed=5, n_trials=6, **FAST)
    _run(first, n_trials=6, storage=storage, name="target")
    larger = from_sources(sources, SPACE, seed=5, n_trials=10, **FAST)
    study = _run(larger, n_trials=4, storage=storage, name="target")
    assert first.sampler.training_seconds is not None and larger.sampler.training_seconds is None
    attrs = study._storage.get_study_system_attrs(study._study_id)
    cached = [key for key in attrs if key.startswith(CACHE_ATTR) and not key.endswith(":claim")]
    assert len(cached) == 1  # one agent stored, not one per budget


def test_the_sources_prior_is_used_where_the_sources_agree_on_the_good_region(sources):
    from hpo.space import SpaceEncoder

    encoder = SpaceEncoder(SPACE)
    agreeing = SACHMRTransferSampler(sources)
    assert agreeing._prior(encoder) is not None and agreeing.prior_agreement >= PRIOR_MIN_AGREEMENT
    apart = load_sources([_source(0.1, 1), _source(0.9, 2)], SPACE)
    disagreeing = SACHMRTransferSampler(apart)
    assert disagreeing._prior(encoder) is None and disagreeing.prior_agreement < PRIOR_MIN_AGREEMENT
    assert SACHMRTransferSampler(apart, source_prior=True)._prior(encoder) is not None
    assert SACHMRTransferSampler(sources, source_prior=False)._prior(encoder) is None


def test_the_registry_builds_it_from_source_studies(sources):
    from hpo.optimizers import make_transfer_sampler

    sampler = make_transfer_sampler("sac-hmr-transfer", sources, SPACE, seed=0)
    assert isinstance(sampler, PortfolioSampler) and isinstance(sampler.sampler, SACHMRTransferSampler)


def test_the_ablations_build(sources):
    plain = SACHMRTransferSampler(sources, hmr=False, fine_tune=False)
    assert plain.agent_name == "sac-pretrained" and not plain.fine_tune
    shipped = from_sources(sources, SPACE, seed=0, meta_train=False, **FAST)
    study = _run(shipped, n_trials=8)
    assert shipped.sampler.training_seconds is None  # the shipped agent, not meta-trained
    assert not any(key.startswith(CACHE_ATTR) for key in study._storage.get_study_system_attrs(study._study_id))
    only = from_sources(sources, SPACE, seed=0, agent=False)
    assert isinstance(only.sampler, optuna.samplers.RandomSampler)


def test_bad_arguments_are_errors_naming_them(sources):
    with pytest.raises(UserError, match="sources must be a non-empty list"):
        SACHMRTransferSampler([])
    with pytest.raises(UserError, match="training_steps"):
        SACHMRTransferSampler(sources, training_steps=0)
    with pytest.raises(UserError, match=r"start\[1\] must be a dict"):
        SACHMRTransferSampler(sources, start=[{"x": 0.5}, 0.5])
    with pytest.raises(UserError, match="source_prior is 'yes'; allowed: 'auto', True, False"):
        SACHMRTransferSampler(sources, source_prior="yes")


@pytest.mark.slow
def test_two_processes_sharing_a_study_train_once_and_run_the_budget_exactly(tmp_path):
    from hpo.trials import set_budget

    storage = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    _source(0.7, 1, storage=storage, name="src-a")
    _source(0.8, 2, storage=storage, name="src-b")
    target = optuna.create_study(study_name="target", storage=storage)
    set_budget(target, 24)
    script = tmp_path / "worker.py"
    script.write_text(_WORKER)
    workers = [
        subprocess.Popen([sys.executable, str(script), storage, str(i)], stdout=subprocess.PIPE, text=True)
        for i in range(2)
    ]
    outputs = [json.loads(w.communicate()[0].strip().splitlines()[-1]) for w in workers]
    assert all(w.returncode == 0 for w in workers)
    assert sum(o["trained"] for o in outputs) == 1
    trials = optuna.load_study(study_name="target", storage=storage).trials
    assert len(trials) == 24 and len({t.number for t in trials}) == 24
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)


# ---- the cache as input: records and claims others may have written ---------------------------
def _cache_key(study):
    attrs = study._storage.get_study_system_attrs(study._study_id)
    return next(key for key in attrs if key.startswith(CACHE_ATTR) and not key.endswith(":claim"))


def _npz(**arrays) -> str:
    out = io.BytesIO()
    np.savez_compressed(out, **arrays)
    return base64.b64encode(out.getvalue()).decode("ascii")


def _bomb(declared_bytes: int) -> bytes:
    """A .npz whose one float64 array declares ``declared_bytes``: zeros, written in chunks, so
    the archive is small and making it allocates little."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (declared_bytes // 8,)}
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("actor.mu.weight.npy", "w", force_zip64=True) as member:
            member.write(header.getvalue())
            chunk = bytes(2**20)
            for _ in range(declared_bytes // len(chunk)):
                member.write(chunk)
    return out.getvalue()


def _corrupted(valid: str) -> dict[str, object]:
    """Bad records of the kinds a shared storage can hold, from a valid one."""
    with np.load(io.BytesIO(base64.b64decode(valid))) as archive:
        arrays = {name: archive[name] for name in archive.files}
    weight = next(name for name in arrays if not name.startswith("transitions/") and name != "log_ent_coef")
    nan = {**arrays, weight: np.full_like(arrays[weight], np.nan)}
    reshaped = {**arrays, weight: arrays[weight].reshape(-1)[:-1]}
    return {
        "not base64": "%%% not base64 %%%",
        "an integer": 12345,
        "not an archive": base64.b64encode(b"PK\x03\x04 broken").decode("ascii"),
        "NaN weights": _npz(**nan),
        "a tensor of another shape": _npz(**reshaped),
        "a decompression bomb": base64.b64encode(_bomb(96 * 2**20)).decode("ascii"),
    }


def test_a_bad_cached_agent_is_refused_with_a_warning_and_trained_again(sources, tmp_path, caplog):
    storage = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    first = _run(from_sources(sources, SPACE, seed=5, **FAST), n_trials=6, storage=storage, name="target")
    key = _cache_key(first)
    valid = first._storage.get_study_system_attrs(first._study_id)[key]
    for n, (kind, record) in enumerate(_corrupted(valid).items()):
        first._storage.set_study_system_attr(first._study_id, key, record)
        caplog.clear()
        rerun = from_sources(sources, SPACE, seed=5, **FAST)
        study = _run(rerun, n_trials=7 + n, storage=storage, name="target")
        assert study.trials[-1].state == optuna.trial.TrialState.COMPLETE, kind
        assert rerun.sampler.training_seconds is not None, kind  # trained again
        warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
        assert len(warnings) == 1 and "'target'" in warnings[0] and key in warnings[0], (kind, warnings)
        assert study._storage.get_study_system_attrs(study._study_id)[key] == valid, (
            kind
        )  # the same agent, stored again


def test_a_decompression_bomb_is_refused_before_it_is_decompressed(sources):
    from hpo.agents.transfer_training import load_weights

    agent = SACHMRTransferSampler(sources).agent
    bomb = _bomb(256 * 2**20)
    tracemalloc.start()
    try:
        with pytest.raises(
            ValueError, match=r"its arrays declare 2684355\d\d bytes uncompressed; at most 67108864 are read"
        ):
            load_weights(agent, bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20  # the 256 MiB array was never made


@pytest.mark.parametrize(
    "claim",
    [{"owner": "other", "time": 1e18}, {"owner": "other", "time": float("nan")}, {"owner": "other"}, "garbage", 7],
)
def test_a_claim_from_the_future_or_malformed_is_taken_over(claim):
    from hpo.samplers import sac_hmr_transfer

    study = optuna.create_study()
    study._storage.set_study_system_attr(study._study_id, "k:claim", claim)
    assert _bounded(lambda: sac_hmr_transfer._cached(study, "k")) is None  # this worker trains
    taken = study._storage.get_study_system_attrs(study._study_id)["k:claim"]
    assert isinstance(taken, dict) and taken["owner"] != "other"


def test_a_live_claim_is_waited_for_at_most_the_claim_lease(monkeypatch):
    from hpo.samplers import sac_hmr_transfer

    monkeypatch.setattr(sac_hmr_transfer, "_CLAIM_SECONDS", 0.5)
    monkeypatch.setattr(sac_hmr_transfer, "_CLAIM_POLL_SECONDS", 0.05)
    study = optuna.create_study()
    stop = threading.Event()

    def renew():  # another worker that keeps its claim fresh and never delivers
        while not stop.is_set():
            study._storage.set_study_system_attr(study._study_id, "k:claim", {"owner": "other", "time": time.time()})
            time.sleep(0.01)

    renewer = threading.Thread(target=renew)
    renewer.start()
    try:
        assert _bounded(lambda: sac_hmr_transfer._cached(study, "k")) is None
    finally:
        stop.set()
        renewer.join()


def _bounded(call, seconds=60.0):
    """``call()``'s result; fails the test if it has not returned within ``seconds`` (a hang)."""
    result = []
    thread = threading.Thread(target=lambda: result.append(call()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "still waiting"
    return result[0]


def test_random_mutations_of_a_cached_agent_load_or_are_refused(sources):
    """300 mutations of a cached record (bytes changed, cut or added in the archive, the base64
    text changed, other JSON values): each loads into the agent or is one ValueError, never
    another exception, and a refused one leaves the agent as it was."""
    import random

    import torch

    from hpo.agents.shipped import load_pretrained
    from hpo.agents.transfer_training import load_weights, weights_to_bytes
    from hpo.samplers._base import silent_logger
    from hpo.samplers.sac_hmr_transfer import _decoded

    agent = load_pretrained()
    agent.set_logger(silent_logger())
    raw = weights_to_bytes(SACHMRTransferSampler(sources).agent)  # the bytes a cached record holds
    valid = base64.b64encode(raw).decode("ascii")
    shipped = {name: tensor.clone() for name, tensor in agent.policy.state_dict().items()}
    rng = random.Random(0)
    outcomes = {"loaded": 0, "refused": 0}
    for _ in range(300):
        kind = rng.random()
        if kind < 0.4:  # bytes of the archive changed
            data = bytearray(raw)
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            record = base64.b64encode(bytes(data)).decode("ascii")
        elif kind < 0.6:  # the archive cut short or grown
            cut = raw[: rng.randrange(len(raw))] if rng.random() < 0.5 else raw + bytes(rng.randrange(1, 64))
            record = base64.b64encode(cut).decode("ascii")
        elif kind < 0.8:  # the text changed
            chars = list(valid)
            chars[rng.randrange(len(chars))] = rng.choice("A/+=!~ \n")
            record = "".join(chars)
        else:  # another JSON value in its place
            record = rng.choice([None, 1, 1.5, [], {}, "", valid[:100], [valid]])
        try:
            load_weights(agent, _decoded(record))
            outcomes["loaded"] += 1
        except ValueError:
            outcomes["refused"] += 1
            now = agent.policy.state_dict()
            assert all(torch.equal(now[name], tensor) for name, tensor in shipped.items())
        shipped = {name: tensor.clone() for name, tensor in agent.policy.state_dict().items()}
    assert outcomes["refused"] > 150
