"""``hpo.dynamics.agop``: the AGOP of a linear predictor and its alignment."""

import pytest
import torch

import hpo.dynamics as dyn


def test_agop_of_a_linear_predictor_and_alignment():
    direction = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    inputs = dyn.sphere_inputs(20, 3)
    matrix = dyn.agop(lambda x: x @ direction, inputs)
    assert torch.allclose(matrix, torch.outer(direction, direction))
    assert dyn.agop_alignment(matrix, 3 * matrix) == pytest.approx(1.0)
    assert dyn.agop_alignment(torch.diag(torch.tensor([1.0, 0, 0])), torch.diag(torch.tensor([0, 1.0, 0]))) == 0.0
