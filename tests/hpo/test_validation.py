"""hpo.validation and hpo.loading: the shared argument checks and the MODULE:FUNCTION loader."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hpo.errors import UserError
from hpo.loading import load_callable
from hpo.validation import check_choice, check_int, check_real, check_seed


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


def test_load_callable_from_a_module_and_from_a_file(tmp_path):
    assert load_callable("math:sqrt") is math.sqrt
    path = tmp_path / "objective_file.py"
    path.write_text("def f(params):\n    return params['x'] * 2\n")
    assert load_callable(f"{path}:f")({"x": 2}) == 4


@pytest.mark.parametrize(
    "reference, message",
    [
        ("no_colon", "expected MODULE:FUNCTION"),
        ("math:", "expected MODULE:FUNCTION"),
        ("math:pi", "has no function 'pi'"),
        ("no_such_module_xyz:f", "cannot import 'no_such_module_xyz'"),
        ("/no/such/file.py:f", "file '/no/such/file.py' not found"),
    ],
)
def test_load_callable_errors_name_the_option(reference, message):
    with pytest.raises(UserError, match="--objective") as excinfo:
        load_callable(reference, "--objective")
    assert message in str(excinfo.value)


def test_the_objective_folder_is_on_sys_path_only_for_the_import(tmp_path, monkeypatch):
    import sys

    (tmp_path / "my_objective.py").write_text("import helper\n\ndef f(p):\n    return helper.VALUE\n")
    (tmp_path / "helper.py").write_text("VALUE = 3\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    before = list(sys.path)
    assert load_callable("my_objective:f")({}) == 3  # imported from the working directory
    assert load_callable(f"{tmp_path / 'my_objective.py'}:f")({}) == 3  # a file's siblings import too
    assert sys.path == before
    for name in ("my_objective", "helper"):
        sys.modules.pop(name, None)
