"""``hpo dynamics``: listing and running the experiments, ``lr-range`` on the digits MLP or a
user's model."""

import sys
import types

import pytest
import torch

from benchmarks.dynamics import EXPERIMENTS
from hpo.cli import main


def _printed_range(out: str) -> tuple[float, float]:
    line = next(row for row in out.splitlines() if row.startswith("suggested log-uniform lr range"))
    low, high = (float(v) for v in line.split("[")[1].rstrip("]").split(","))
    return low, high


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


def test_run_refuses_an_output_path_that_is_a_file(capsys, tmp_path):
    target = tmp_path / "a_file"
    target.write_text("x")
    assert main(["dynamics", "run", "relu-conditioning", "--out", str(target)]) == 2
    assert "--out must be a directory" in capsys.readouterr().err
