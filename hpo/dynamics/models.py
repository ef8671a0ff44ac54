"""Fully connected networks in NTK parametrisation, the reference models of the theory papers.

Every weight is N(0, 1) and each layer divides by ``sqrt(fan_in)``, so the tangent kernel has a
finite limit as the width grows. Options cover the variants the experiments need: ReLU, tanh or
linear activations with a gain (``sqrt(2)`` is He scaling), a non-linear output layer
(softplus), sparse connectivity with a fixed in-degree (DAG networks), and an output layer that
reads every hidden layer (skip connections). :class:`Antisymmetric` makes any of them output
zero at initialisation.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn

from hpo.errors import UserError
from hpo.validation import check_choice, check_int, check_real

ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh, "linear": lambda h: h}
OUTPUT_ACTIVATIONS = {None: lambda h: h, "softplus": nn.functional.softplus}


class NTKLinear(nn.Module):
    """``y = x W^T / sqrt(fan_in)`` with ``W ~ N(0, 1)``.

    With ``in_degree`` each output unit reads only ``in_degree`` inputs, drawn at random once
    (a fixed mask), and divides by ``sqrt(in_degree)``: the "width" of Zhu et al.'s DAG networks.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        in_degree: int | None = None,
        generator: torch.Generator | None = None,
        dtype=torch.float64,
    ):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features, generator=generator, dtype=dtype))
        if in_degree is None or in_degree >= in_features:
            self.register_buffer("mask", None)
            self.fan_in = in_features
        else:
            scores = torch.rand(out_features, in_features, generator=generator)
            chosen = scores.argsort(dim=1)[:, :in_degree]
            mask = torch.zeros(out_features, in_features, dtype=dtype).scatter_(1, chosen, 1.0)
            self.register_buffer("mask", mask)
            self.fan_in = in_degree

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.weight if self.mask is None else self.weight * self.mask
        return x @ weight.T / math.sqrt(self.fan_in)


class NTKMLP(nn.Module):
    """``depth`` hidden layers of ``width`` units, NTK parametrisation, no bias.

    ``h_l = gain * activation(layer_l(h_{l-1}))``; ``f = output_activation(output(h_depth))``, or
    ``output(concat(h_1..h_depth))`` with ``skip_output``. A scalar output (``out_features=1``)
    is returned with shape ``(n,)``. ``in_degree`` applies to every layer after the first, the
    output included unless ``dense_output`` (then the output reads every last hidden unit, so the
    number of units that reach it stays ``width`` whatever the in-degree).
    Weights are drawn from ``seed`` without touching torch's global generator.
    """

    def __init__(
        self,
        in_features: int,
        width: int,
        *,
        depth: int = 1,
        activation: str = "relu",
        gain: float = 1.0,
        out_features: int = 1,
        output_activation: str | None = None,
        in_degree: int | None = None,
        skip_output: bool = False,
        dense_output: bool = False,
        seed: int = 0,
        dtype=torch.float64,
    ):
        super().__init__()
        for name, value in (
            ("in_features", in_features),
            ("width", width),
            ("depth", depth),
            ("out_features", out_features),
        ):
            check_int(name, value, 1)
        check_real("gain", gain, 0, exclusive_minimum=True)
        check_choice("activation", activation, tuple(ACTIVATIONS))
        check_choice("output_activation", output_activation, tuple(OUTPUT_ACTIVATIONS))
        if in_degree is not None:
            check_int("in_degree", in_degree, 1)
        if skip_output and in_degree is not None:
            raise UserError("skip_output and in_degree cannot be combined; pick one kind of DAG")
        generator = torch.Generator().manual_seed(seed)
        self.activation_name, self.gain, self.output_activation_name = activation, gain, output_activation
        self.hidden = nn.ModuleList(
            NTKLinear(
                in_features if i == 0 else width,
                width,
                in_degree=None if i == 0 else in_degree,
                generator=generator,
                dtype=dtype,
            )
            for i in range(depth)
        )
        self.skip_output = skip_output
        self.output = NTKLinear(
            width * depth if skip_output else width,
            out_features,
            in_degree=None if dense_output else in_degree,
            generator=generator,
            dtype=dtype,
        )

    @property
    def width(self) -> int:
        return self.hidden[0].weight.shape[0]

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The hidden layers' outputs ``[h_1, ..., h_depth]``."""
        activation = ACTIVATIONS[self.activation_name]
        layers, h = [], x.reshape(x.shape[0], -1)
        for layer in self.hidden:
            h = self.gain * activation(layer(h))
            layers.append(h)
        return layers

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        layers = self.features(x)
        out = self.output(torch.cat(layers, dim=1) if self.skip_output else layers[-1])
        out = OUTPUT_ACTIVATIONS[self.output_activation_name](out)
        return out.squeeze(-1) if out.shape[-1] == 1 else out


def two_layer_relu(in_features: int, width: int, *, seed: int = 0, dtype=torch.float64) -> NTKMLP:
    """``f(x) = m^-1/2 sum_i v_i relu(w_i . x / sqrt(d))``: the network of the catapult papers."""
    return NTKMLP(in_features, width, depth=1, activation="relu", seed=seed, dtype=dtype)


def sphere_inputs(n: int, d: int, *, seed: int = 0, dtype=torch.float64) -> torch.Tensor:
    """``n`` Gaussian points rescaled to norm ``sqrt(d)``, so that ``x / sqrt(d)`` is on the unit sphere."""
    check_int("n", n, 1)
    check_int("d", d, 1)
    points = torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=dtype)
    return points / points.norm(dim=1, keepdim=True) * math.sqrt(d)


class Antisymmetric(nn.Module):
    """``f(x) = (g_a(x) - g_b(x)) / sqrt(2)`` with ``b`` a copy of ``a`` at initialisation.

    The output is exactly zero at initialisation while the tangent kernel is the original
    network's (the two copies' kernels average), so the first steps are driven by the labels
    alone, not by shrinking random initial outputs (the "antisymmetric initialisation" of
    Zhang, Xu, Luo & Ma 2020, arXiv 1905.07777).
    """

    def __init__(self, model: nn.Module):
        super().__init__()
        self.a, self.b = model, copy.deepcopy(model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.a(x) - self.b(x)) / math.sqrt(2)
