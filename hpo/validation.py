"""Argument checks for the Python API: each error names the parameter, the value received and
what is allowed, in one line the command line can print as it is."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

from hpo.errors import UserError


def check_int(name: str, value: Any, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as an ``int`` (bools refused) within ``[minimum, maximum]``."""
    ok = not isinstance(value, bool) and isinstance(value, numbers.Integral)
    if ok and (minimum is None or value >= minimum) and (maximum is None or value <= maximum):
        return int(value)
    raise UserError(f"{name} must be an integer{_range(minimum, maximum, False)}, got {value!r}")


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
    ok = not isinstance(value, bool) and isinstance(value, numbers.Real) and math.isfinite(value)
    if ok and (minimum is None or value > minimum or (value == minimum and not exclusive_minimum)):
        if maximum is None or value < maximum or (value == maximum and not exclusive_maximum):
            return float(value)
    bounds = _range(minimum, maximum, exclusive_minimum, exclusive_maximum)
    raise UserError(f"{name} must be a finite number{bounds}, got {value!r}")


def check_seed(value: Any, name: str = "seed") -> int | None:
    """A seed: a non-negative integer, or ``None`` for a fresh one."""
    if value is None or (not isinstance(value, bool) and isinstance(value, numbers.Integral) and value >= 0):
        return None if value is None else int(value)
    raise UserError(f"{name} must be a non-negative integer or None, got {value!r}")


def check_choice(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    allowed = tuple(allowed)
    if value not in allowed:
        raise UserError(f"{name} is {value!r}; allowed: {', '.join(map(str, allowed))}")
    return value


def _range(minimum, maximum, exclusive_minimum: bool, exclusive_maximum: bool = False) -> str:
    if minimum is not None and maximum is not None:
        return f" in {'(' if exclusive_minimum else '['}{minimum}, {maximum}{')' if exclusive_maximum else ']'}"
    if minimum is not None:
        return f" {'>' if exclusive_minimum else '>='} {minimum}"
    if maximum is not None:
        return f" {'<' if exclusive_maximum else '<='} {maximum}"
    return ""
