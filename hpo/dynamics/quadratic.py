"""Taylor models of a network in its weights: the linearisation and the quadratic model (NQM).

``f_lin(w)  = f(w0) + J0 (w - w0)``
``f_quad(w) = f_lin(w) + 1/2 (w - w0)^T H0 (w - w0)``

Both are ``nn.Module``s whose parameters start at the network's weights ``w0``, so the same
training loop and the same learning rate apply to all three (Zhu et al., "Quadratic models for
understanding catapult dynamics of neural networks"). The linearisation cannot catapult; the
quadratic model can.

For the two-layer ReLU network ``f = m^-1/2 sum_i v_i relu(w_i . u)`` the second-order expansion
is exact and cheap: ReLU is piecewise linear, so the only second derivatives are the ``v_i``-``w_i``
cross terms, and ``f_quad`` is the network with its activation pattern frozen at ``w0``. The
generic form uses nested ``torch.func.jvp`` and works for any small model, at a much higher cost.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.func import functional_call, jvp

from hpo.dynamics._checks import check_module
from hpo.dynamics._functional import trainable_parameters
from hpo.dynamics.models import NTKMLP
from hpo.validation import check_choice


class TaylorModel(nn.Module):
    """First- or second-order Taylor expansion of any ``model`` around its current weights."""

    def __init__(self, model: nn.Module, order: int = 2):
        super().__init__()
        check_module(model)
        check_choice("order", order, (1, 2))
        self.order = order
        self._model = [model]  # a list hides it from nn.Module, so its weights are not our parameters
        reference = trainable_parameters(model)
        self._names = list(reference)
        self.weights = nn.ParameterList(nn.Parameter(t.clone()) for t in reference.values())
        for i, t in enumerate(reference.values()):
            self.register_buffer(f"reference_{i}", t.clone())

    def _reference(self) -> dict[str, torch.Tensor]:
        return {name: getattr(self, f"reference_{i}") for i, name in enumerate(self._names)}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        model, reference = self._model[0], self._reference()
        delta = {name: w - reference[name] for name, w in zip(self._names, self.weights)}

        def at(params):
            return functional_call(model, params, (x,))

        def directional(params):
            return jvp(at, (params,), (delta,))[1]

        if self.order == 1:
            value, first = jvp(at, (reference,), (delta,))
            return value + first
        (first, second), value = jvp(directional, (reference,), (delta,)), at(reference)
        return value + first + 0.5 * second


class TwoLayerReLUTaylor(nn.Module):
    """Closed-form Taylor models of a two-layer ReLU :class:`NTKMLP` (no output activation).

    order 1: ``m^-1/2 [v . relu(W0 u) + v0 . (1[W0 u > 0] * (W - W0) u)]`` (scaled by the gain);
    order 2: ``m^-1/2 v . (1[W0 u > 0] * W u)``, the network with its ReLU pattern frozen at init.
    """

    def __init__(self, model: NTKMLP, order: int = 2):
        super().__init__()
        if not supports_closed_form(model):
            raise ValueError("model must be a one-hidden-layer ReLU NTKMLP without output activation or masks")
        check_choice("order", order, (1, 2))
        self.order, self.gain = order, model.gain
        first, last = model.hidden[0], model.output
        self.hidden_weight = nn.Parameter(first.weight.detach().clone())
        self.output_weight = nn.Parameter(last.weight.detach().clone())
        self.register_buffer("hidden_weight0", first.weight.detach().clone())
        self.register_buffer("output_weight0", last.weight.detach().clone())
        self.input_scale, self.output_scale = 1 / math.sqrt(first.fan_in), 1 / math.sqrt(last.fan_in)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(x.shape[0], -1)
        pre0 = x @ self.hidden_weight0.T * self.input_scale
        pattern = (pre0 > 0).to(x.dtype)
        pre = x @ self.hidden_weight.T * self.input_scale
        if self.order == 2:
            hidden = pattern * pre
            out = hidden @ self.output_weight.T
        else:
            out = torch.relu(pre0) @ self.output_weight.T + (pattern * (pre - pre0)) @ self.output_weight0.T
        out = self.gain * self.output_scale * out
        return out.squeeze(-1) if out.shape[-1] == 1 else out


def supports_closed_form(model: nn.Module) -> bool:
    return (
        isinstance(model, NTKMLP)
        and len(model.hidden) == 1
        and model.activation_name == "relu"
        and model.output_activation_name is None
        and not model.skip_output
        and model.hidden[0].mask is None
        and model.output.mask is None
    )


def quadratic_model(model: nn.Module) -> nn.Module:
    """The quadratic model (NQM) of ``model``: closed form for two-layer ReLU, generic otherwise."""
    return TwoLayerReLUTaylor(model, 2) if supports_closed_form(model) else TaylorModel(model, 2)


def linearized_model(model: nn.Module) -> nn.Module:
    """The linearisation of ``model`` in its weights: closed form for two-layer ReLU, generic otherwise."""
    return TwoLayerReLUTaylor(model, 1) if supports_closed_form(model) else TaylorModel(model, 1)
