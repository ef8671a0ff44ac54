"""``hpo.space``: search spaces (conditional ones too), their files and their limits, the
encoding to ``[-1, 1]^d`` and back, configuration checks."""

import json
import math
import tracemalloc

import numpy as np
import optuna
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from hpo.errors import UserError
from hpo.space import (
    MAX_CHOICES,
    MAX_PARAMETERS,
    MAX_SPACE_FILE_BYTES,
    SpaceEncoder,
    as_space,
    load_space,
    suggest,
    when,
)

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

space_documents = st.dictionaries(st.text(max_size=4), specs | values, max_size=5)


def _yaml_text(data) -> str:
    import yaml

    return yaml.safe_dump(data, allow_unicode=True)


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@st.composite
def distributions(draw):
    kind = draw(st.sampled_from(["float", "log", "float_step", "int", "int_step", "int_log", "cat"]))
    if kind == "float":
        low = draw(finite)
        return FloatDistribution(low, low + draw(st.floats(0, 1e6)))
    if kind == "log":
        low = draw(st.floats(1e-8, 1e3))
        return FloatDistribution(low, low * draw(st.floats(1, 1e6)), log=True)
    if kind == "float_step":
        step = draw(st.sampled_from([0.01, 0.1, 0.25, 0.5, 2.0]))
        low = round(draw(st.integers(-100, 100)) * step, 10)
        return FloatDistribution(low, round(low + draw(st.integers(0, 50)) * step, 10), step=step)
    if kind == "int":
        low = draw(st.integers(-1000, 1000))
        return IntDistribution(low, low + draw(st.integers(0, 1000)))
    if kind == "int_step":
        step = draw(st.integers(1, 7))
        low = draw(st.integers(-100, 100))
        return IntDistribution(low, low + step * draw(st.integers(0, 30)), step=step)
    if kind == "int_log":
        low = draw(st.integers(1, 100))
        return IntDistribution(low, low + draw(st.integers(0, 10_000)), log=True)
    choices = draw(
        st.lists(
            st.one_of(st.integers(), st.text(max_size=3), st.none(), st.booleans()),
            min_size=1,
            max_size=6,
            unique_by=lambda c: (type(c), c),
        )
    )
    return CategoricalDistribution(choices)


spaces = st.dictionaries(st.text("abcdefgh", min_size=1, max_size=4), distributions(), min_size=1, max_size=6)


def valid_value(draw, dist):
    """A value Optuna's samplers could produce for ``dist``."""
    if isinstance(dist, CategoricalDistribution):
        return draw(st.sampled_from(dist.choices))
    if dist.log:
        if isinstance(dist, IntDistribution):
            return draw(st.integers(dist.low, dist.high))
        return draw(st.floats(dist.low, dist.high))
    if isinstance(dist, IntDistribution) or dist.step is not None:
        k_max = int(round((dist.high - dist.low) / dist.step))
        k = draw(st.integers(0, k_max))
        if isinstance(dist, IntDistribution):
            return dist.low + k * dist.step
        return float(min(dist.low + k * dist.step, dist.high))
    return draw(st.floats(dist.low, dist.high))


def same_value(dist, a, b):
    if isinstance(dist, FloatDistribution) and dist.step is None:
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12 * max(1.0, abs(dist.high - dist.low)))
    return a == b and type(a) is type(b)


SPACE_YAML = """
kernel: {type: categorical, choices: [rbf, poly, linear]}
degree: {type: int, low: 2, high: 5, when: {kernel: poly}}
gamma: {type: float, low: 1.0e-4, high: 1.0, log: true, when: {kernel: [rbf, poly]}}
coef0: {type: float, low: 0, high: 1, when: {degree: [4, 5]}}
"""


@pytest.fixture
def space(tmp_path):
    path = tmp_path / "space.yaml"
    path.write_text(SPACE_YAML)
    return load_space(path)


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
        # PyYAML built every node before the choices were counted (half a million in 1 MiB: 23 s, 430 MB)
        (
            "choices.yaml",
            "k: {type: categorical, choices: [" + ",".join("1" * 51_000) + "]}\n",
            ["more than 50000 values"],
        ),
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


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=space_documents,
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


@settings(max_examples=300, deadline=None)
@given(data=st.data(), space=spaces)
def test_round_trip_is_exact_for_valid_points(data, space):
    encoder = SpaceEncoder(space)
    params = {name: valid_value(data.draw, dist) for name, dist in space.items()}
    x = encoder.encode(params)
    assert x.shape == (len(space),)
    assert np.all(x >= -1.0) and np.all(x <= 1.0)
    decoded = encoder.decode(x)
    for name, dist in space.items():
        assert same_value(dist, decoded[name], params[name]), (name, dist, params[name], decoded[name])
        assert dist._contains(dist.to_internal_repr(decoded[name]))


