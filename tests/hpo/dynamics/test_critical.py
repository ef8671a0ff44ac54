"""``hpo.dynamics.critical``: the critical learning rate under each loss convention and the
catapult window."""

import pytest
import torch

import hpo.dynamics as dyn


def test_loss_conventions_scale_the_critical_rate_by_2_and_n():
    inputs = dyn.sphere_inputs(16, 6, seed=0)
    model = dyn.two_layer_relu(6, 256, seed=0)
    rates = {loss: dyn.critical_learning_rate(model, inputs, loss) for loss in dyn.LOSS_CONVENTIONS}
    assert rates["half_mse"] == pytest.approx(2 * rates["mse"])
    assert rates["half_sse"] == pytest.approx(rates["half_mse"] / 16)
    assert rates["sse"] == pytest.approx(rates["mse"] / 16)


@pytest.mark.parametrize("loss", ["mse", "half_mse", "sse", "half_sse"])
def test_linearised_gd_is_stable_just_below_and_unstable_just_above_the_critical_rate(loss):
    """The threshold must hold for the loss convention actually trained on."""
    inputs = dyn.sphere_inputs(16, 6, seed=1)
    targets = torch.sign(inputs[:, 0])
    critical = dyn.critical_learning_rate(dyn.two_layer_relu(6, 128, seed=0), inputs, loss)
    below = dyn.train(
        dyn.linearized_model(dyn.two_layer_relu(6, 128, seed=0)),
        inputs,
        targets,
        lr=0.95 * critical,
        steps=300,
        loss=loss,
    )
    above = dyn.train(
        dyn.linearized_model(dyn.two_layer_relu(6, 128, seed=0)),
        inputs,
        targets,
        lr=1.05 * critical,
        steps=3000,
        loss=loss,
    )
    assert not below.diverged and below.losses[-1] < below.losses[0]
    assert above.diverged


def test_catapult_window_brackets_the_critical_rate():
    inputs = dyn.sphere_inputs(16, 6, seed=0)
    window = dyn.catapult_window(dyn.two_layer_relu(6, 64), inputs, "half_mse")
    assert window.critical == pytest.approx(2 / window.sharpness)
    assert window.upper == pytest.approx(2 * window.critical)
