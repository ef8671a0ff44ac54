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
) -> float:
    """``value`` as a finite ``float`` (bools refused) within the bounds; with
    ``exclusive_minimum`` the minimum itself is refused (``> 0`` rather than ``>= 0``)."""
    ok = not isinstance(value, bool) and isinstance(value, numbers.Real) and math.isfinite(value)
    if ok and (minimum is None or value > minimum or (value == minimum and not exclusive_minimum)):
        if maximum is None or value <= maximum:
            return float(value)
    raise UserError(f"{name} must be a finite number{_range(minimum, maximum, exclusive_minimum)}, got {value!r}")


def check_choice(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    allowed = tuple(allowed)
    if value not in allowed:
        raise UserError(f"{name} is {value!r}; allowed: {', '.join(map(str, allowed))}")
    return value


def _range(minimum, maximum, exclusive_minimum: bool) -> str:
    if minimum is not None and maximum is not None:
        return f" in {'(' if exclusive_minimum else '['}{minimum}, {maximum}]"
    if minimum is not None:
        return f" {'>' if exclusive_minimum else '>='} {minimum}"
    if maximum is not None:
        return f" <= {maximum}"
    return ""
