"""A learning-rate search range for a user's model: the low end from the tangent kernel, the top
end from short probe runs with the user's own optimizer.

The sharpness ``s`` (top NTK eigenvalue, normalised for the loss convention, see
:mod:`hpo.dynamics.critical`) gives the scale: ``2/s`` is where linearised full-batch GD stops
being stable, and ``low_factor/s`` (default 0.3/s) the bottom of the range. The theory's catapult
window (up to about ``4/s``) holds for NTK-parametrised networks under full-batch GD; it does
not carry over to a standard-parametrised network trained with mini-batch SGD (the digits MLP
trains up to about ``6/s`` and fails at ``7-8/s``), nor to other optimizers. So the top end is
measured: from the lr ``start`` (default ``2/s``) the rate is raised by ``ratio`` per probe, each
probe training a copy of the model for ``steps`` optimizer steps on the probe data, until a probe
no longer trains. A rate *trains* when its final probe loss is finite and at most ``tolerance``
times the lowest final loss of all probes. ``high`` is the largest rate of the unbroken run of
training rates that starts at ``start``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from hpo.dynamics._checks import check_inputs, check_module
from hpo.dynamics.critical import LOSS_CONVENTIONS, ntk_sharpness
from hpo.dynamics.training import squared_loss
from hpo.errors import UserError
from hpo.validation import check_choice, check_int, check_real, check_seed


@dataclass(frozen=True)
class LrProbe:
    """One probe run: its learning rate, its probe loss before and after, and whether it trained."""

    lr: float
    initial_loss: float
    final_loss: float
    trained: bool


@dataclass(frozen=True)
class LearningRateRange:
    """A log-scale search range ``[low, high]`` with the measurements behind it.

    Unpacks as ``low, high = lr_range(...)``.
    """

    low: float
    high: float
    critical: float
    sharpness: float
    loss: str
    probes: tuple[LrProbe, ...] = ()

    def __iter__(self):
        return iter((self.low, self.high))

    def as_distribution(self):
        """The range as an Optuna ``FloatDistribution(low, high, log=True)``."""
        from optuna.distributions import FloatDistribution

        return FloatDistribution(self.low, self.high, log=True)


def probe_loss(
    model: torch.nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    lr: float,
    *,
    loss_fn: Callable,
    optimizer: Callable,
    batch_size: int,
    steps: int,
    seed: int,
) -> tuple[float, float]:
    """(loss before, loss after) ``steps`` steps of ``optimizer(params, lr=lr)`` on a copy of ``model``.

    Both losses are over the whole probe set; mini-batches are reshuffled each epoch from ``seed``.
    """
    probe = copy.deepcopy(model)
    step_rule = optimizer([p for p in probe.parameters() if p.requires_grad], lr=lr)
    generator = torch.Generator().manual_seed(seed)
    n = inputs.shape[0]

    def full_loss() -> float:
        with torch.no_grad():
            return float(loss_fn(probe(inputs), targets))

    initial, done = full_loss(), 0
    while done < steps:
        for batch in torch.randperm(n, generator=generator).split(batch_size)[: steps - done]:
            step_rule.zero_grad()
            value = loss_fn(probe(inputs[batch]), targets[batch])
            if not torch.isfinite(value):
                return initial, math.inf
            value.backward()
            step_rule.step()
            done += 1
    final = full_loss()
    return initial, final if math.isfinite(final) else math.inf


def lr_range(
    model: torch.nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    loss: str = "mse",
    *,
    loss_fn: Callable | None = None,
    optimizer: Callable = torch.optim.SGD,
    batch_size: int | None = None,
    steps: int = 32,
    start: float | None = None,
    ratio: float = 2**0.5,
    tolerance: float = 2.0,
    low_factor: float = 0.3,
    max_probes: int = 20,
    output_index: int | None = None,
    seed: int = 0,
) -> LearningRateRange:
    """``(low, high)`` for ``model`` trained on ``loss`` with ``optimizer``, measured on ``inputs, targets``.

    ``loss`` is the squared-loss convention of the sharpness (``"mse"`` is torch's ``MSELoss``);
    ``loss_fn(outputs, targets)`` is the loss the probes train on (default: that squared loss).
    ``batch_size`` is the user's training batch size (default: the whole probe set, i.e. GD);
    ``optimizer`` is called as ``optimizer(parameters, lr=lr)``, e.g.
    ``functools.partial(torch.optim.SGD, momentum=0.9)``. ``start`` is the first probed rate
    (default ``2/s``); if it does not train, the probes go down by ``ratio**2`` instead, and ``high``
    is the first rate that trains.
    """
    check_module(model)
    inputs = check_inputs(inputs)
    if not isinstance(targets, torch.Tensor) or targets.shape[0] != inputs.shape[0]:
        raise UserError(
            f"targets must be a torch.Tensor with {inputs.shape[0]} rows like inputs, got "
            f"{type(targets).__name__} of shape {tuple(getattr(targets, 'shape', ()))}"
        )
    check_choice("loss", loss, tuple(LOSS_CONVENTIONS))
    check_real("low_factor", low_factor, 0, exclusive_minimum=True)
    check_real("tolerance", tolerance, 0, exclusive_minimum=True)
    check_real("ratio", ratio, 0, exclusive_minimum=True)
    if ratio <= 1 or tolerance < 1:
        raise UserError(f"ratio must be > 1 and tolerance >= 1, got ratio={ratio!r}, tolerance={tolerance!r}")
    check_int("steps", steps, 1)
    check_int("max_probes", max_probes, 2)
    check_seed(seed)
    batch_size = (
        inputs.shape[0] if batch_size is None else check_int("batch_size", batch_size, 1, maximum=inputs.shape[0])
    )
    if start is not None:
        check_real("start", start, 0, exclusive_minimum=True)
    if loss_fn is None:

        def loss_fn(outputs, labels):
            return squared_loss(outputs, labels, loss)

    sharpness = ntk_sharpness(model, inputs, loss, output_index=output_index)
    critical = 2.0 / sharpness

    def run(lr: float) -> tuple[float, float]:
        return probe_loss(
            model,
            inputs,
            targets,
            lr=lr,
            loss_fn=loss_fn,
            optimizer=optimizer,
            batch_size=batch_size,
            steps=steps,
            seed=seed,
        )

    # Raise the rate until a probe ends above its initial loss (or diverges): past that, nothing trains.
    measured: dict[float, tuple[float, float]] = {}
    lr = critical if start is None else float(start)
    direction = ratio
    while len(measured) < max_probes:
        initial, final = run(lr)
        measured[lr] = (initial, final)
        failed = not final < initial
        if failed and direction > 1 and len(measured) == 1:
            direction = ratio**-2  # the start itself fails: search downwards, in coarser steps
        elif failed != (direction < 1):
            break
        lr *= direction
    best = min(final for _, final in measured.values())
    if not math.isfinite(best):
        raise UserError(
            f"no probed learning rate trained the model ({len(measured)} probes from {min(measured):.3g} to "
            f"{max(measured):.3g}); pass start= or a larger max_probes"
        )
    probes = tuple(
        LrProbe(lr, initial, final, math.isfinite(final) and final <= tolerance * best)
        for lr, (initial, final) in sorted(measured.items())
    )
    high = _top_of_the_run(probes, critical if start is None else float(start))
    low = min(low_factor / sharpness, high / ratio)
    return LearningRateRange(low, high, critical, sharpness, loss, probes)


def _top_of_the_run(probes: tuple[LrProbe, ...], start: float) -> float:
    """The largest rate of the unbroken run of training probes that contains (or, going down, ends
    nearest below) ``start``."""
    trained = [p for p in probes if p.trained]
    at_or_below = [p for p in trained if p.lr <= start * (1 + 1e-12)]
    anchor = at_or_below[-1] if at_or_below else trained[0]
    high = anchor.lr
    for probe in probes:
        if probe.lr <= anchor.lr:
            continue
        if not probe.trained:
            break
        high = probe.lr
    return high
