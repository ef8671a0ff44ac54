"""``hpo.dynamics.lr_range``: the learning-rate range starts at the critical rate, follows the
optimizer and names a bad argument."""

import pytest
import torch

import hpo.dynamics as dyn
from hpo.errors import UserError


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


def test_lr_range_of_a_shallow_relu_network_starts_at_the_critical_rate_and_is_an_optuna_range():
    inputs = dyn.sphere_inputs(32, 6, seed=0)
    found = dyn.lr_range(dyn.two_layer_relu(6, 128), inputs, torch.sign(inputs[:, 0]), loss="half_mse")
    assert found.low == pytest.approx(0.3 / found.sharpness)
    assert found.critical == pytest.approx(2 / found.sharpness)
    assert found.probes[0].lr == pytest.approx(found.critical) and found.probes[0].trained
    assert found.critical <= found.high
    distribution = found.as_distribution()
    assert distribution.log and distribution.low == found.low and distribution.high == found.high
