"""Inputs from someone else (space files, command-line numbers, storage URLs) are bounded: each
bad one is a one-line error naming the input, parsing stays small in memory, and passwords
never appear in a URL shown to a person."""

import argparse
import json
import math
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hpo import UserError, load_space
from hpo.cli import main
from hpo.cli.args import int_in, non_negative_int, positive_float, positive_int, real_in, seed
from hpo.space import MAX_CHOICES, MAX_PARAMETERS, MAX_SPACE_FILE_BYTES
from hpo.urls import redact_url
from hpo.validation import check_int, check_real, check_seed

# Parsing a space file must stay far below this, whatever the file holds (a YAML alias bomb
# of 590 bytes once reached 2.2 GB).
MEMORY_CAP_BYTES = 64 * 2**20


def load_within_memory_cap(path):
    """``load_space(path)`` with the peak of Python allocations checked against the cap."""
    tracemalloc.start()
    try:
        return load_space(path)
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < MEMORY_CAP_BYTES, f"parsing {path} allocated {peak / 2**20:.0f} MiB"


def assert_one_line_error(path, *fragments):
    with pytest.raises(UserError) as caught:
        load_within_memory_cap(path)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message, message
    for fragment in fragments:
        assert fragment in message, message
    return message


ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{name}: &{name} [{', '.join([f'*{parent}'] * 9)}]\n" for parent, name in zip("abcdefgh", "bcdefghi")
)


@pytest.mark.parametrize(
    "name, content, fragments",
    [
        ("inf.yaml", "x: {type: float, low: 0, high: 1e400}\n", ["'x'", "'high'", "finite"]),
        ("inf.json", '{"x": {"type": "int", "low": 0, "high": 1e400}}', ["'x'", "'high'", "finite"]),
        ("nan.yaml", "x: {type: float, low: .nan, high: 1}\n", ["'x'", "'low'", "finite"]),
        ("fine.yaml", "x: {type: float, low: 0, high: 1, step: 1e-300}\n", ["'x'", "step 1e-300", "grid points"]),
        ("fine.json", '{"x": {"type": "float", "low": -1e300, "high": 1e300, "step": 1}}', ["'x'", "grid points"]),
        ("wide.json", '{"x": {"type": "float", "low": -1e308, "high": 1e308}}', ["'x'", "wider"]),
        ("bigint.yaml", "x: {type: int, low: 0, high: 100000000000000000000}\n", ["'x'", "2**53"]),
        ("bomb.yaml", ALIAS_BOMB, ["aliases (*a)", "line 2"]),
        ("merge.yaml", "base: &b {type: float, low: 0, high: 1}\nx: {<<: *b}\n", ["aliases (*b)"]),
        ("list.yaml", "x: {type: categorical, choices: [a, [1, 2]]}\n", ["'x'", "choice [1, 2]"]),
        ("map.json", '{"x": {"type": "categorical", "choices": ["a", {"b": 1}]}}', ["'x'", "choice {'b': 1}"]),
        ("nanchoice.yaml", "x: {type: categorical, choices: [1.5, .nan]}\n", ["'x'", "choice nan"]),
        ("tag.yaml", "x: !!python/object/apply:os.system [echo]\n", ["not valid", "python/object"]),
        ("deep.json", '{"x": ' + "[" * 100_000 + "]" * 100_000 + "}", ["nested too deeply"]),
    ],
)
def test_bad_space_files_give_one_line_errors_naming_file_and_input(tmp_path, name, content, fragments):
    path = tmp_path / name
    path.write_text(content)
    assert_one_line_error(path, *fragments)


def test_a_space_file_that_is_not_utf8_names_the_byte(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("x: {type: categorical, choices: [café]}\n".encode("latin-1"))
    assert_one_line_error(path, "not UTF-8", "0xe9")


def test_space_files_are_capped_in_size_parameters_and_choices(tmp_path):
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"x": {"type": "float", "low": 0, "high": 1}}) + " " * MAX_SPACE_FILE_BYTES)
    assert_one_line_error(big, "larger than")
    many = tmp_path / "many.json"
    params = {f"p{i}": {"type": "float", "low": 0, "high": 1} for i in range(MAX_PARAMETERS + 1)}
    many.write_text(json.dumps(params))
    assert_one_line_error(many, f"{MAX_PARAMETERS + 1} parameters")
    choices = tmp_path / "choices.json"
    choices.write_text(json.dumps({"x": {"type": "categorical", "choices": list(range(MAX_CHOICES + 1))}}))
    assert_one_line_error(choices, "'x'", f"{MAX_CHOICES + 1} choices")
    # At the caps the file is accepted.
    params.popitem()
    many.write_text(json.dumps(params))
    assert len(load_within_memory_cap(many)) == MAX_PARAMETERS


