"""An NTK-informed learning-rate search range for a user's model.

Measure the loss sharpness ``s`` (top NTK eigenvalue, normalised for the loss convention, see
:mod:`hpo.dynamics.critical`) on a probe batch at initialisation. ``2/s`` is the edge of the
lazy, monotone regime; the catapult regime reaches to about ``4/s`` for shallow networks and
further for deep ones. The default range ``[0.3/s, 8/s]`` covers the lazy regime's useful top
and the catapult window, instead of the several decades a default search spans. Always measure
``s``: with standard parametrisation it grows with width, so no formula replaces it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from hpo.dynamics._checks import check_positive
from hpo.dynamics.critical import ntk_sharpness
from hpo.errors import UserError


@dataclass(frozen=True)
class LearningRateRange:
    """A log-scale search range ``[low, high]`` with the measurements behind it."""

    low: float
    high: float
    critical: float
    sharpness: float
    loss: str

    def as_distribution(self):
        """The range as an Optuna ``FloatDistribution(low, high, log=True)``."""
        from optuna.distributions import FloatDistribution

        return FloatDistribution(self.low, self.high, log=True)


def suggest_lr_range(
    model: torch.nn.Module,
    inputs: torch.Tensor,
    loss: str = "mse",
    *,
    low_factor: float = 0.3,
    high_factor: float = 8.0,
    output_index: int | None = None,
    method: str = "auto",
) -> LearningRateRange:
    """``[low_factor / s, high_factor / s]`` for ``model`` on the probe batch ``inputs``."""
    check_positive(low_factor, "low_factor")
    check_positive(high_factor, "high_factor")
    if low_factor >= high_factor:
        raise UserError(f"low_factor ({low_factor}) must be below high_factor ({high_factor})")
    sharpness = ntk_sharpness(model, inputs, loss, output_index=output_index, method=method)
    return LearningRateRange(low_factor / sharpness, high_factor / sharpness, 2.0 / sharpness, sharpness, loss)
