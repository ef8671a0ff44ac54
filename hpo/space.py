"""Search spaces: Optuna distributions, their validation, files, and the unit-box encoding.

A search space is a mapping from parameter names to Optuna distributions
(``FloatDistribution``, ``IntDistribution``, ``CategoricalDistribution``). This module
adds three things on top of Optuna's types:

* ``as_space`` validates a space and also accepts the plain-dict form used by
  search-space files (``{"C": {"type": "float", "low": 1e-3, "high": 1e3, "log": true}}``);
* ``load_space`` reads such a file (JSON or YAML);
* ``SpaceEncoder`` maps configurations to and from the box [-1, 1]^d, one coordinate per
  parameter, so that any continuous optimizer (SAC, CMA-ES, pymoo) can search any space.

Encoding per distribution (coordinate ``x`` in [-1, 1]):

=====================  ==============================================================
float                  affine map of [low, high]
float, ``log=True``    affine map of [log low, log high]
float with ``step``    index k of the grid ``low + k*step`` mapped affinely; decoding
                       rounds to the nearest grid point
int                    like float with step (``step`` defaults to 1), or in log space
                       for ``log=True`` with rounding after ``exp``
categorical, m choices [-1, 1] cut into m equal bins; a choice encodes to its bin centre
=====================  ==============================================================

Round trips ``decode(encode(p)) == p`` are exact for integers, grid floats (values on
Optuna's grid ``low + k*step``) and categoricals. For continuous floats the affine map is
exact up to floating-point rounding (a few ulp): a bijection between [low, high] and
[-1, 1] that is exact for every double does not exist, since the two intervals hold
different sets of doubles. Decoding clips to the box and to the bounds, so any point, even
outside the box, decodes to a valid configuration.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from hpo.errors import UserError

Space = dict[str, BaseDistribution]

_SPEC_TYPES = {
    "float": FloatDistribution,
    "int": IntDistribution,
    "categorical": CategoricalDistribution,
}


def distribution_from_spec(name: str, spec: Mapping[str, Any]) -> BaseDistribution:
    """Build one Optuna distribution from its file form; errors name the parameter."""
    if isinstance(spec, BaseDistribution):
        return spec
    if not isinstance(spec, Mapping):
        raise UserError(
            f"search space parameter {name!r}: expected a mapping such as "
            f"{{'type': 'float', 'low': 0, 'high': 1}}, got {spec!r}"
        )
    kind = spec.get("type")
    if kind not in _SPEC_TYPES:
        raise UserError(f"search space parameter {name!r}: 'type' is {kind!r}; allowed: {', '.join(_SPEC_TYPES)}")
    kwargs = {key: value for key, value in spec.items() if key != "type"}
    if kind == "categorical":
        allowed = {"choices"}
    else:
        allowed = {"low", "high", "log", "step"}
    unknown = set(kwargs) - allowed
    if unknown:
        raise UserError(
            f"search space parameter {name!r}: unknown key(s) {sorted(unknown)} for type "
            f"{kind!r}; allowed: {sorted(allowed)}"
        )
    if kind == "categorical":
        choices = kwargs.get("choices")
        if not isinstance(choices, (list, tuple)):
            raise UserError(f"search space parameter {name!r}: 'choices' must be a non-empty list, got {choices!r}")
        kwargs["choices"] = tuple(choices)
    else:
        for key in ("low", "high"):
            if key not in kwargs:
                raise UserError(f"search space parameter {name!r}: missing {key!r}")
        for key in ("low", "high", "step"):
            if kwargs.get(key) is not None:
                kwargs[key] = _number(name, key, kwargs[key])
        if kind == "int":
            for key in ("low", "high", "step"):
                value = kwargs.get(key)
                if value is not None and float(value) != int(value):
                    raise UserError(
                        f"search space parameter {name!r}: {key!r} must be an integer for type 'int', got {value!r}"
                    )
                if value is not None:
                    kwargs[key] = int(value)
        elif kwargs.get("step") is not None:
            kwargs["step"] = float(kwargs["step"])
    try:
        return _SPEC_TYPES[kind](**kwargs)
    except (ValueError, TypeError) as err:
        raise UserError(f"search space parameter {name!r}: {err}") from None


def _number(name: str, key: str, value: Any) -> int | float:
    # YAML 1.1 reads "1.0e3" (no exponent sign) as a string: accept numeric strings.
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UserError(f"search space parameter {name!r}: {key!r} must be a number, got {value!r}")
    return value


def as_space(space: Mapping[str, Any]) -> Space:
    """Validate a search space and return it as ``{name: optuna distribution}``.

    Values may be Optuna distributions or their dict form (see ``load_space``). Raises
    ``UserError`` (a ``ValueError``) naming the parameter and the problem.
    """
    if not isinstance(space, Mapping):
        raise UserError(f"space must be a mapping of names to distributions, got {type(space).__name__}")
    if not space:
        raise UserError("space is empty: give at least one parameter")
    result: Space = {}
    for name, spec in space.items():
        if not isinstance(name, str) or not name:
            raise UserError(f"search space parameter names must be non-empty strings, got {name!r}")
        dist = distribution_from_spec(name, spec)
        _check_distribution(name, dist)
        result[name] = dist
    return result


def _check_distribution(name: str, dist: BaseDistribution) -> None:
    # Optuna's constructors validate bounds; what remains is what they allow but we cannot
    # encode (an empty categorical cannot be built at all; non-finite bounds can).
    if isinstance(dist, (FloatDistribution, IntDistribution)):
        if not (math.isfinite(dist.low) and math.isfinite(dist.high)):
            raise UserError(
                f"search space parameter {name!r}: bounds must be finite, got low={dist.low}, high={dist.high}"
            )
    elif not isinstance(dist, CategoricalDistribution):
        raise UserError(
            f"search space parameter {name!r}: unsupported distribution "
            f"{type(dist).__name__}; use FloatDistribution, IntDistribution or "
            "CategoricalDistribution"
        )


def load_space(path: str | Path) -> Space:
    """Read a search-space file (``.json``, ``.yaml`` or ``.yml``).

    The file maps each parameter name to a mapping with ``type`` (``float``, ``int`` or
    ``categorical``) and the keyword arguments of the Optuna distribution::

        C:      {type: float, low: 1.0e-3, high: 1.0e3, log: true}
        degree: {type: int, low: 2, high: 5}
        kernel: {type: categorical, choices: [rbf, poly]}
    """
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as err:
        raise UserError(f"search space file {str(path)!r}: cannot read it ({err.strerror})") from None
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        elif path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            raise UserError(
                f"search space file {str(path)!r}: unknown extension {path.suffix!r}; allowed: .json, .yaml, .yml"
            )
    except UserError:
        raise
    except Exception as err:  # json.JSONDecodeError, yaml.YAMLError
        first_line = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise UserError(f"search space file {str(path)!r}: not valid: {first_line}") from None
    if not isinstance(data, Mapping):
        raise UserError(
            f"search space file {str(path)!r}: the top level must map parameter names to "
            f"specs, got {type(data).__name__}"
        )
    return as_space(data)


class SpaceEncoder:
    """Maps configurations of a search space to and from the box [-1, 1]^d.

    ``names`` fixes the coordinate order (the order of the space). See the module
    docstring for the encoding of each distribution type.
    """

    def __init__(self, space: Mapping[str, Any]):
        self.space: Space = as_space(space)
        self.names: list[str] = list(self.space)

    @property
    def dim(self) -> int:
        return len(self.names)

    @property
    def categorical(self) -> np.ndarray:
        """Which coordinates are categorical (their bins have no order)."""
        return np.array([isinstance(self.space[name], CategoricalDistribution) for name in self.names], dtype=bool)

    def encode(self, params: Mapping[str, Any]) -> np.ndarray:
        """Encode a configuration into a float64 vector of [-1, 1]^d."""
        missing = [name for name in self.names if name not in params]
        if missing:
            raise UserError(f"params: missing parameter(s) {missing}")
        return np.array(
            [_encode_one(name, self.space[name], params[name]) for name in self.names],
            dtype=np.float64,
        )

    def decode(self, x: Sequence[float] | np.ndarray) -> dict[str, Any]:
        """Decode any point (clipped to the box) into a valid configuration.

        Values are plain Python ``float``/``int``/choice objects, as Optuna expects.
        """
        x = np.asarray(x, dtype=np.float64).reshape(-1)
        if x.shape[0] != self.dim:
            raise UserError(f"x: expected {self.dim} coordinates, got {x.shape[0]}")
        if not np.all(np.isfinite(x)):
            bad = [self.names[i] for i in np.flatnonzero(~np.isfinite(x))]
            raise UserError(f"x: non-finite coordinate(s) for {bad}")
        x = np.clip(x, -1.0, 1.0)
        return {name: _decode_one(self.space[name], float(xi)) for name, xi in zip(self.names, x)}

    def snap(self, points: np.ndarray) -> np.ndarray:
        """``encode(decode(x))`` for every row of ``points`` (n, d), vectorized: each point
        moved onto the encoding of the configuration it decodes to (grid points of integer,
        step and categorical parameters; continuous coordinates are only clipped). A search
        that scores candidates at their snapped points scores what will actually run."""
        x = np.clip(np.asarray(points, dtype=np.float64).reshape(-1, self.dim), -1.0, 1.0).copy()
        for j, name in enumerate(self.names):
            x[:, j] = _snap_one(self.space[name], x[:, j])
        return x

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` uniform points of the box (for warm-up designs)."""
        return rng.uniform(-1.0, 1.0, size=(n, self.dim))