@settings(max_examples=300, deadline=None)
@given(data=st.data(), space=spaces)
def test_any_point_decodes_to_a_valid_configuration(data, space):
    encoder = SpaceEncoder(space)
    x = data.draw(st.lists(st.floats(-1e9, 1e9, allow_nan=False), min_size=len(space), max_size=len(space)))
    decoded = encoder.decode(x)
    for name, dist in space.items():
        value = decoded[name]
        assert not isinstance(value, (np.floating, np.integer)), "Optuna wants plain Python types"
        assert dist._contains(dist.to_internal_repr(value)), (name, dist, value)
    # clipping: a point outside the box decodes like its projection onto the box
    assert encoder.decode(np.clip(x, -1, 1)) == decoded


@settings(max_examples=300, deadline=None)
@given(space=spaces, seed=st.integers(0, 2**31 - 1))
def test_snap_equals_encoding_the_decoded_configuration(space, seed):
    encoder = SpaceEncoder(space)
    points = np.random.default_rng(seed).uniform(-1.5, 1.5, size=(20, len(space)))
    snapped = encoder.snap(points)
    expected = np.array([encoder.encode(encoder.decode(x)) for x in points])
    # Continuous coordinates are only clipped: their round trip adds float rounding alone,
    # which in a range like [1, 1 + 2e-16] is the whole box.
    continuous = [
        j
        for j, dist in enumerate(space.values())
        if isinstance(dist, FloatDistribution) and dist.step is None and dist.high > dist.low
    ]
    expected[:, continuous] = np.clip(points[:, continuous], -1.0, 1.0)
    assert np.allclose(snapped, expected, rtol=0, atol=1e-9)
    assert np.allclose(encoder.snap(snapped), snapped, rtol=0, atol=1e-9)  # idempotent


def test_encoding_of_each_type():
    encoder = SpaceEncoder(
        {
            "lr": FloatDistribution(1e-4, 1e-0, log=True),
            "depth": IntDistribution(1, 9),
            "kind": CategoricalDistribution(["a", "b", "c", "d"]),
        }
    )
    np.testing.assert_allclose(encoder.encode({"lr": 1e-2, "depth": 5, "kind": "b"}), [0.0, 0.0, -0.25])
    assert encoder.decode([1.0, -1.0, 1.0]) == {"lr": 1.0, "depth": 1, "kind": "d"}


def test_decode_rejects_wrong_length_and_nan():
    encoder = SpaceEncoder({"x": FloatDistribution(0, 1)})
    with pytest.raises(UserError, match="expected 1 coordinates"):
        encoder.decode([0.0, 0.0])
    with pytest.raises(UserError, match="non-finite.*'x'"):
        encoder.decode([float("nan")])


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"x": {"type": "float", "low": 2, "high": 1}}, "'x'.*low"),
        ({"lr": {"type": "float", "low": 0, "high": 1, "log": True}}, "'lr'.*low"),
        ({"k": {"type": "categorical", "choices": []}}, "'k'"),
        ({"n": {"type": "int", "low": 1.5, "high": 3}}, "'n'.*integer"),
        ({"x": {"type": "normal", "low": 0, "high": 1}}, "'x'.*'type' is 'normal'"),
        ({"x": {"type": "float", "low": 0}}, "'x'.*missing 'high'"),
        ({"x": {"type": "float", "low": 0, "high": 1, "scale": 2}}, "'x'.*unknown key"),
        ({"x": {"type": "float", "low": 0, "high": float("inf")}}, "'x'.*finite"),
        ({}, "empty"),
    ],
)
def test_bad_spaces_name_the_parameter(spec, message):
    with pytest.raises(ValueError, match=message):
        as_space(spec)


def test_load_space_json_and_yaml(tmp_path):
    spec = {
        "C": {"type": "float", "low": 0.001, "high": 1000.0, "log": True},
        "kernel": {"type": "categorical", "choices": ["rbf", "poly"]},
        "degree": {"type": "int", "low": 2, "high": 5},
    }
    (tmp_path / "s.json").write_text(json.dumps(spec))
    (tmp_path / "s.yaml").write_text(
        "C: {type: float, low: 1.0e-3, high: 1.0e3, log: true}\n"
        "kernel: {type: categorical, choices: [rbf, poly]}\n"
        "degree: {type: int, low: 2, high: 5}\n"
    )
    expected = {
        "C": FloatDistribution(1e-3, 1e3, log=True),
        "kernel": CategoricalDistribution(["rbf", "poly"]),
        "degree": IntDistribution(2, 5),
    }
    assert load_space(tmp_path / "s.json") == expected
    assert load_space(tmp_path / "s.yaml") == expected
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(UserError, match="bad.json.*not valid"):
        load_space(tmp_path / "bad.json")
    with pytest.raises(UserError, match="cannot read"):
        load_space(tmp_path / "missing.yaml")