def test_a_valid_yaml_space_still_loads_with_anchors_refused_only_where_used(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text(
        "C: {type: float, low: 1.0e-3, high: 1.0e+3, log: true}\n"
        "kernel: {type: categorical, choices: [rbf, poly, null, 3, 2.5, true]}\n"
        "degree: {type: int, low: 2, high: 5, when: {kernel: poly}}\n"
        "grid: {type: float, low: 0, high: 1, step: 0.25}\n"
    )
    space = load_within_memory_cap(path)
    assert list(space) == ["C", "kernel", "degree", "grid"]
    assert space["kernel"].choices == ("rbf", "poly", None, 3, 2.5, True)


def test_cli_refuses_a_bad_space_file_with_exit_2_and_one_line(tmp_path, capsys):
    space = tmp_path / "bomb.yaml"
    space.write_text(ALIAS_BOMB)
    objective = tmp_path / "objective_for_security_test.py"
    objective.write_text("def f(params):\n    return 0.0\n")
    code = main(
        ["tune", "--objective", f"{objective}:f", "--space", str(space), "--n-trials", "1", "--out", str(tmp_path)]
    )
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "bomb.yaml" in err and "aliases" in err


# -- fuzzing: only one-line UserErrors come out, within the memory cap ----------------------------
scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6)
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=10,
)
specs = st.fixed_dictionaries(
    {"type": st.sampled_from(["float", "int", "categorical", "other"])},
    optional={
        "low": scalars | st.sampled_from([1e400, -1e400, 10**30, "1e3"]),
        "high": scalars | st.sampled_from([1e400, 10**400, 1e308]),
        "step": scalars | st.sampled_from([1e-300, 5e-324, 0.5]),
        "log": st.booleans() | scalars,
        "choices": values,
        "when": values,
    },
)
spaces = st.dictionaries(st.text(max_size=4), specs | values, max_size=5)


def _yaml_text(data) -> str:
    import yaml

    return yaml.safe_dump(data, allow_unicode=True)


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=spaces,
    form=st.sampled_from(["json", "yaml"]),
    noise=st.binary(max_size=8),
    cut=st.integers(0, 400),
)
def test_fuzzed_space_files_load_or_give_one_line_errors(tmp_path, data, form, noise, cut):
    try:
        text = json.dumps(data) if form == "json" else _yaml_text(data)
    except (ValueError, OverflowError):  # values JSON cannot write (1e400 is fine: Infinity)
        return
    raw = text.encode("utf-8")
    raw = raw[:cut] + noise + raw[cut:] if noise else raw  # stray bytes, often not UTF-8
    path = tmp_path / f"space.{form}"
    path.write_bytes(raw)
    try:
        space = load_within_memory_cap(path)
    except UserError as err:
        assert "\n" not in str(err) and str(path) in str(err), str(err)
    else:
        assert 0 < len(space) <= MAX_PARAMETERS


MARGIN = real_in(0.0, 0.5)
ARG_TYPES = [positive_int, non_negative_int, seed, int_in(1, 4096), positive_float, MARGIN]


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    parse=st.sampled_from(ARG_TYPES),
    text=st.text(max_size=12)
    | st.sampled_from(["1e400", "nan", "-inf", "18446744073709551616", "9" * 5000, "1_000", " 7 ", "0x10"]),
)
def test_fuzzed_command_line_numbers_parse_or_give_one_line_errors(parse, text):
    try:
        value = parse(text)
    except argparse.ArgumentTypeError as err:
        assert "\n" not in str(err) and len(str(err)) < 120
    else:
        assert value > 0 or (value == 0 and parse in (non_negative_int, seed, MARGIN))
        assert math.isfinite(value) and (parse is not MARGIN or value <= 0.5)
        if parse is seed:
            assert value <= 2**32 - 1


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


