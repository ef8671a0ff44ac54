"""Clean-priority learning under label noise: the gradient split and a gradient-cosine stop.

With a fraction of labels corrupted, the full-batch gradient is ``g = g_clean + g_noisy``, each
part summing its subset's per-sample gradients divided by the full ``n``. Liu, Abedsoltan &
Belkin (2023) show that early in training ``g`` points along ``g_clean`` (the network fits the
clean labels first) and that this dominance fades until the noise is fitted; the clean-test
error is U-shaped. The cosine between the training gradient and the gradient on a small clean
validation set turns non-positive near the bottom of the U: a usable early-stopping signal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from hpo.dynamics._checks import check_inputs, check_module
from hpo.errors import UserError


def half_squared_error(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Per-sample ``||f(x) - y||^2 / 2`` (shape ``(n,)``), the default per-sample loss."""
    return 0.5 * ((outputs - targets) ** 2).reshape(outputs.shape[0], -1).sum(dim=1)


PerSampleLoss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _flat_gradient(model, per_sample_loss, inputs, targets, weights) -> torch.Tensor:
    params = [p for p in model.parameters() if p.requires_grad]
    losses = per_sample_loss(model(inputs), targets)
    if losses.shape != (inputs.shape[0],):
        raise UserError(
            f"per_sample_loss must return one loss per sample, shape ({inputs.shape[0]},); got {tuple(losses.shape)}"
        )
    grads = torch.autograd.grad((losses * weights).sum(), params, allow_unused=True)
    return torch.cat([(g if g is not None else torch.zeros_like(p)).reshape(-1) for g, p in zip(grads, params)])


def _cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    denominator = a.norm() * b.norm()
    return float(a @ b / denominator) if denominator > 0 else 0.0


@dataclass(frozen=True)
class GradientSplit:
    """``g = clean + noisy`` (flat parameter vectors) and the statistics the paper tracks."""

    clean: torch.Tensor
    noisy: torch.Tensor

    @property
    def total(self) -> torch.Tensor:
        return self.clean + self.noisy

    @property
    def cos_total_clean(self) -> float:
        return _cosine(self.total, self.clean)

    @property
    def cos_noisy_clean(self) -> float:
        return _cosine(self.noisy, self.clean)

    @property
    def noisy_to_clean_norm(self) -> float:
        return float(self.noisy.norm() / self.clean.norm())


def split_gradient(
    model: torch.nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    noisy_mask: torch.Tensor,
    per_sample_loss: PerSampleLoss = half_squared_error,
) -> GradientSplit:
    """Split the gradient of the mean loss into the clean and the noisy samples' parts."""
    check_module(model)
    inputs = check_inputs(inputs)
    noisy_mask = torch.as_tensor(noisy_mask, dtype=torch.bool)
    if noisy_mask.shape != (inputs.shape[0],):
        raise UserError(f"noisy_mask must have shape ({inputs.shape[0]},), got {tuple(noisy_mask.shape)}")
    if noisy_mask.all() or not noisy_mask.any():
        raise UserError("noisy_mask must mark some samples noisy and some clean")
    n = inputs.shape[0]
    noisy_weights = noisy_mask.to(inputs.dtype) / n
    clean_weights = (~noisy_mask).to(inputs.dtype) / n
    return GradientSplit(
        clean=_flat_gradient(model, per_sample_loss, inputs, targets=targets, weights=clean_weights),
        noisy=_flat_gradient(model, per_sample_loss, inputs, targets=targets, weights=noisy_weights),
    )


def gradient_cosine(
    model: torch.nn.Module,
    first: tuple[torch.Tensor, torch.Tensor],
    second: tuple[torch.Tensor, torch.Tensor],
    per_sample_loss: PerSampleLoss = half_squared_error,
) -> float:
    """Cosine between the mean-loss gradients on two ``(inputs, targets)`` batches."""
    check_module(model)
    gradients = []
    for name, (inputs, targets) in (("first", first), ("second", second)):
        inputs = check_inputs(inputs, f"{name}[0]")
        weights = torch.full((inputs.shape[0],), 1.0 / inputs.shape[0], dtype=inputs.dtype)
        gradients.append(_flat_gradient(model, per_sample_loss, inputs, targets=targets, weights=weights))
    return _cosine(*gradients)


def gradient_cosine_stop(steps, cosines, *, threshold: float = 0.0) -> int | None:
    """The first step at which ``cos(g_train, g_val) <= threshold``, or None if it never does."""
    steps, cosines = np.asarray(steps), np.asarray(cosines, dtype=float)
    if steps.shape != cosines.shape:
        raise UserError(f"steps and cosines must have the same length, got {steps.shape} and {cosines.shape}")
    hits = np.flatnonzero(cosines <= threshold)
    return int(steps[hits[0]]) if hits.size else None