def test_encoder_flags_categorical_coordinates():
    encoder = SpaceEncoder(
        {
            "lr": FloatDistribution(1e-4, 1.0, log=True),
            "act": CategoricalDistribution(["relu", "tanh"]),
            "layers": IntDistribution(1, 4),
            "opt": CategoricalDistribution(["adam", "sgd", "rmsprop"]),
        }
    )
    assert encoder.categorical.tolist() == [False, True, False, True]


def test_choices_equal_across_types_keep_their_own_bins():
    encoder = SpaceEncoder({"a": CategoricalDistribution([0, False, 1, True])})
    assert [encoder.decode(encoder.encode({"a": v}))["a"] for v in (0, False, 1, True)] == [0, False, 1, True]
    assert [type(encoder.decode(encoder.encode({"a": v}))["a"]) for v in (0, False)] == [int, bool]


@pytest.mark.parametrize(
    ("configs", "message"),
    [
        ({"n": 2}, r"configs must be a list of dicts"),
        ([{"n": 2}, 3], r"configs\[1\] must be a dict"),
        ([{"m": 2}], r"configs\[0\]: 'm' is not a parameter"),
        ([{"n": 3}], r"configs\[0\]: n=3 is outside"),  # off the step of 2
        ([{"n": 2, "k": True}], r"configs\[0\]: k=True is outside"),  # True == 1, yet not a choice
        ([{"n": float("nan")}], r"configs\[0\]: n=nan is outside"),
    ],
)
def test_check_configs_names_the_configuration_and_the_value(configs, message):
    from hpo.space import check_configs

    space = {"n": IntDistribution(0, 8, step=2), "k": CategoricalDistribution([1, 2])}
    assert check_configs("configs", [{"n": 4, "k": 1}, {"k": 2}], space) == [{"n": 4, "k": 1}, {"k": 2}]
    with pytest.raises(UserError, match=message):
        check_configs("configs", configs, space)


def test_conditions_are_read_from_files(space):
    assert space.conditions == {
        "degree": {"kernel": ("poly",)},
        "gamma": {"kernel": ("rbf", "poly")},
        "coef0": {"degree": (4, 5)},
    }
    assert space.active("degree", {"kernel": "poly"})
    assert not space.active("degree", {"kernel": "rbf"})
    assert not space.active("coef0", {"kernel": "rbf"})  # its parent is inactive


def test_suggest_sets_exactly_the_active_parameters(space):
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    seen_kernels = set()
    for _ in range(40):
        trial = study.ask()
        params = suggest(trial, space)
        study.tell(trial, 0.0)
        seen_kernels.add(params["kernel"])
        assert ("degree" in params) == (params["kernel"] == "poly")
        assert ("gamma" in params) == (params["kernel"] in ("rbf", "poly"))
        assert ("coef0" in params) == (params.get("degree") in (4, 5))
        assert trial.params == params
    assert seen_kernels == {"rbf", "poly", "linear"}


def test_python_form_with_when():
    space = as_space({"kind": CategoricalDistribution(["a", "b"]), "x": when(FloatDistribution(0, 1), kind="b")})
    assert space.conditions == {"x": {"kind": ("b",)}}
    assert isinstance(space["x"], FloatDistribution)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"x": {"type": "float", "low": 0, "high": 1, "when": {"k": "a"}}}, r"'when' names 'k', which is not a"),
        (
            {
                "x": {"type": "float", "low": 0, "high": 1, "when": {"k": "a"}},
                "k": {"type": "categorical", "choices": ["a"]},
            },
            r"not a parameter defined before 'x'",
        ),
        (
            {
                "k": {"type": "categorical", "choices": ["a"]},
                "x": {"type": "float", "low": 0, "high": 1, "when": {"k": "z"}},
            },
            r"'when' value 'z' for 'k' is not a value 'k' can take",
        ),
        (
            {"n": {"type": "int", "low": 1, "high": 3}, "x": {"type": "float", "low": 0, "high": 1, "when": {"n": 7}}},
            r"'when' value 7 for 'n'",
        ),
        (
            {"k": {"type": "categorical", "choices": ["a"]}, "x": {"type": "float", "low": 0, "high": 1, "when": []}},
            "must map",
        ),
    ],
)
def test_bad_conditions_name_the_parameter(spec, message):
    with pytest.raises(UserError, match=message):
        as_space(spec)


def test_a_boolean_parent_value_does_not_match_an_integer():
    space = as_space({"flag": CategoricalDistribution([True, 1]), "x": when(IntDistribution(0, 3), flag=1)})
    assert space.active("x", {"flag": 1})
    assert not space.active("x", {"flag": True})


def test_encoder_marks_inactive_parameters():
    encoder = SpaceEncoder({"a": FloatDistribution(0, 1), "b": FloatDistribution(0, 1)})
    point = encoder.encode({"a": 1.0}, inactive_missing=True)
    assert point.tolist() == [1.0, 0.0]
    assert encoder.active_mask({"a": 1.0}).tolist() == [True, False]
    with pytest.raises(UserError, match="missing parameter"):
        encoder.encode({"a": 1.0})
