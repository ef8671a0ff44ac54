"""Conditional parameters: parsing, activity, suggestion, and the agents' encoding."""

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from hpo.errors import UserError
from hpo.space import SpaceEncoder, as_space, load_space, suggest, when

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
