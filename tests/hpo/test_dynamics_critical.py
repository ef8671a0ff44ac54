"""Critical learning rate, loss conventions, catapult detection and the lr phases."""

import numpy as np
import pytest
import torch

import hpo.dynamics as dyn
from benchmarks.dynamics.lr_phases import phase_runs


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


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


def test_learning_rate_phases_of_network_quadratic_model_and_linearisation():
    """The phases of gradient descent at m=1024 (seed 0, float64), eta = c / lam."""
    rows, curves = phase_runs((1.5, 3.0, 5.0), width=1024, seed=0)
    by = {(r["model"], r["c"]): r for r in rows}
    for kind in ("network", "quadratic", "linearized"):
        losses = curves[(kind, 1.5)]
        assert losses.max() <= losses[0] * (1 + 1e-9), kind
    linear = curves[("linearized", 3.0)]
    assert linear[:101].max() > 1e8 * linear[0] or not np.isfinite(linear[:101]).all()
    for kind in ("network", "quadratic"):
        row = by[(kind, 3.0)]
        assert row["phase"] == "catapult"
        assert row["peak_over_initial"] > 5
        assert row["final_over_initial"] < 1e-3
        assert row["eta_times_final_lam"] < 2
    network = curves[("network", 5.0)]
    assert by[("network", 5.0)]["phase"] == "diverged" and len(network) <= 51


def test_catapult_window_brackets_the_critical_rate():
    inputs = dyn.sphere_inputs(16, 6, seed=0)
    window = dyn.catapult_window(dyn.two_layer_relu(6, 64), inputs, "half_mse")
    assert window.critical == pytest.approx(2 / window.sharpness)
    assert window.upper == pytest.approx(2 * window.critical)


def test_detect_catapults_counts_spikes_and_their_peaks():
    curve = [1.0, 0.5, 0.2, 0.1, 0.5, 3.0, 0.4, 0.05, 0.04, 0.2, 0.03, 0.01]
    report = dyn.detect_catapults(curve)
    assert report.count == 2
    assert report.peak_steps == [5, 9]
    assert report.peak_losses == [3.0, 0.2]
    assert not report.diverged


def test_detect_catapults_ignores_noise_near_zero_and_flags_divergence():
    assert dyn.detect_catapults([1.0, 1e-5, 1e-4, 1e-6]).count == 0
    report = dyn.detect_catapults([1.0, 0.5, 4.0, float("inf")])
    assert report.diverged and report.count == 1


def test_classify_phase():
    assert dyn.classify_phase([1.0, 0.5, 0.1]) == "monotone"
    assert dyn.classify_phase([1.0, 20.0, 0.1, 0.01]) == "catapult"
    assert dyn.classify_phase([1.0, 20.0, float("nan")]) == "diverged"


def test_lr_range_of_a_shallow_relu_network_starts_at_the_critical_rate_and_is_an_optuna_range():
    inputs = dyn.sphere_inputs(32, 6, seed=0)
    found = dyn.lr_range(dyn.two_layer_relu(6, 128), inputs, torch.sign(inputs[:, 0]), loss="half_mse")
    assert found.low == pytest.approx(0.3 / found.sharpness)
    assert found.critical == pytest.approx(2 / found.sharpness)
    assert found.probes[0].lr == pytest.approx(found.critical) and found.probes[0].trained
    assert found.critical <= found.high
    distribution = found.as_distribution()
    assert distribution.log and distribution.low == found.low and distribution.high == found.high
