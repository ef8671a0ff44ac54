"""Infinite-width NTKs of fully connected networks in NTK parametrisation (no bias).

The network: ``h_0 = x``; ``h_l = sqrt(c_sigma) * phi(W_l h_{l-1} / sqrt(fan_in))`` for the
``depth`` hidden layers; ``f = v . h_L / sqrt(width)``; all weights N(0, 1). With ``c_sigma = 2``
(He) a ReLU network keeps ``Sigma(x, x) = |x|^2 / d`` through the layers; with ``c_sigma = 1`` and
``depth = 1`` this is the two-layer network ``f = m^-1/2 sum_i v_i relu(w_i . x / sqrt(d))``.

The recursion (Jacot et al. 2018; Arora et al. 2019), with ``theta_h`` the angle under ``Sigma^{h-1}``::

    Sigma^0 = <x, x'> / d
    ReLU:   Sigma^h = c/(2 pi) sqrt(Sigma^{h-1}(x,x) Sigma^{h-1}(x',x')) [sin t + (pi - t) cos t]
            dSigma^h = c/(2 pi) (pi - t)
    linear: Sigma^h = c Sigma^{h-1},  dSigma^h = c
    Theta^0 = Sigma^0;  Theta^h = Theta^{h-1} dSigma^h + Sigma^h;  NTK = Theta^depth
"""

from __future__ import annotations

import math

import torch

from hpo.dynamics._checks import check_inputs
from hpo.validation import check_choice, check_int, check_real

ACTIVATIONS = ("relu", "linear")


def analytic_ntk(
    inputs: torch.Tensor, *, depth: int = 1, activation: str = "relu", c_sigma: float | None = None
) -> torch.Tensor:
    """Infinite-width NTK Gram matrix (float64) on ``inputs`` (shape ``(n, d)``).

    ``c_sigma`` defaults to 2 for ReLU (He scaling) and 1 for linear networks.
    """
    inputs = check_inputs(inputs).reshape(inputs.shape[0], -1).to(torch.float64)
    check_int("depth", depth, 1)
    check_choice("activation", activation, ACTIVATIONS)
    if c_sigma is None:
        c = 2.0 if activation == "relu" else 1.0
    else:
        c = check_real("c_sigma", c_sigma, 0, exclusive_minimum=True)
    sigma = inputs @ inputs.T / inputs.shape[1]
    theta = sigma.clone()
    for _ in range(depth):
        if activation == "linear":
            derivative, sigma = torch.full_like(sigma, c), c * sigma
        else:
            norms = torch.sqrt(torch.clamp(torch.diagonal(sigma), min=0.0))
            scale = torch.outer(norms, norms)
            cosine = torch.clamp(sigma / torch.clamp(scale, min=1e-300), -1.0, 1.0)
            angle = torch.arccos(cosine)
            derivative = c * (math.pi - angle) / (2 * math.pi)
            sigma = c * scale / (2 * math.pi) * (torch.sin(angle) + (math.pi - angle) * cosine)
        theta = theta * derivative + sigma
    return theta


def two_layer_relu_ntk(inputs: torch.Tensor) -> torch.Tensor:
    """NTK of ``f = m^-1/2 sum_i v_i relu(w_i . x / sqrt(d))``; 1 on the diagonal for ``|x| = sqrt(d)``."""
    return analytic_ntk(inputs, depth=1, activation="relu", c_sigma=1.0)


def input_gram(inputs: torch.Tensor) -> torch.Tensor:
    """``<x, x'> / d``: the linear model's kernel, whose conditioning a linear network inherits."""
    inputs = check_inputs(inputs).reshape(inputs.shape[0], -1).to(torch.float64)
    return inputs @ inputs.T / inputs.shape[1]
