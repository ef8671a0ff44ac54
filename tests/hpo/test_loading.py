"""``hpo.loading``: ``MODULE:FUNCTION`` references from a module or a file, and their errors."""

from __future__ import annotations

import math

import pytest

from hpo.errors import UserError
from hpo.loading import load_callable


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
