"""Argument checks for the Python API: each error names the parameter, the value received and
what is allowed, in one line the command line can print as it is."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

from hpo.errors import UserError

# NumPy's legacy generator (``RandomState``), which Optuna's samplers seed, takes seeds below 2**32.
SEED_MAX = 2**32 - 1
# A study's budget is queued as rows of the storage: far more trials is a typo, not a plan.
MAX_TRIALS = 100_000


def check_int(name: str, value: Any, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as an ``int`` (bools refused) within ``[minimum, maximum]``."""
    ok = not isinstance(value, bool) and isinstance(value, numbers.Integral)
    if ok and (minimum is None or value >= minimum) and (maximum is None or value <= maximum):
        return int(value)
    raise UserError(f"{name} must be an integer{_range(minimum, maximum, False)}, got {short_repr(value)}")


def check_real(
    name: str,
    value: Any,
    minimum: float | None = None,
    maximum: float | None = None,
    *,
    exclusive_minimum: bool = False,
    exclusive_maximum: bool = False,
) -> float:
    """``value`` as a finite ``float`` (bools refused) within the bounds; an exclusive bound
    is refused itself (``> 0`` rather than ``>= 0``, ``[0, 1)`` rather than ``[0, 1]``)."""
    ok = not isinstance(value, bool) and isinstance(value, numbers.Real) and _finite(value)
    if ok and (minimum is None or value > minimum or (value == minimum and not exclusive_minimum)):
        if maximum is None or value < maximum or (value == maximum and not exclusive_maximum):
            return float(value)
    bounds = _range(minimum, maximum, exclusive_minimum, exclusive_maximum=exclusive_maximum)
    raise UserError(f"{name} must be a finite number{bounds}, got {short_repr(value)}")


def _finite(value: numbers.Real) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer beyond the largest float
        return False


def check_seed(value: Any, name: str = "seed") -> int | None:
    """A seed: an integer in [0, ``SEED_MAX``], or ``None`` for a fresh one."""
    if value is None:
        return None
    if not isinstance(value, bool) and isinstance(value, numbers.Integral) and 0 <= value <= SEED_MAX:
        return int(value)
    raise UserError(f"{name} must be a non-negative integer or None, got {short_repr(value)} (at most 2**32 - 1)")


def check_choice(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    allowed = tuple(allowed)
    if value not in allowed:
        raise UserError(f"{name} is {short_repr(value)}; allowed: {', '.join(map(str, allowed))}")
    return value


def _range(minimum, maximum, exclusive_minimum: bool, exclusive_maximum: bool = False) -> str:
    if minimum is not None and maximum is not None:
        return f" in {'(' if exclusive_minimum else '['}{minimum}, {maximum}{')' if exclusive_maximum else ']'}"
    if minimum is not None:
        return f" {'>' if exclusive_minimum else '>='} {minimum}"
    if maximum is not None:
        return f" {'<' if exclusive_maximum else '<='} {maximum}"
    return ""


def short_repr(value: Any, limit: int = 80) -> str:
    """``repr(value)`` on one line and cut: a message that echoes an input stays one short line."""
    try:
        text = " ".join(repr(value).split())
    except ValueError:  # an integer of more than 4300 digits has no repr (Python's limit)
        return f"an integer of {value.bit_length()} bits" if isinstance(value, int) else type(value).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."
