"""Argument types shared by the commands: argparse turns their errors into one line
that names the option. The checks themselves are ``hpo.validation``'s, so the command line and
the Python API accept the same values."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from hpo.errors import UserError
from hpo.validation import SEED_MAX, check_int, check_real, short_repr


def positive_int(text: str) -> int:
    return _int(text, 1, None)


def non_negative_int(text: str) -> int:
    return _int(text, 0, None)


def seed(text: str) -> int:
    """A seed: an integer in [0, 2**32 - 1], what NumPy's legacy generator (Optuna's samplers) takes."""
    return _int(text, 0, SEED_MAX)


def int_in(minimum: int, maximum: int) -> Callable[[str], int]:
    """An argparse type for an integer in [minimum, maximum]."""

    def parse(text: str) -> int:
        return _int(text, minimum, maximum)

    parse.__name__ = f"integer in [{minimum}, {maximum}]"
    return parse


def real_in(minimum: float, maximum: float) -> Callable[[str], float]:
    """An argparse type for a finite number in [minimum, maximum]."""

    def parse(text: str) -> float:
        try:
            return check_real("value", float(text), minimum, maximum=maximum)
        except (ValueError, UserError):  # not a number, or out of range
            raise argparse.ArgumentTypeError(f"{short_repr(text)} is not a number in [{minimum}, {maximum}]") from None

    parse.__name__ = f"number in [{minimum}, {maximum}]"
    return parse


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{short_repr(text)} is not a number") from None
    try:
        return check_real("value", value, 0.0, exclusive_minimum=True)
    except UserError:
        raise argparse.ArgumentTypeError(f"{short_repr(text)} is not a positive finite number") from None


def _int(text: str, minimum: int, maximum: int | None) -> int:
    try:
        value = int(text)
    except ValueError:  # also an integer of more than 4300 digits (Python's limit)
        raise argparse.ArgumentTypeError(f"{short_repr(text)} is not an integer") from None
    try:
        return check_int("value", value, minimum, maximum=maximum)
    except UserError:
        raise argparse.ArgumentTypeError(f"{short_repr(text)} is not {_integer_kind(minimum, maximum)}") from None


def _integer_kind(minimum: int, maximum: int | None) -> str:
    if maximum is not None:
        return f"an integer in [{minimum}, {maximum}]"
    return {0: "a non-negative integer", 1: "a positive integer"}.get(minimum, f"an integer >= {minimum}")


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """argparse's "(default: X)" after each option's help, except where there is nothing to
    say (no default, a flag off by default) or the help states its default itself
    ("[default: ...]")."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default in (None, False, argparse.SUPPRESS) or "[default:" in text:
            return text
        return super()._get_help_string(action)
