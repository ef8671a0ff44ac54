"""``hpo.dynamics.label_noise``: the gradient split into clean and noisy parts."""

import numpy as np
import pytest
import torch

import hpo.dynamics as dyn
from hpo.errors import UserError


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
