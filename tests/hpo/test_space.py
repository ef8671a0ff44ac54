"""Search-space encoding: round trips, clipping and validation, under hypothesis."""

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from hpo import SpaceEncoder, UserError, as_space, load_space

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