def _to_unit(t: float, lo: float, hi: float) -> float:
    if hi == lo:
        return 0.0
    return 2.0 * (t - lo) / (hi - lo) - 1.0


def _from_unit(x: float, lo: float, hi: float) -> float:
    return lo + (x + 1.0) * 0.5 * (hi - lo)


def _grid_size(dist: FloatDistribution | IntDistribution) -> int:
    """Index of the last grid point ``low + k*step`` (Optuna adjusts ``high`` onto the grid)."""
    return int(round((dist.high - dist.low) / dist.step))


def _encode_one(name: str, dist: BaseDistribution, value: Any) -> float:
    if isinstance(dist, CategoricalDistribution):
        # An exact-type match first: 0 == False and 1 == True, so choices (0, False) would
        # both encode as the first one through list.index (Optuna's to_internal_repr).
        index = next((i for i, c in enumerate(dist.choices) if type(c) is type(value) and c == value), None)
        if index is None:
            try:
                index = dist.to_internal_repr(value)
            except ValueError:
                raise UserError(f"params[{name!r}]: {value!r} is not one of {list(dist.choices)}") from None
        m = len(dist.choices)
        return -1.0 + (2.0 * index + 1.0) / m
    value = float(value)
    if not dist.low <= value <= dist.high:
        raise UserError(f"params[{name!r}]: {value} is outside [{dist.low}, {dist.high}]")
    if dist.log:
        return _to_unit(math.log(value), math.log(dist.low), math.log(dist.high))
    if isinstance(dist, IntDistribution) or dist.step is not None:
        k_max = _grid_size(dist)
        k = round((value - dist.low) / dist.step)
        return _to_unit(float(k), 0.0, float(k_max))
    return _to_unit(value, dist.low, dist.high)


