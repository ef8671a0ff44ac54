"""``hpo.validation``: argument checks name the parameter, the value and what is allowed."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hpo.cli.args import seed
from hpo.errors import UserError
from hpo.validation import check_choice, check_int, check_real, check_seed

# -- fuzzing: only one-line UserErrors come out, within the memory cap ----------------------------
scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(value=scalars | st.sampled_from([10**5000, 2**64, float("nan"), -(2**70)]))
def test_fuzzed_python_arguments_pass_or_give_one_line_errors(value):
    for check in (
        lambda v: check_int("n_trials", v, 1, maximum=10**6),
        lambda v: check_real("rate", v, 0.0),
        check_seed,
    ):
        try:
            check(value)
        except UserError as err:
            assert "\n" not in str(err) and len(str(err)) < 200


def test_seed_is_bounded_where_numpy_legacy_seeding_stops():
    assert check_seed(2**32 - 1) == 2**32 - 1 and seed(str(2**32 - 1)) == 2**32 - 1
    with pytest.raises(UserError, match=r"got 18446744073709551616 \(at most 2\*\*32 - 1\)"):
        check_seed(2**64)
    with pytest.raises(UserError, match="an integer of 16610 bits"):
        check_seed(10**5000)


def test_check_int_accepts_integers_in_range_and_names_the_parameter_otherwise():
    assert check_int("n", np.int64(3), 1, maximum=5) == 3 and type(check_int("n", np.int64(3), 1)) is int
    for value, message in [
        (True, "n must be an integer >= 1, got True"),
        (2.0, "n must be an integer >= 1, got 2.0"),
        (0, "n must be an integer >= 1, got 0"),
    ]:
        with pytest.raises(UserError, match=f"^{message.replace('.', '[.]')}$"):
            check_int("n", value, 1)
    with pytest.raises(UserError, match=r"n must be an integer in \[1, 5\], got 6"):
        check_int("n", 6, 1, maximum=5)


@pytest.mark.parametrize(
    "kwargs, value, ok",
    [
        ({"minimum": 0, "exclusive_minimum": True}, 0.0, False),
        ({"minimum": 0, "exclusive_minimum": True}, 1e-300, True),
        ({"minimum": 0, "maximum": 1, "exclusive_maximum": True}, 1.0, False),
        ({"minimum": 0, "maximum": 1}, 1.0, True),
        ({}, math.inf, False),
        ({}, math.nan, False),
        ({}, False, False),
        ({}, "1", False),
    ],
)
def test_check_real_bounds(kwargs, value, ok):
    if ok:
        assert check_real("x", value, **kwargs) == value
    else:
        with pytest.raises(UserError, match="x must be a finite number"):
            check_real("x", value, **kwargs)


def test_check_real_says_which_bounds_are_open():
    with pytest.raises(UserError, match=r"gamma must be a finite number in \[0, 1\), got 1"):
        check_real("gamma", 1, 0, maximum=1, exclusive_maximum=True)


def test_check_choice_and_seed():
    assert check_choice("mode", "a", ("a", "b")) == "a"
    with pytest.raises(UserError, match="mode is 'c'; allowed: a, b"):
        check_choice("mode", "c", ("a", "b"))
    assert check_seed(None) is None and check_seed(np.uint8(7)) == 7
    with pytest.raises(UserError, match="seed must be a non-negative integer or None, got -1"):
        check_seed(-1)
