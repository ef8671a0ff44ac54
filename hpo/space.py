"""Search spaces: Optuna distributions, their validation, files, and the unit-box encoding.

A search space is a mapping from parameter names to Optuna distributions
(``FloatDistribution``, ``IntDistribution``, ``CategoricalDistribution``). This module
adds three things on top of Optuna's types:

* ``as_space`` validates a space and also accepts the plain-dict form used by
  search-space files (``{"C": {"type": "float", "low": 1e-3, "high": 1e3, "log": true}}``);
* ``load_space`` reads such a file (JSON or YAML);
* ``SpaceEncoder`` maps configurations to and from the box [-1, 1]^d, one coordinate per
  parameter, so that any continuous optimizer (SAC, CMA-ES, pymoo) can search any space.

Conditional parameters: a parameter with ``when: {parent: value}`` (or a list of values) is
active only in trials where every named parent is active and took one of the values; an
inactive parameter is not suggested at all, so it is absent from the trial, as in Optuna's
define-by-run. ``as_space`` returns a ``SearchSpace``, a dict of distributions that also holds
the conditions; ``suggest`` fills a trial with the active parameters, parents first.

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
import numbers
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
from hpo.validation import short_repr


class SearchSpace(dict):
    """``{name: optuna distribution}`` plus ``conditions``: ``{child: {parent: allowed values}}``
    for the conditional parameters. Parents come before their children in the order."""

    def __init__(self, *args, conditions: Mapping[str, Mapping[str, tuple]] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.conditions: dict[str, dict[str, tuple]] = {k: dict(v) for k, v in (conditions or {}).items()}

    def active(self, name: str, params: Mapping[str, Any]) -> bool:
        """Whether ``name`` is active given the values of its parents in ``params``."""
        return all(
            parent in params and _one_of(params[parent], allowed)
            for parent, allowed in self.conditions.get(name, {}).items()
        )


Space = SearchSpace


def _one_of(value: Any, allowed: tuple) -> bool:
    # Exact types for strings and booleans (True == 1 must not match), equality for numbers.
    def same(a, b) -> bool:
        if isinstance(a, (bool, str)) or isinstance(b, (bool, str)):
            return type(a) is type(b) and a == b
        return a == b

    return any(same(value, choice) for choice in allowed)


def when(distribution: BaseDistribution | Mapping[str, Any], **parents: Any) -> dict[str, Any]:
    """A conditional parameter for a Python space: ``when(IntDistribution(2, 5), kernel="poly")``
    is active only where ``kernel`` is ``"poly"`` (a list of values allows any of them)."""
    return {"distribution": distribution, "when": parents}


def suggest(trial, space: Mapping[str, BaseDistribution]) -> dict[str, Any]:
    """Suggest every active parameter of ``space`` on the Optuna ``trial`` (parents first);
    returns the suggested values."""
    params: dict[str, Any] = {}
    conditional = isinstance(space, SearchSpace)  # a plain mapping has no conditions
    for name, distribution in space.items():
        if not conditional or space.active(name, params):
            params[name] = trial._suggest(name, distribution)
    return params


# Limits of a search-space file: it may come from someone else, and parsing it must stay cheap.
MAX_SPACE_FILE_BYTES = 1 << 20
MAX_PARAMETERS = 1000
MAX_CHOICES = 10_000
MAX_SPACE_VALUES = 50_000  # YAML nodes (names, keys, values, choices) in one space file
MAX_EXACT_INT = 2**53
MAX_GRID_POINTS = 2**53

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
    kwargs = {key: value for key, value in spec.items() if key not in ("type", "when")}
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
        if len(choices) > MAX_CHOICES:
            raise UserError(
                f"search space parameter {name!r}: {len(choices)} choices; at most {MAX_CHOICES} are allowed"
            )
        for choice in choices:
            _check_choice(name, choice)
        kwargs["choices"] = tuple(choices)
    else:
        for key in ("low", "high"):
            if kwargs.get(key) is None:
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
                    kwargs[key] = _exact_int(name, key, int(value))
        elif kwargs.get("step") is not None:
            kwargs["step"] = float(kwargs["step"])
        _check_grid(name, kwargs)
    try:
        return _SPEC_TYPES[kind](**kwargs)
    except (ValueError, TypeError, ArithmeticError) as err:
        raise UserError(f"search space parameter {name!r}: {err}") from None


def _check_choice(name: str, choice: Any) -> None:
    # Optuna stores choices as JSON scalars; a NaN choice never equals itself, so it could not be encoded.
    scalar = choice is None or isinstance(choice, (bool, int, float, str))
    if not scalar or (isinstance(choice, float) and not math.isfinite(choice)):
        raise UserError(
            f"search space parameter {name!r}: choice {short_repr(choice)} is not allowed; "
            "choices must be strings, finite numbers, booleans or null"
        )


def _check_grid(name: str, kwargs: Mapping[str, Any]) -> None:
    """Refuse a grid ``low + k*step`` with more points than a float64 counts exactly (the encoder's k)."""
    step = kwargs.get("step")
    if step is None or not step > 0 or kwargs["high"] < kwargs["low"]:
        return  # no grid, or Optuna refuses the bounds with its own message
    points = (kwargs["high"] - kwargs["low"]) / step
    if not points <= MAX_GRID_POINTS:
        raise UserError(
            f"search space parameter {name!r}: step {step!r} cuts [{kwargs['low']}, {kwargs['high']}] into "
            f"more than {MAX_GRID_POINTS:.0e} grid points; use a larger step, or no step for a continuous range"
        )


def _number(name: str, key: str, value: Any) -> int | float:
    # YAML 1.1 reads "1.0e3" (no exponent sign) as a string: accept numeric strings.
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UserError(f"search space parameter {name!r}: {key!r} must be a number, got {short_repr(value)}")
    if isinstance(value, int):
        return _exact_int(name, key, value)
    if not math.isfinite(value):
        raise UserError(f"search space parameter {name!r}: {key!r} must be a finite number, got {value!r}")
    return value


def _exact_int(name: str, key: str, value: int) -> int:
    # Bounds go through float64 (Optuna, the encoder): an integer beyond 2**53 is not kept exactly.
    if abs(value) > MAX_EXACT_INT:
        raise UserError(
            f"search space parameter {name!r}: {key!r} = {short_repr(value)} is beyond +-2**53, "
            "the largest integer a float64 holds exactly"
        )
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
    result = SearchSpace(conditions=getattr(space, "conditions", None))
    for name, spec in space.items():
        if not isinstance(name, str) or not name:
            raise UserError(f"search space parameter names must be non-empty strings, got {name!r}")
        if isinstance(spec, Mapping) and "distribution" in spec:  # the form made by ``when``
            unknown = set(spec) - {"distribution", "when"}
            if unknown:
                raise UserError(f"search space parameter {name!r}: unknown key(s) {sorted(unknown)}")
            condition, spec = spec.get("when"), spec["distribution"]
        else:
            condition = spec.get("when") if isinstance(spec, Mapping) else None
        dist = distribution_from_spec(name, spec)
        _check_distribution(name, dist)
        if condition is not None:
            result.conditions[name] = _parse_condition(name, condition, result)
        result[name] = dist
    return result


def _parse_condition(name: str, condition: Any, earlier: Mapping[str, BaseDistribution]) -> dict[str, tuple]:
    """``{parent: value or [values]}`` checked against the parameters defined before ``name``."""
    if not isinstance(condition, Mapping) or not condition:
        raise UserError(
            f"search space parameter {name!r}: 'when' must map parent parameter names to values, got {condition!r}"
        )
    parsed = {}
    for parent, values in condition.items():
        if parent not in earlier:
            raise UserError(
                f"search space parameter {name!r}: 'when' names {parent!r}, which is not a parameter defined "
                f"before {name!r}; defined before: {list(earlier) or 'none'}"
            )
        values = tuple(values) if isinstance(values, (list, tuple)) else (values,)
        if not values:
            raise UserError(f"search space parameter {name!r}: 'when' gives no value for {parent!r}")
        dist = earlier[parent]
        for value in values:
            if not _allows(dist, value):
                raise UserError(
                    f"search space parameter {name!r}: 'when' value {value!r} for {parent!r} is not a value "
                    f"{parent!r} can take ({_describe(dist)})"
                )
        parsed[parent] = values
    return parsed


def check_configs(name: str, configs: Any, space: Mapping[str, BaseDistribution] | None = None) -> list[dict[str, Any]]:
    """``configs`` as a list of dicts; with ``space``, each names parameters of it with
    values it allows. Errors name ``name`` and the index of the configuration."""
    if isinstance(configs, (Mapping, str, bytes)) or not isinstance(configs, Sequence):
        raise UserError(f"{name} must be a list of dicts of parameter values, got {short_repr(configs)}")
    checked = []
    for index, config in enumerate(configs):
        if not isinstance(config, Mapping):
            raise UserError(f"{name}[{index}] must be a dict of parameter values, got {short_repr(config)}")
        for param, value in config.items():
            if space and param not in space:
                raise UserError(f"{name}[{index}]: {param!r} is not a parameter of the space {list(space)}")
            if space and not _allows(space[param], value):
                raise UserError(f"{name}[{index}]: {param}={value!r} is outside {space[param]}")
        checked.append(dict(config))
    return checked


def _allows(dist: BaseDistribution, value: Any) -> bool:
    """Whether ``value`` is one ``dist`` can take: a choice (exact type for strings and
    booleans), or a number in its range on its step."""
    if isinstance(dist, CategoricalDistribution):
        return _one_of(value, tuple(dist.choices))
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        return False
    return dist._contains(dist.to_internal_repr(value))


def _describe(dist: BaseDistribution) -> str:
    if isinstance(dist, CategoricalDistribution):
        return f"choices {list(dist.choices)}"
    return f"[{dist.low}, {dist.high}]"


def _check_distribution(name: str, dist: BaseDistribution) -> None:
    # Optuna's constructors validate bounds; what remains is what they allow but we cannot
    # encode (an empty categorical cannot be built at all; non-finite bounds can).
    if isinstance(dist, (FloatDistribution, IntDistribution)):
        if not (math.isfinite(dist.low) and math.isfinite(dist.high)):
            raise UserError(
                f"search space parameter {name!r}: bounds must be finite, got low={dist.low}, high={dist.high}"
            )
        if not math.isfinite(float(dist.high) - float(dist.low)):  # the encoder's affine map needs the width
            raise UserError(
                f"search space parameter {name!r}: the range [{dist.low}, {dist.high}] is wider than a float64 holds"
            )
    elif not isinstance(dist, CategoricalDistribution):
        raise UserError(
            f"search space parameter {name!r}: unsupported distribution "
            f"{type(dist).__name__}; use FloatDistribution, IntDistribution or "
            "CategoricalDistribution"
        )


def load_space(path: str | Path) -> Space:
    """Read a search-space file (``.json``, ``.yaml`` or ``.yml``, UTF-8).

    The file maps each parameter name to a mapping with ``type`` (``float``, ``int`` or
    ``categorical``) and the keyword arguments of the Optuna distribution::

        C:      {type: float, low: 1.0e-3, high: 1.0e3, log: true}
        degree: {type: int, low: 2, high: 5}
        kernel: {type: categorical, choices: [rbf, poly]}
        degree: {type: int, low: 2, high: 5, when: {kernel: poly}}   # only where kernel is poly

    A file may come from someone else, so reading it is bounded: at most
    ``MAX_SPACE_FILE_BYTES``, ``MAX_SPACE_VALUES`` YAML values in all, ``MAX_PARAMETERS``
    parameters and ``MAX_CHOICES`` choices each,
    scalar choices, finite bounds, no YAML aliases or tags beyond plain data. Every problem is a
    one-line ``UserError`` naming the file.
    """
    path = Path(path)
    where = f"search space file {str(path)!r}"
    suffix = path.suffix.lower()
    if suffix not in (".json", ".yaml", ".yml"):
        raise UserError(f"{where}: unknown extension {path.suffix!r}; allowed: .json, .yaml, .yml")
    text = _read_text(path, where)
    try:
        data = json.loads(text) if suffix == ".json" else _load_yaml(text)
    except Exception as err:  # json.JSONDecodeError, yaml.YAMLError, RecursionError (nesting), int digit limits
        raise UserError(f"{where}: not valid: {_parse_error(err)}") from None
    if not isinstance(data, Mapping):
        raise UserError(f"{where}: the top level must map parameter names to specs, got {type(data).__name__}")
    if len(data) > MAX_PARAMETERS:
        raise UserError(f"{where}: {len(data)} parameters; at most {MAX_PARAMETERS} are allowed")
    try:
        return as_space(data)
    except UserError as err:
        raise UserError(f"{where}: {err}") from None


def _read_text(path: Path, where: str) -> str:
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_SPACE_FILE_BYTES + 1)  # never more, whatever the file claims
    except OSError as err:
        raise UserError(f"{where}: cannot read it ({err.strerror})") from None
    if len(raw) > MAX_SPACE_FILE_BYTES:
        raise UserError(f"{where}: larger than {MAX_SPACE_FILE_BYTES} bytes, the limit for a search space")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise UserError(
            f"{where}: not UTF-8 text (byte 0x{raw[err.start]:02x} at offset {err.start}); save it as UTF-8"
        ) from None


