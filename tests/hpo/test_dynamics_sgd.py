"""Catapults in (S)GD (experiment a) and large-step SGD in the interpolation regime (experiment d)."""

import pytest
import torch

from benchmarks.dynamics.catapults import catapult_in_top_eigenspace, sgd_batch_sweep
from benchmarks.dynamics.interpolation_sgd import aiming_ratio, convergence_runs
from hpo.dynamics import NTKMLP, sphere_inputs


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def test_the_catapult_lives_in_the_top_eigenvector_of_the_current_kernel():
    rows = catapult_in_top_eigenspace(width=1024, steps=15, seed=0)
    peak = max(rows, key=lambda r: r["loss"])
    assert peak["loss"] > 5 * rows[0]["loss"]
    assert peak["share_top1"] > 0.9
    assert rows[-1]["lam_t"] < rows[0]["lam_t"]  # the catapult shrinks the kernel


def test_smaller_batches_catapult_more_and_align_the_agop_better():
    rows = sgd_batch_sweep((64, 4), n=128, d=20, width=256, epochs=20, final_gd_steps=800, seeds=(0,), n_test=300)
    large, small = rows
    assert small["spikes"] > large["spikes"] + 10
    assert small["agop_alignment"] > large["agop_alignment"] + 0.005
    assert small["agop_alignment"] > small["agop_alignment_init"] + 0.3


def test_aiming_ratio_is_two_for_a_linear_model():
    inputs = sphere_inputs(8, 20, seed=0)
    model = NTKMLP(20, 16, depth=1, activation="linear", seed=0)
    model.hidden[0].weight.requires_grad_(False)  # only the output layer trains: linear least squares
    assert aiming_ratio(model, inputs, torch.sign(inputs[:, 0])) == pytest.approx(2.0, rel=1e-6)


def test_large_step_sgd_needs_far_fewer_sample_gradients_than_gd():
    names = ("GD, eta=1/lam", "SGD b=1, eta=1/beta", "SGD b=1, eta=0.1/beta")
    rows = {
        r["run"]: r
        for r in convergence_runs(
            256, n=32, target=1e-4, max_iterations=2500, checkpoints=(0, 30, 300, 1000), only=names
        )[0]
    }
    gd, sgd, small = (rows[name] for name in names)
    assert gd["converged"] and sgd["converged"]
    assert sgd["sample_gradients"] <= 0.2 * gd["sample_gradients"]
    assert small["iterations"] >= 2 * sgd["iterations"]
    assert min(gd["min_aiming_ratio"], sgd["min_aiming_ratio"]) >= 1.5