# -- command-line numbers beyond what the code can take ------------------------------------------
@pytest.mark.parametrize(
    "argv, option",
    [
        (["dynamics", "lr-range", "--hidden", "100000000"], "--hidden"),
        (["dynamics", "lr-range", "--depth", "0"], "--depth"),
        (["dynamics", "lr-range", "--tolerance", "nan"], "--tolerance"),
        (["dynamics", "lr-range", "--seed", str(2**64)], "--seed"),
        (["dynamics", "run", "catapult", "--out", "o", "--seed", str(2**64 + 1)], "--seed"),
        (["electrode", "fit", "--seed", str(2**64)], "--seed"),
        (["electrode", "pareto", "--out", "o", "--seed", "9" * 5000], "--seed"),
        (["electrode", "simulate", "--am", "0.9", "--sc", "0.6", "--cd", "0.2", "--coefficient", "x=1e400"], "x"),
        (
            ["electrode", "simulate", "--am", "0.9", "--sc", "0.6", "--cd", "0.2"]
            + ["--coefficient", "dry_porosity_ref=1e300"],
            "dry_porosity_ref=1e300",
        ),
        (
            ["electrode", "dataset", "--n", "4", "--out", "d.csv"]
            + ["--coefficient", "conductivity_calendering_gain=1e300"],
            "conductivity_calendering_gain=1e300",
        ),
        (["tune", "sphere-4d", "--seed", str(2**64), "--n-trials", "1", "--no-progress"], "seed"),
    ],
)
def test_numbers_out_of_range_give_exit_2_and_one_line_naming_the_option(argv, option, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    try:
        code = main(argv)
    except SystemExit as exit_info:  # argparse's own error path
        code = exit_info.code
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and option in err, err
    assert not (tmp_path / "d.csv").exists()  # refused before any design ran


def test_seed_is_bounded_where_numpy_legacy_seeding_stops():
    assert check_seed(2**32 - 1) == 2**32 - 1 and seed(str(2**32 - 1)) == 2**32 - 1
    with pytest.raises(UserError, match=r"got 18446744073709551616 \(at most 2\*\*32 - 1\)"):
        check_seed(2**64)
    with pytest.raises(UserError, match="an integer of 16610 bits"):
        check_seed(10**5000)


# -- storage URLs shown to people ----------------------------------------------------------------
SECRET = "Zq9"  # part of every password below; must never be shown


@pytest.mark.parametrize(
    "url, shown",
    [
        ("postgresql://ann:Zq9/x@db.example:5432/hpo", "postgresql://ann:***@db.example:5432/hpo"),
        ("postgresql://ann:Zq9@x@db.example/hpo", "postgresql://ann:***@db.example/hpo"),
        ("mysql+pymysql://ann:Zq9:x:y@db.example/hpo", "mysql+pymysql://ann:***@db.example/hpo"),
        ("postgresql://ann:Zq9%2Fx%40y%25@db.example/hpo", "postgresql://ann:***@db.example/hpo"),
        ("postgresql://ann:Zq9?x#y@db.example/hpo", "postgresql://ann:***@db.example/hpo"),
        ("postgres://:Zq9@db.example/hpo", "postgres://:***@db.example/hpo"),
        ("redis://:Zq9@cache:6379/0", "redis://:***@cache:6379/0"),
        (
            "postgresql://db.example/hpo?user=ann&password=Zq9%2F@x&sslmode=require",
            "postgresql://db.example/hpo?user=ann&password=***&sslmode=require",
        ),
        ("postgresql://ann@db.example/hpo?PassWord=Zq9", "postgresql://ann@db.example/hpo?PassWord=***"),
        (
            "postgresql://ann:Zq9@db.example/hpo?sslpassword=Zq9#f",
            "postgresql://ann:***@db.example/hpo?sslpassword=***#f",
        ),
    ],
)
def test_redact_url_hides_passwords_with_any_character_and_in_the_query(url, shown):
    assert redact_url(url) == shown
    assert SECRET not in redact_url(url)


@pytest.mark.parametrize(
    "url",
    ["sqlite:///study.db", "sqlite:////tmp/a@b/study.db", "sqlite:///x.db?timeout=5", "postgresql://ann@db/hpo", "x"],
)
def test_redact_url_leaves_urls_without_a_password_as_they_are(url):
    assert redact_url(url) == url


# -- study names, in-memory storages, budgets ---------------------------------------------------


@pytest.mark.parametrize("name", ["../../x", "/etc/passwd", "..", ".", "", "a/b", "ok-name_1.0"])
def test_study_names_become_file_names_that_stay_in_their_folder(tmp_path, name):
    from hpo.io import safe_file_name

    safe = safe_file_name(name)
    assert "/" not in safe and safe not in ("", ".", "..")
    assert (tmp_path / safe).resolve().parent == tmp_path.resolve()
    if name == "ok-name_1.0":
        assert safe == name  # a plain name is kept as it is
    assert safe_file_name("a/b") != safe_file_name("a_b")  # two names stay two folders


def test_cli_results_folder_of_an_escaping_study_name_stays_under_results(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = main(["tune", "sphere-4d", "--n-trials", "2", "--study-name", "../../x", "--no-progress"])
    assert code == 0
    assert not (tmp_path.parent.parent / "x").exists()
    assert len(list((tmp_path / "results").glob("*x*/history.csv"))) == 1


@pytest.mark.parametrize(
    "url", ["sqlite://", "sqlite:///", "sqlite:///:memory:", "sqlite:///file:x?mode=memory&uri=true"]
)
def test_in_memory_sqlite_is_refused_since_the_study_would_be_lost(url):
    from hpo.storage import open_storage

    with pytest.raises(UserError, match="in-memory SQLite database"):
        open_storage(url)


def test_a_budget_stored_larger_than_asked_runs_only_what_is_asked(tmp_path):
    import hpo

    def objective(params):
        return params["x"]

    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    space = {"x": {"type": "float", "low": 0, "high": 1}}
    hpo.tune(objective, space, optimizer="random", n_trials=40, storage=url, study_name="big", create_only=True)
    result = hpo.tune(objective, space, optimizer="random", n_trials=5, storage=url, study_name="big")
    states = [t.state.name for t in result.study.get_trials(deepcopy=False)]
    assert states.count("COMPLETE") == 5 and states.count("WAITING") == 35
    with pytest.raises(UserError, match="n_trials must be an integer in"):
        hpo.tune(lambda p: p["x"], space, n_trials=10**9)
