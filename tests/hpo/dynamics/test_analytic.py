"""``hpo.dynamics.analytic``: the analytic NTKs against the empirical ones, and ReLU's
conditioning."""

import itertools
import math

import pytest
import torch

import hpo.dynamics as dyn


def test_two_layer_empirical_ntk_matches_analytic_at_width_4096():
    """Relative Frobenius error < 0.06 at m=4096, and error * sqrt(m) in [1, 4]."""
    inputs = dyn.sphere_inputs(64, 10, seed=0)
    width = 4096
    empirical = dyn.empirical_ntk(dyn.two_layer_relu(10, width, seed=1), inputs)
    error = dyn.relative_frobenius_error(empirical, dyn.two_layer_relu_ntk(inputs))
    assert error < 0.06
    assert 1.0 <= error * math.sqrt(width) <= 4.0


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
