"""Clean-priority learning under label noise (the paper's claim at a smaller size) and the gradient split."""

import numpy as np
import pytest
import torch

import hpo.dynamics as dyn
from benchmarks.dynamics.label_noise import label_noise_run, summarise
from hpo.errors import UserError


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


NOISE = 0.4


@pytest.fixture(scope="module")
def noisy_run():
    torch.set_num_threads(1)
    return label_noise_run(noise=NOISE, n_train=600, width=256, lr=2.0, steps=700, every=50, seed=0)


@pytest.mark.slow
def test_clean_test_error_is_u_shaped_with_the_noise_still_unfitted_at_its_minimum(noisy_run):
    summary = summarise(noisy_run)
    assert summary["min_test_error"] <= summary["final_test_error"] - 0.05
    assert 0 < summary["argmin_step"] < summary["final_step"]
    assert summary["clean_fit_at_min"] >= 0.95
    assert summary["noisy_fit_at_min"] <= 0.35
    assert summary["cosine_stop_step"] is not None
    assert summary["cosine_stop_test_error"] <= summary["min_test_error"] + 0.03


@pytest.mark.slow
def test_clean_gradient_dominates_from_the_zero_function_and_the_dominance_fades_by_the_minimum(noisy_run):
    """From the zero function the noisy gradient is well below its share of the samples (from
    random initial outputs both parts would push the same shrink-the-outputs direction)."""
    by_step = {r["step"]: r for r in noisy_run}
    assert by_step[0]["noisy_to_clean_norm"] < 0.8 * NOISE / (1 - NOISE)
    assert by_step[0]["cos_noisy_clean"] < 0.7
    assert by_step[10]["cos_total_clean"] >= 0.75
    summary = summarise(noisy_run)
    assert summary["dominance_fades_at_step"] <= 2 * summary["argmin_step"]
    assert by_step[300]["noisy_to_clean_norm"] >= 0.95
    assert noisy_run[-1]["noisy_fit"] > summary["noisy_fit_at_min"] + 0.1


@pytest.mark.slow
def test_without_noise_the_test_error_does_not_turn_up():
    rows = label_noise_run(noise=0.0, n_train=600, width=256, lr=2.0, steps=400, every=100, seed=0)
    summary = summarise(rows)
    assert summary["final_test_error"] <= summary["min_test_error"] + 0.01


def test_gradient_split_adds_up_to_the_full_gradient():
    inputs = dyn.sphere_inputs(12, 4, seed=0)
    targets = torch.sign(inputs[:, 0])
    model = dyn.two_layer_relu(4, 16)
    noisy = torch.arange(12) % 3 == 0
    split = dyn.split_gradient(model, inputs, targets, noisy_mask=noisy)
    model.zero_grad()
    (0.5 * ((model(inputs) - targets) ** 2)).mean().backward()
    full = torch.cat([p.grad.reshape(-1) for p in model.parameters()])
    assert torch.allclose(split.total, full)
    assert dyn.gradient_cosine(model, (inputs, targets), (inputs, targets)) == pytest.approx(1.0)


def test_gradient_cosine_stop_and_bad_masks():
    assert dyn.gradient_cosine_stop([0, 10, 20, 30], [0.9, 0.2, -0.1, 0.3]) == 20
    assert dyn.gradient_cosine_stop([0, 10], [0.9, 0.2]) is None
    inputs = dyn.sphere_inputs(4, 3)
    with pytest.raises(UserError, match="noisy_mask must have shape"):
        dyn.split_gradient(dyn.two_layer_relu(3, 8), inputs, inputs[:, 0], noisy_mask=np.array([True, False]))