def _load_yaml(text: str) -> Any:
    """``yaml.safe_load`` without aliases (a few nested aliases expand into gigabytes) and
    with at most ``MAX_SPACE_VALUES`` nodes: PyYAML builds about 800 bytes per node, so a
    1 MiB file of half a million choices took 23 s and 430 MB before the choices were counted."""
    import yaml

    class NoAliasLoader(yaml.SafeLoader):
        nodes = 0

        def compose_node(self, parent, index):
            event = self.peek_event()
            if isinstance(event, yaml.AliasEvent):
                raise yaml.composer.ComposerError(
                    None, None, f"YAML aliases (*{event.anchor}) are not allowed in a search space", event.start_mark
                )
            self.nodes += 1
            if self.nodes > MAX_SPACE_VALUES:
                raise yaml.composer.ComposerError(
                    None, None, f"more than {MAX_SPACE_VALUES} values in a search space", event.start_mark
                )
            return super().compose_node(parent, index)

    loader = NoAliasLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _parse_error(err: Exception) -> str:
    problem = getattr(err, "problem", None)  # yaml.MarkedYAMLError: the problem and where it is
    mark = getattr(err, "problem_mark", None)
    if problem and mark is not None:
        return f"{problem} (line {mark.line + 1}, column {mark.column + 1})"
    if isinstance(err, RecursionError):
        return "nested too deeply"
    text = str(err).strip()
    return " ".join(text.splitlines()[0].split()) if text else type(err).__name__


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

    def encode(self, params: Mapping[str, Any], *, inactive_missing: bool = False) -> np.ndarray:
        """Encode a configuration into a float64 vector of [-1, 1]^d.

        ``inactive_missing=True``: a parameter absent from ``params`` is an inactive
        conditional one and encodes to 0, the centre (``active_mask`` tells which);
        otherwise a missing parameter is an error."""
        missing = [name for name in self.names if name not in params]
        if missing and not inactive_missing:
            raise UserError(f"params: missing parameter(s) {missing}")
        return np.array(
            [_encode_one(name, self.space[name], params[name]) if name in params else 0.0 for name in self.names],
            dtype=np.float64,
        )

    def active_mask(self, params: Mapping[str, Any]) -> np.ndarray:
        """Which coordinates ``params`` sets (the active parameters)."""
        return np.array([name in params for name in self.names], dtype=bool)

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