def _decode_one(dist: BaseDistribution, x: float) -> Any:
    if isinstance(dist, CategoricalDistribution):
        m = len(dist.choices)
        index = min(int((x + 1.0) * 0.5 * m), m - 1)
        return dist.choices[index]
    if dist.log:
        value = math.exp(_from_unit(x, math.log(dist.low), math.log(dist.high)))
        if isinstance(dist, IntDistribution):
            value = round(value)
        value = min(max(value, dist.low), dist.high)
        return int(value) if isinstance(dist, IntDistribution) else float(value)
    if isinstance(dist, IntDistribution) or dist.step is not None:
        k = round(_from_unit(x, 0.0, float(_grid_size(dist))))
        if isinstance(dist, IntDistribution):
            return int(dist.low + k * dist.step)
        # Same grid formula as Optuna's samplers, so values coincide with theirs.
        return float(min(dist.low + k * dist.step, dist.high))
    return float(min(max(_from_unit(x, dist.low, dist.high), dist.low), dist.high))


def _snap_one(dist: BaseDistribution, x: np.ndarray) -> np.ndarray:
    """``_encode_one(_decode_one(x))`` for an array of coordinates (see ``SpaceEncoder.snap``)."""
    if isinstance(dist, CategoricalDistribution):
        m = len(dist.choices)
        index = np.minimum(np.floor((x + 1.0) * 0.5 * m), m - 1)
        return -1.0 + (2.0 * index + 1.0) / m
    if dist.high == dist.low:
        return np.zeros_like(x)
    if dist.log:
        if not isinstance(dist, IntDistribution):
            return x
        lo, hi = math.log(dist.low), math.log(dist.high)
        value = np.clip(np.round(np.exp(lo + (x + 1.0) * 0.5 * (hi - lo))), dist.low, dist.high)
        return 2.0 * (np.log(value) - lo) / (hi - lo) - 1.0
    if isinstance(dist, IntDistribution) or dist.step is not None:
        k_max = _grid_size(dist)
        if k_max == 0:  # a step larger than the range: one grid point
            return np.zeros_like(x)
        k = np.round((x + 1.0) * 0.5 * k_max)
        return 2.0 * k / k_max - 1.0
    return x
