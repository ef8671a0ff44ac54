"""The first 20 configurations that ``tpe``, ``sac-hmr`` and ``sac-hmr-pretrained`` suggest on
a fixed seeded task are pinned in ``tests/hpo/data/pinned_suggestions.json``: moving or
reorganizing code must not change what an optimizer proposes.

Regenerate the file (only after a deliberate change of behaviour) with
``python tests/hpo/test_pinned_suggestions.py``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

import hpo

PINNED = Path(__file__).parent / "data" / "pinned_suggestions.json"
OPTIMIZERS = ("tpe", "sac-hmr", "sac-hmr-pretrained")
N_TRIALS = 20
SPACE = {
    "lr": FloatDistribution(1e-4, 1.0, log=True),
    "width": IntDistribution(8, 128, step=8),
    "dropout": FloatDistribution(0.0, 0.5),
    "activation": CategoricalDistribution(["relu", "tanh", "gelu"]),
}


def objective(params):
    shift = {"relu": 0.0, "tanh": 0.3, "gelu": 0.1}[params["activation"]]
    return (
        (math.log10(params["lr"]) + 2.5) ** 2
        + ((params["width"] - 64) / 64) ** 2
        + (params["dropout"] - 0.2) ** 2
        + shift
    )


def suggestions(optimizer: str) -> list[dict]:
    result = hpo.tune(objective, SPACE, optimizer=optimizer, n_trials=N_TRIALS, seed=0)
    return [trial.params for trial in result.study.trials]


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_first_suggestions_are_pinned(optimizer):
    expected = json.loads(PINNED.read_text())[optimizer]
    got = suggestions(optimizer)
    assert len(got) == len(expected) == N_TRIALS
    for number, (have, want) in enumerate(zip(got, expected)):
        assert set(have) == set(want), f"trial {number}"
        for name, value in want.items():
            if isinstance(value, float):
                assert have[name] == pytest.approx(value, rel=1e-9, abs=1e-12), f"trial {number}, {name}"
            else:
                assert have[name] == value, f"trial {number}, {name}"


if __name__ == "__main__":
    PINNED.write_text(json.dumps({name: suggestions(name) for name in OPTIMIZERS}, indent=1) + "\n")
    print(f"wrote {PINNED}")
