"""Catapult (loss-spike) detection in a recorded loss curve, the phase of a GD run, and the
online tests a pruner applies to the losses seen so far.

A catapult is a rise of the training loss far above its running minimum followed by a return:
the rule (from Zhu et al. 2023, "Catapults in SGD") counts rising edges where the loss goes
above ``rise_factor`` times its running minimum *and* above ``min_height`` times the initial loss,
so that noise near zero loss does not count. A catapult that has not come back after
``patience`` steps, or a loss that left every finite bound, means the rate is too large.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hpo.errors import UserError
from hpo.validation import check_int, check_real


@dataclass(frozen=True)
class CatapultReport:
    """Spikes found in a loss curve: their number, the step and value of each peak, the first step of each."""

    count: int
    peak_steps: list[int] = field(default_factory=list)
    peak_losses: list[float] = field(default_factory=list)
    diverged: bool = False
    start_steps: list[int] = field(default_factory=list)


def _as_curve(losses) -> np.ndarray:
    curve = np.asarray(losses, dtype=float).reshape(-1)
    if curve.size < 1:
        raise UserError("losses must hold at least one value, got an empty sequence")
    return curve


def _spike_mask(curve: np.ndarray, rise_factor: float, min_height: float) -> np.ndarray:
    """Per step: is the loss above ``rise_factor`` x its previous running minimum and above the floor?"""
    check_real("rise_factor", rise_factor, 0, exclusive_minimum=True)
    if rise_factor <= 1:
        raise UserError(f"rise_factor must be > 1, got {rise_factor!r}")
    check_real("min_height", min_height, 0)
    running_min = np.minimum.accumulate(curve)
    previous_min = np.concatenate([[np.inf], running_min[:-1]])
    return (curve > rise_factor * previous_min) & (curve > min_height * curve[0])


def detect_catapults(losses, *, rise_factor: float = 2.0, min_height: float = 1e-2) -> CatapultReport:
    """Find the catapults in ``losses`` (one value per step).

    A spike starts where ``loss > rise_factor * min(previous losses)`` and
    ``loss > min_height * losses[0]``; it ends where either stops holding. A curve that ends on a
    non-finite value is reported as ``diverged`` (the spike it ends in still counts).
    """
    curve = _as_curve(losses)
    finite = np.isfinite(curve)
    diverged = not finite[-1]
    curve = np.where(finite, curve, np.inf)
    in_spike = _spike_mask(curve, rise_factor, min_height)
    starts = np.flatnonzero(in_spike & ~np.concatenate([[False], in_spike[:-1]]))
    peak_steps, peak_losses = [], []
    for start in starts:
        end = start
        while end + 1 < curve.size and in_spike[end + 1]:
            end += 1
        peak = start + int(np.argmax(curve[start : end + 1]))
        peak_steps.append(int(peak))
        peak_losses.append(float(curve[peak]))
    return CatapultReport(len(starts), peak_steps, peak_losses, diverged, [int(start) for start in starts])


def classify_phase(losses, *, monotone_tolerance: float = 1e-9, divergence_factor: float = 1e6) -> str:
    """``"monotone"``, ``"catapult"`` or ``"diverged"`` for a full-batch GD loss curve.

    monotone: the loss never exceeds ``losses[0] * (1 + monotone_tolerance)``. diverged: a
    non-finite value, a value above ``divergence_factor * losses[0]``, or a final loss above the
    initial one. catapult: it rose above the initial loss and came back below it.
    """
    check_real("divergence_factor", divergence_factor, 0, exclusive_minimum=True)
    curve = _as_curve(losses)
    initial = curve[0]
    if not np.all(np.isfinite(curve)) or curve.max() > divergence_factor * initial or curve[-1] > initial:
        return "diverged"
    if curve.max() <= initial * (1 + monotone_tolerance):
        return "monotone"
    return "catapult"


def diverged(losses, *, factor: float = 10.0) -> bool:
    """Online divergence test: the latest loss is non-finite or above ``factor`` x the first one."""
    check_real("factor", factor, 0, exclusive_minimum=True)
    if factor <= 1:
        raise UserError(f"factor must be > 1, got {factor!r}")
    curve = _as_curve(losses)
    return bool(not np.isfinite(curve[-1]) or curve[-1] > factor * curve[0])


def catapult_unrecovered(losses, *, patience: int = 20, rise_factor: float = 2.0, min_height: float = 1e-2) -> bool:
    """Online test: the loss has stayed inside one spike (the rule of :func:`detect_catapults`) for
    at least ``patience`` steps up to the latest one. A catapult comes back within a few steps
    (6-23 in the two-layer experiments), so a spike that lasts is a rate the model cannot absorb.
    A non-finite latest loss counts as unrecovered."""
    check_int("patience", patience, 1)
    curve = _as_curve(losses)
    if not np.isfinite(curve[-1]):
        return True
    in_spike = _spike_mask(np.where(np.isfinite(curve), curve, np.inf), rise_factor, min_height)
    outside = np.flatnonzero(~in_spike)
    run_length = curve.size if outside.size == 0 else curve.size - 1 - outside[-1]
    return bool(run_length >= patience)
