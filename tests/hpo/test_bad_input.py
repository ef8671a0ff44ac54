"""Random bad input never crashes with anything but the documented errors."""

import json

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from hpo import UserError, load_space
from hpo.cli import main

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=5),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=12,
)
spec_like = st.dictionaries(
    st.text(min_size=0, max_size=4),
    st.fixed_dictionaries(
        {},
        optional={
            "type": st.sampled_from(["float", "int", "categorical", "normal", 3, None]),
            "low": json_values,
            "high": json_values,
            "step": json_values,
            "log": json_values,
            "choices": json_values,
            "extra": json_values,
        },
    )
    | json_values,
    max_size=4,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(spec_like, json_values))
def test_random_space_files_load_or_raise_user_error(tmp_path, data):
    path = tmp_path / "space.json"
    path.write_text(json.dumps(data))
    try:
        space = load_space(path)
    except UserError as err:
        assert str(err) and "\n" not in str(err)
    else:
        assert space and all(isinstance(name, str) for name in space)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    option=st.sampled_from(["--n-trials", "--seed", "--timeout-per-trial"]),
    value=st.text(min_size=1, max_size=6).filter(lambda v: not v.startswith("-") or v[1:2].isdigit()),
)
def test_random_cli_numbers_give_clean_errors(tmp_path, capsys, option, value):
    args = [
        "tune",
        "sphere-4d",
        option,
        value,
        "--no-progress",
        "--n-trials",
        "2",
        "--storage",
        f"sqlite:///{tmp_path / 'db.sqlite'}",
        "--out",
        str(tmp_path / "out"),
    ]
    if option == "--n-trials":
        try:
            assume(int(value) <= 5)  # a valid large budget would just run long
        except ValueError:
            pass
        args = args[:-6] + args[-4:]  # only the random --n-trials
    try:
        code = main(args)
    except SystemExit as exit_info:  # argparse rejects the value
        code = exit_info.code
    captured = capsys.readouterr()
    assert code in (0, 2)
    assert "Traceback" not in captured.err
    if code == 2:
        assert option in captured.err or "error:" in captured.err


@pytest.mark.parametrize("name", ["", "no-such-task", "svc digits", "../etc"])
def test_unknown_task_names(name, capsys):
    assert main(["tune", name, "--no-progress"]) == 2
    assert "allowed: svc-digits" in capsys.readouterr().err or name == ""


@settings(max_examples=200, deadline=None)
@given(
    am=st.one_of(st.floats(allow_nan=True), st.text(max_size=4), st.none()),
    sc=st.floats(0.3, 0.8),
    cd=st.floats(-0.1, 0.5),
)
def test_random_process_parameters_are_valid_or_named_errors(am, sc, cd):
    from surrogates.manufacturing import PROCESS_BOUNDS, ProcessParameters

    try:
        ProcessParameters(am, sc, cd)
    except UserError as err:
        message = str(err)
        assert any(message.startswith(name) for name in PROCESS_BOUNDS) and "[" in message
    else:
        for name, value in (("am", am), ("sc", sc), ("cd", cd)):
            low, high = PROCESS_BOUNDS[name]
            assert low - 1e-9 <= float(value) <= high + 1e-9


@settings(max_examples=100, deadline=None)
@given(name=st.text(max_size=12))
def test_random_problem_names_are_known_or_named_errors(name):
    from benchmarks.problems import make_problem, select_problems

    try:
        selected = select_problems([name])
    except UserError as err:
        assert repr(name) in str(err) and "allowed:" in str(err)
    else:
        assert selected and all(isinstance(n, str) for n in selected)
    try:
        make_problem(name)
    except UserError as err:
        assert "allowed:" in str(err)
    except Exception as err:  # a known problem that cannot be built here must say why
        assert type(err).__name__ == "ProblemUnavailable", err
