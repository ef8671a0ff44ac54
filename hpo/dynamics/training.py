"""Plain gradient descent / SGD on a squared loss, recording the full-batch loss every step.

One loop serves every experiment: the network, its quadratic model and its linearisation are
all ``nn.Module``s trained by the same code, so their curves differ only by the model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from hpo.dynamics._checks import check_inputs
from hpo.dynamics.critical import LOSS_CONVENTIONS
from hpo.errors import UserError
from hpo.validation import check_choice, check_int, check_real


def squared_loss(outputs: torch.Tensor, targets: torch.Tensor, loss: str = "half_mse") -> torch.Tensor:
    """The squared loss under one of the conventions of :data:`LOSS_CONVENTIONS`."""
    check_choice("loss", loss, tuple(LOSS_CONVENTIONS))
    residual = (outputs - targets).reshape(-1)
    total = (residual**2).sum()
    if LOSS_CONVENTIONS[loss][1]:
        total = total / residual.numel()
    return total / 2 if loss.startswith("half_") else total


@dataclass
class TrainingRecord:
    """Full-batch loss before each step (``losses[t]``) and after the last one; ``diverged`` if stopped."""

    losses: np.ndarray
    diverged: bool


def train(
    model: torch.nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    *,
    lr: float,
    steps: int,
    batch_size: int | None = None,
    loss: str = "half_mse",
    seed: int = 0,
    stop_factor: float = 1e8,
    stop_below: float | None = None,
    callback: Callable[[int, torch.nn.Module, float], None] | None = None,
) -> TrainingRecord:
    """Train ``model`` in place with SGD (full batch when ``batch_size`` is None).

    Mini-batches are reshuffled every epoch from ``seed``. Training stops early, with
    ``diverged=True``, once the loss is non-finite or above ``stop_factor`` times its initial
    value, and as converged once the loss is at most ``stop_below`` (when given).
    ``callback(step, model, full_batch_loss)`` runs before every step.
    """
    inputs = check_inputs(inputs)
    if targets.shape[0] != inputs.shape[0]:
        raise UserError(f"targets must have {inputs.shape[0]} rows like inputs, got {targets.shape[0]}")
    check_real("lr", lr, 0, exclusive_minimum=True)
    check_int("steps", steps, 0)
    n = inputs.shape[0]
    if batch_size is not None:
        check_int("batch_size", batch_size, 1)
        if batch_size > n:
            raise UserError(f"batch_size must be at most the number of samples {n}, got {batch_size}")
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=lr)
    generator = torch.Generator().manual_seed(seed)
    order, cursor = torch.arange(n), n
    losses = []

    def full_loss() -> float:
        with torch.no_grad():
            return float(squared_loss(model(inputs), targets, loss))

    for step in range(steps + 1):
        # full batch: the loss that is recorded is the one differentiated, so one forward pass serves both
        objective = squared_loss(model(inputs), targets, loss) if batch_size is None and step < steps else None
        value = float(objective.detach()) if objective is not None else full_loss()
        losses.append(value)
        if not np.isfinite(value) or value > stop_factor * losses[0]:
            return TrainingRecord(np.asarray(losses), True)
        if step == steps or (stop_below is not None and value <= stop_below):
            break
        if callback is not None:
            callback(step, model, value)
        if objective is None:
            if cursor + batch_size > n:
                order, cursor = torch.randperm(n, generator=generator), 0
            batch = order[cursor : cursor + batch_size]
            cursor += batch_size
            objective = squared_loss(model(inputs[batch]), targets[batch], loss)
        optimizer.zero_grad()
        objective.backward()
        optimizer.step()
    return TrainingRecord(np.asarray(losses), False)
