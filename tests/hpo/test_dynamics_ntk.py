"""Empirical NTK, its spectrum and the analytic infinite-width kernels."""

import itertools
import math

import numpy as np
import pytest
import torch

import hpo.dynamics as dyn
from hpo.errors import UserError


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def test_two_layer_empirical_ntk_matches_analytic_at_width_4096():
    """Relative Frobenius error < 0.06 at m=4096, and error * sqrt(m) in [1, 4]."""
    inputs = dyn.sphere_inputs(64, 10, seed=0)
    width = 4096
    empirical = dyn.empirical_ntk(dyn.two_layer_relu(10, width, seed=1), inputs)
    error = dyn.relative_frobenius_error(empirical, dyn.two_layer_relu_ntk(inputs))
    assert error < 0.06
    assert 1.0 <= error * math.sqrt(width) <= 4.0


def test_empirical_ntk_error_shrinks_like_inverse_sqrt_width():
    inputs = dyn.sphere_inputs(32, 10, seed=3)
    analytic = dyn.two_layer_relu_ntk(inputs)
    errors = [
        np.mean(
            [
                dyn.relative_frobenius_error(dyn.empirical_ntk(dyn.two_layer_relu(10, m, seed=s), inputs), analytic)
                for s in range(3)
            ]
        )
        for m in (64, 1024)
    ]
    # 16x the width: the O(m^-1/2) fluctuation should drop about 4x
    assert 2.5 < errors[0] / errors[1] < 6.5


def test_analytic_two_layer_ntk_on_sphere_has_unit_diagonal_and_orthogonal_value():
    inputs = torch.tensor([[math.sqrt(2.0), 0.0], [0.0, math.sqrt(2.0)]], dtype=torch.float64)
    kernel = dyn.two_layer_relu_ntk(inputs)
    assert torch.allclose(torch.diagonal(kernel), torch.ones(2, dtype=torch.float64))
    assert kernel[0, 1].item() == pytest.approx(1 / (2 * math.pi))


@pytest.mark.parametrize("activation, gain", [("relu", math.sqrt(2.0)), ("linear", 1.0)])
def test_deep_empirical_ntk_matches_recursion(activation, gain):
    inputs = dyn.sphere_inputs(16, 8, seed=0)
    model = dyn.NTKMLP(8, 1024, depth=3, activation=activation, gain=gain, seed=0)
    error = dyn.relative_frobenius_error(
        dyn.empirical_ntk(model, inputs), dyn.analytic_ntk(inputs, depth=3, activation=activation)
    )
    assert error < 0.15


def test_power_iteration_agrees_with_exact_top_eigenvalue():
    inputs = dyn.sphere_inputs(48, 10, seed=2)
    model = dyn.two_layer_relu(10, 512, seed=0)
    exact = dyn.ntk_top_eigenvalue(model, inputs, method="exact")
    power = dyn.ntk_top_eigenvalue(model, inputs, method="power", tolerance=1e-10, iterations=500)
    assert power == pytest.approx(exact, rel=1e-6)


def test_ntk_of_vector_output_flattens_and_selects():
    model = dyn.NTKMLP(5, 64, out_features=3, seed=0)
    inputs = dyn.sphere_inputs(4, 5)
    full = dyn.empirical_ntk(model, inputs)
    column = dyn.empirical_ntk(model, inputs, output_index=1)
    assert full.shape == (12, 12) and column.shape == (4, 4)
    assert torch.allclose(full[1::3, 1::3], column)
    assert isinstance(dyn.empirical_ntk(model, inputs, output_index=1, as_numpy=True), np.ndarray)


def test_relu_conditions_better_than_linear_and_deeper_is_better():
    """Analytic kappa_ReLU(L=1) < kappa_linear / 2, decreasing with depth; linear = input Gram."""
    generator = torch.Generator().manual_seed(0)
    centre = torch.randn(64, generator=generator, dtype=torch.float64)
    cluster = centre + 0.5 * torch.randn(32, 64, generator=generator, dtype=torch.float64)
    inputs = cluster / cluster.norm(dim=1, keepdim=True) * 8.0
    gram_kappa = dyn.condition_number(dyn.input_gram(inputs))
    depths = (1, 2, 4, 8)
    relu_kappa = [dyn.condition_number(dyn.analytic_ntk(inputs, depth=L)) for L in depths]
    relu_angle = [dyn.min_gradient_angle(dyn.analytic_ntk(inputs, depth=L)) for L in depths]
    for L in depths:
        linear_kappa = dyn.condition_number(dyn.analytic_ntk(inputs, depth=L, activation="linear"))
        assert linear_kappa == pytest.approx(gram_kappa, rel=1e-6)
    assert relu_kappa[0] < gram_kappa / 2
    assert all(a > b for a, b in itertools.pairwise(relu_kappa))
    assert relu_angle[0] > dyn.min_gradient_angle(dyn.input_gram(inputs)) + 5
    assert all(a < b for a, b in itertools.pairwise(relu_angle))


def test_relative_ntk_change_is_zero_for_identical_models_and_positive_after_a_step():
    inputs = dyn.sphere_inputs(8, 4)
    before, after = dyn.two_layer_relu(4, 32, seed=0), dyn.two_layer_relu(4, 32, seed=0)
    assert dyn.relative_ntk_change(before, after, inputs) == 0.0
    dyn.train(after, inputs, torch.sign(inputs[:, 0]), lr=1.0, steps=5)
    assert dyn.relative_ntk_change(before, after, inputs) > 0.0


@pytest.mark.parametrize(
    "call, fragment",
    [
        (lambda m, x: dyn.empirical_ntk("not a model", x), "model must be a torch.nn.Module"),
        (lambda m, x: dyn.empirical_ntk(m, x.numpy()), "inputs must be a torch.Tensor"),
        (lambda m, x: dyn.empirical_ntk(m, x, output_index=5), "output_index must be an integer"),
        (lambda m, x: dyn.ntk_top_eigenvalue(m, x, method="lanczos"), "method is 'lanczos'; allowed"),
        (lambda m, x: dyn.critical_learning_rate(m, x, loss="cross_entropy"), "loss is 'cross_entropy'; allowed"),
    ],
)
def test_bad_input_names_the_parameter(call, fragment):
    model, inputs = dyn.two_layer_relu(4, 8), dyn.sphere_inputs(3, 4)
    with pytest.raises(UserError, match=fragment):
        call(model, inputs)


def test_finite_width_relu_networks_are_better_conditioned_and_train_faster():
    """Experiment (e) at width 256: kappa_ReLU(L=4) < kappa_ReLU(L=1) < kappa_linear, GD in the same order."""
    from benchmarks.dynamics.relu_conditioning import clustered_inputs, empirical_conditioning, gd_iterations

    inputs = clustered_inputs(n=16, d=32, seed=0)
    kappa = {
        (r["activation"], r["depth"]): r["condition_number"]
        for r in empirical_conditioning(inputs, depths=(1, 4), width=256, seeds=(0,))
    }
    assert kappa[("relu", 4)] < kappa[("relu", 1)] < kappa[("linear", 1)]
    rows, _ = gd_iterations(inputs, (("linear", 1), ("relu", 1), ("relu", 4)), width=256, max_steps=5000)
    iterations = [r["iterations"] for r in rows]
    assert all(i > 0 for i in iterations)
    assert iterations[0] > iterations[1] > iterations[2]
