"""``hpo dynamics`` command line, the experiment registry and the lr-range use on the digits MLP."""

import sys
import types

import pytest
import torch

import hpo.dynamics as dyn
from benchmarks.dynamics import EXPERIMENTS
from benchmarks.dynamics.lr_range_tuning import digits_lr_range
from hpo.cli import main
from hpo.digits_mlp import DigitsMLP
from hpo.errors import UserError


def test_list_names_the_eight_experiments_and_their_papers(capsys):
    assert main(["dynamics", "list"]) == 0
    out = capsys.readouterr().out
    letters = {e.letter for e in EXPERIMENTS.values()}
    assert set("abcdefgh") <= letters
    for experiment in EXPERIMENTS.values():
        assert experiment.name in out and experiment.paper.split(".")[0] in out


def test_run_rejects_an_unknown_experiment_by_name(capsys, tmp_path):
    assert main(["dynamics", "run", "nope", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "experiment must be one of" in err and "'nope'" in err


def _printed_range(out: str) -> tuple[float, float]:
    line = next(row for row in out.splitlines() if row.startswith("suggested log-uniform lr range"))
    low, high = (float(v) for v in line.split("[")[1].rstrip("]").split(","))
    return low, high


def test_lr_range_on_the_digits_mlp_prints_the_probes_and_a_range_reaching_past_the_critical_rate(capsys):
    assert main(["dynamics", "lr-range", "--probe-size", "64", "--steps", "16"]) == 0
    out = capsys.readouterr().out
    low, high = _printed_range(out)
    critical = float(next(row for row in out.splitlines() if row.startswith("critical")).split("=")[1].split()[0])
    assert 0 < low < critical <= high
    assert "does not train" in out


def test_lr_range_accepts_a_user_factory(capsys, monkeypatch):
    generator = torch.Generator().manual_seed(0)
    module = types.ModuleType("user_models_for_test")
    module.build = lambda: (
        torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)),
        torch.randn(16, 3, generator=generator),
        torch.randn(16, 1, generator=generator),
    )
    monkeypatch.setitem(sys.modules, "user_models_for_test", module)
    assert main(["dynamics", "lr-range", "--model", "user_models_for_test:build", "--loss", "half_mse"]) == 0
    assert "user_models_for_test:build" in capsys.readouterr().out


@pytest.mark.parametrize(
    "reference, fragment", [("no_colon", "MODULE:FUNCTION"), ("not_a_module_xyz:f", "cannot import")]
)
def test_lr_range_bad_model_reference(capsys, reference, fragment):
    assert main(["dynamics", "lr-range", "--model", reference]) == 2
    assert fragment in capsys.readouterr().err


def test_the_top_of_the_digits_range_trains_and_three_times_it_does_not():
    """The task's own training (SGD, batch 64, 10 epochs), 3 seeds. The sharpness-only top 8/s of the
    NTK theory's catapult window fails here (the network is standard-parametrised and trained by
    mini-batch SGD), so the top must come from the probes."""
    torch.set_num_threads(1)
    task = DigitsMLP()
    found = digits_lr_range(task, seed=0)
    assert found.critical < found.high < 8 / found.sharpness
    for seed in (0, 1, 2):
        assert task.train_and_evaluate(found.high, seed=seed) < 0.06
        assert task.train_and_evaluate(3 * found.high, seed=seed) > 0.5
    assert task.train_and_evaluate(8 / found.sharpness, seed=0) > 0.3


def _small_regression(seed=0):
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(64, 5, generator=generator)
    targets = torch.sin(inputs[:, :1])
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(5, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1))
    return model, inputs, targets


def test_lr_range_unpacks_as_low_high_and_follows_the_optimizer():
    torch.set_num_threads(1)
    model, inputs, targets = _small_regression()
    low, high = found = dyn.lr_range(model, inputs, targets, batch_size=16)
    assert (low, high) == (found.low, found.high) and low < high
    assert [p.lr for p in found.probes] == sorted(p.lr for p in found.probes)
    assert any(not p.trained for p in found.probes if p.lr > high)
    used = []

    def adam(params, lr):
        used.append(lr)
        return torch.optim.Adam(params, lr=lr)

    with_adam = dyn.lr_range(model, inputs, targets, optimizer=adam, batch_size=16, start=1e-3)
    assert used == [p.lr for p in sorted(with_adam.probes, key=lambda p: p.lr)] and used[0] == 1e-3
    assert with_adam.high != high and with_adam.low < with_adam.high


def test_lr_range_searches_downwards_when_the_start_does_not_train():
    torch.set_num_threads(1)
    model, inputs, targets = _small_regression()
    found = dyn.lr_range(model, inputs, targets, start=1e4)
    assert found.high < 1e4 and found.probes[-1].lr == 1e4 and not found.probes[-1].trained
    assert any(p.trained and p.lr == found.high for p in found.probes)


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"ratio": 1.0}, "ratio"),
        ({"steps": 0}, "steps"),
        ({"batch_size": 1000}, "batch_size"),
        ({"loss": "l1"}, "loss"),
    ],
)
def test_lr_range_names_the_bad_argument(kwargs, fragment):
    model, inputs, targets = _small_regression()
    with pytest.raises(UserError, match=fragment):
        dyn.lr_range(model, inputs, targets, **kwargs)


def test_online_divergence_and_unrecovered_catapult_tests():
    assert not dyn.diverged([1.0, 0.5, 3.0]) and dyn.diverged([1.0, 0.5, 30.0]) and dyn.diverged([1.0, float("nan")])
    recovered = [1.0, 0.5, 0.3, 5.0, 2.0, 0.2] + [0.1] * 30
    assert not dyn.catapult_unrecovered(recovered, patience=5)
    stuck = [1.0, 0.5, 0.3] + [2.0] * 10
    assert dyn.catapult_unrecovered(stuck, patience=10) and not dyn.catapult_unrecovered(stuck, patience=11)
    assert dyn.catapult_unrecovered([1.0, float("inf")])
    with pytest.raises(UserError, match="patience"):
        dyn.catapult_unrecovered(stuck, patience=0)


def test_run_refuses_an_output_path_that_is_a_file(capsys, tmp_path):
    target = tmp_path / "a_file"
    target.write_text("x")
    assert main(["dynamics", "run", "relu-conditioning", "--out", str(target)]) == 2
    assert "--out must be a directory" in capsys.readouterr().err
