"""Sobol design over the process parameters, simulated in parallel, stored resumably as CSV.

Reliability rules (the file is the only state):

- each finished design is appended as one complete CSV line carrying its ``design_id``,
  then flushed and fsynced; a run killed mid-write leaves at most a partial last line,
  which the next run cuts off before appending;
- a resumed run skips the ids already in the file, so it never duplicates and ends with
  the same set of designs as an uninterrupted run (the design itself is deterministic:
  scrambled Sobol with a seed);
- a design that fails (invalid microstructure, solver failure) is kept with its status and
  reason and is never used as a value (:func:`ok_rows`);
- a JSON sidecar records the command, the design and the settings; resuming with other
  settings is refused rather than silently mixing two datasets.

Parallelism goes through a ``map``-like callable (``map_fn(function, jobs)`` yielding the
rows in any order: each carries its ``design_id``); :func:`cluster_map` gives one for this
process, a local process pool or a Dask cluster (``hpo.cluster``).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from hpo.errors import UserError
from hpo.io import atomic_write_text
from hpo.validation import short_repr
from surrogates.manufacturing import (
    DEFAULT_COEFFICIENTS,
    PROCESS_BOUNDS,
    PROCESS_NAMES,
    ElectrodeProperties,
    ManufacturingCoefficients,
    ProcessParameters,
    manufacture,
)
from surrogates.p2d import OBJECTIVE_COLUMNS, P2DResult, P2DSettings, StackCoefficients, renamed_columns

DATA_DIR = Path(__file__).resolve().parent / "data"
SHIPPED_DATASET = DATA_DIR / "electrode_designs.csv"
MAX_DESIGN_ID = 2**53  # ids are exact integers in a float64 (a CSV cell of -1e23 wrapped around in int64)
_BOUND_SLACK = 1e-9  # a process value written and read back in decimal

PROPERTY_COLUMNS = tuple(f.name for f in dataclasses.fields(ElectrodeProperties)) + ("bruggeman_exponent",)
RESULT_COLUMNS = tuple(f.name for f in dataclasses.fields(P2DResult))
DOMAIN_COLUMNS = ("extrapolated", "domain_violation")
COLUMNS = ("design_id",) + PROCESS_NAMES + DOMAIN_COLUMNS + RESULT_COLUMNS + PROPERTY_COLUMNS

MapFunction = Callable[[Callable, Iterable], Iterator]


def sobol_design(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` scrambled Sobol points scaled to :data:`PROCESS_BOUNDS`, with ``design_id`` 0..n-1."""
    from scipy.stats import qmc

    if n < 1:
        raise UserError(f"n (number of designs) must be >= 1, got {n}")
    sampler = qmc.Sobol(d=len(PROCESS_NAMES), scramble=True, seed=seed)
    # random_base2 keeps the balance properties when n is a power of two; otherwise take
    # the first n points of the next power of two (still low-discrepancy, same prefix).
    unit = sampler.random_base2(int(np.ceil(np.log2(n))))[:n]
    low = [PROCESS_BOUNDS[name][0] for name in PROCESS_NAMES]
    high = [PROCESS_BOUNDS[name][1] for name in PROCESS_NAMES]
    points = qmc.scale(unit, low, high)
    frame = pd.DataFrame(points, columns=list(PROCESS_NAMES))
    frame.insert(0, "design_id", np.arange(n))
    return frame


@dataclasses.dataclass(frozen=True)
class SimulationConfig:
    """Everything a worker needs to turn process parameters into a dataset row."""

    p2d: P2DSettings = P2DSettings()
    stack: StackCoefficients = StackCoefficients()
    manufacturing: ManufacturingCoefficients = DEFAULT_COEFFICIENTS

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> SimulationConfig:
        """Settings read back from a sidecar: each one must have its default's type (a finite
        number for a number), and the mesh must stay within what ``--points`` accepts."""
        parts = {"p2d": P2DSettings, "stack": StackCoefficients, "manufacturing": ManufacturingCoefficients}
        if not isinstance(values, dict):
            raise UserError(f"dataset sidecar: 'config' must be a mapping, got {type(values).__name__}")
        values = {**values, "p2d": _uniform_mesh_as_per_domain(values.get("p2d", {}))}
        config = cls(**{key: _settings(parts[key], key, values.get(key, {})) for key in parts})
        for name in MESH_FIELDS:
            if not MESH_POINTS[0] <= getattr(config.p2d, name) <= MESH_POINTS[1]:
                raise UserError(
                    f"dataset sidecar: p2d.{name} = {getattr(config.p2d, name)} must be in [{MESH_POINTS[0]}, "
                    f"{MESH_POINTS[1]}]"
                )
        return config


# Mesh points per domain that a simulation accepts (``--points``): more would take hours and gigabytes.
MESH_POINTS = (4, 200)
MESH_FIELDS = (
    "positive_points",
    "separator_points",
    "negative_points",
    "particle_points",
    "negative_particle_points",
    "refined_positive_points",
    "refined_particle_points",
)


def _uniform_mesh_as_per_domain(p2d):
    """Sidecars written before the per-domain mesh had one ``points_per_domain`` for every x-domain,
    the same particle mesh in both electrodes and no refinement: read them as exactly that."""
    if not isinstance(p2d, dict) or "points_per_domain" not in p2d:
        return p2d
    p2d = dict(p2d)
    points = p2d.pop("points_per_domain")
    p2d.update(positive_points=points, separator_points=points, negative_points=points, refine_below_retention=0.0)
    p2d.setdefault("negative_particle_points", p2d.get("particle_points", P2DSettings.particle_points))
    return p2d


def _settings(kind: type, section: str, values) -> object:
    if not isinstance(values, dict):
        raise UserError(f"dataset sidecar: {section!r} must be a mapping, got {type(values).__name__}")
    fields = {f.name: f for f in dataclasses.fields(kind)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise UserError(f"dataset sidecar has unknown {section} setting(s) {unknown}")
    for name, value in values.items():
        default = fields[name].default
        expected = (int, float) if isinstance(default, float) else type(default)
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not isinstance(value, expected) or isinstance(value, bool) != isinstance(default, bool):
            raise UserError(
                f"dataset sidecar: {section}.{name} = {short_repr(value)} must be of type {type(default).__name__}"
            )
        if number and not math.isfinite(value):
            raise UserError(f"dataset sidecar: {section}.{name} = {value!r} must be a finite number")
    return kind(**values)


def load_config(dataset_path: str | os.PathLike) -> SimulationConfig:
    """The simulation settings a dataset was made with (from its JSON sidecar).

    Re-simulating a dataset's designs (front validation, inverse design) must use these, or
    the surrogate would be compared with a different model. Defaults when there is no sidecar.
    """
    sidecar = _sidecar_path(Path(dataset_path))
    if not sidecar.exists():
        return SimulationConfig()
    try:
        return SimulationConfig.from_dict(_read_sidecar(sidecar).get("config", {}))
    except UserError as err:
        raise UserError(f"{err} ({str(sidecar)!r})") from None


def _read_sidecar(sidecar: Path) -> dict:
    try:
        data = json.loads(sidecar.read_bytes().decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as err:
        reason = " ".join(str(err).split()) if not isinstance(err, RecursionError) else "nested too deeply"
        raise UserError(f"dataset sidecar {str(sidecar)!r} is not valid JSON: {reason}") from None
    if not isinstance(data, dict):
        raise UserError(f"dataset sidecar {str(sidecar)!r}: expected a JSON object, got {type(data).__name__}")
    return data


# One model per worker process and configuration: building costs ~1 s, solving ~0.1 s.
_MODEL_CACHE: dict = {}


def _model_for(config: SimulationConfig):
    from surrogates.p2d import P2DModel

    if config not in _MODEL_CACHE:
        _MODEL_CACHE[config] = P2DModel(config.p2d, config.stack)
    return _MODEL_CACHE[config]


def simulate_design(job: tuple[int, tuple[float, ...], SimulationConfig]) -> dict:
    """Worker function: one design id + process parameters (in ``PROCESS_NAMES`` order; the
    loading may be left out) -> one complete dataset row."""
    design_id, values, config = job
    process = ProcessParameters(*values)
    row: dict = {"design_id": int(design_id), **process.as_dict()}
    props = manufacture(process, config.manufacturing)
    row.update(props.as_dict())
    row.update(domain_columns(tuple(values), props))
    try:
        result = _model_for(config).simulate(props)
    except Exception as err:  # noqa: BLE001 - one odd design must not end a long run
        # simulate() already maps solver failures to a status; anything else is unexpected,
        # so keep the design with its error rather than lose the run (never as a value).
        result = P2DResult(status="error", reason=f"{type(err).__name__}: {' '.join(str(err).split())[:300]}")
    row.update(result.as_dict())
    return row


def domain_columns(process: tuple[float, ...], props: ElectrodeProperties) -> dict:
    """``extrapolated`` (outside the calibration data) and the signed distance to their domain."""
    from surrogates.calibration import INSIDE_TOLERANCE, CalibratedDomain

    violation = CalibratedDomain().violation(process, props)
    return {"extrapolated": bool(violation > INSIDE_TOLERANCE), "domain_violation": violation}


def cluster_map(workers: int = 1, dask=None) -> MapFunction:
    """A ``map_fn`` that runs designs in this process (``workers`` 1), on a local pool of
    ``workers`` processes, or on a Dask cluster (``dask``: scheduler address or
    ``distributed.Client``), yielding rows as they finish (see ``hpo.cluster``)."""
    from hpo.cluster import completed

    def map_fn(fn, jobs):
        for _, row in completed(fn, list(jobs), workers=0 if workers <= 1 else workers, dask=dask):
            yield row

    return map_fn


def _sidecar_path(path: Path) -> Path:
    return path.with_suffix(".json")


def _csv_line(row: dict) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([_format(row.get(c, "")) for c in COLUMNS])
    return buffer.getvalue()


def _format(value) -> str:
    if isinstance(value, float):
        return repr(value)  # round-trips exactly
    return str(value)


def _drop_partial_last_line(path: Path) -> None:
    """Cut off a line left incomplete by a killed writer (no trailing newline)."""
    with open(path, "rb+") as handle:
        data = handle.read()
        if data and not data.endswith(b"\n"):
            handle.truncate(data.rfind(b"\n") + 1)


def read_dataset(path: str | os.PathLike) -> pd.DataFrame:
    """All rows of a dataset file (failed designs included), one per design id."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"dataset file {str(path)!r} does not exist")
    # "reason" is text, empty for successful designs: keep it a string column.
    try:
        frame = pd.read_csv(path, converters={"reason": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as err:  # ValueError: not UTF-8, ...
        raise UserError(f"dataset file {str(path)!r} is not a readable CSV: {' '.join(str(err).split())}") from None
    frame = frame.rename(columns=renamed_columns(frame.columns))
    missing = [c for c in ("design_id",) + PROCESS_NAMES + ("status",) if c not in frame]
    if missing:
        raise UserError(f"dataset file {str(path)!r} lacks column(s) {missing}")
    frame = _numeric_cells(frame, path)
    return frame.sort_values("design_id").reset_index(drop=True)


def _numeric_cells(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """The columns the surrogates read, as finite floats: ids (integers in [0,
    ``MAX_DESIGN_ID``], each on one line) and process parameters (inside ``PROCESS_BOUNDS``) of
    every design, objectives of the successful ones. A text, empty, NaN, infinite or
    out-of-range cell there, or a repeated id, is refused with its line, never learned from or
    scored."""
    ok = (frame["status"] == "ok").to_numpy()
    needed = [(column, np.ones(len(frame), dtype=bool)) for column in ("design_id",) + PROCESS_NAMES]
    if ok.any():
        missing = [c for c in OBJECTIVE_COLUMNS if c not in frame]
        if missing:
            raise UserError(f"dataset file {str(path)!r} has successful designs but lacks column(s) {missing}")
        needed += [(column, ok) for column in OBJECTIVE_COLUMNS]
    frame = frame.copy()
    for column, rows in needed:
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
        bad = rows & ~np.isfinite(values)
        with np.errstate(invalid="ignore"):
            if column == "design_id":
                bad |= (values != np.round(values)) | (values < 0) | (values > MAX_DESIGN_ID)
                needed_text = f"an integer in [0, {MAX_DESIGN_ID}]"
            elif column in PROCESS_BOUNDS:  # the process box the designs are drawn from
                low, high = PROCESS_BOUNDS[column]
                bad |= rows & ((values < low - _BOUND_SLACK) | (values > high + _BOUND_SLACK))
                needed_text = f"a finite number in [{low}, {high}]"
            else:
                needed_text = "a finite number"
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            cell = frame[column].iloc[first]  # an empty cell reads as nan
            shown = short_repr(cell) if isinstance(cell, str) else str(cell)
            raise UserError(
                f"dataset file {str(path)!r}, line {first + 2}: {column} is {shown}; "
                f"{needed_text} is needed there ({int(bad.sum())} such cell(s) in {column})"
            )
        frame[column] = values.astype(np.int64) if column == "design_id" else values
    repeated = frame["design_id"].duplicated(keep=False).to_numpy()
    if repeated.any():
        lines = [int(i) + 2 for i in np.flatnonzero(repeated)]
        raise UserError(
            f"dataset file {str(path)!r}: design_id {int(frame['design_id'].iloc[lines[0] - 2])} appears on lines "
            f"{', '.join(map(str, lines[:5]))}{' ...' if len(lines) > 5 else ''}; each design has one line"
        )
    return frame


def ok_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows whose simulation finished; failed designs are never used as values."""
    return frame[frame["status"] == "ok"].reset_index(drop=True)


def generate_dataset(
    path: str | os.PathLike,
    n: int,
    seed: int = 0,
    config: SimulationConfig = SimulationConfig(),
    map_fn: MapFunction | None = None,
    command: str = "",
    progress: bool = True,
) -> pd.DataFrame:
    """Simulate the ``n``-point Sobol design into ``path``, resuming what is already there.

    ``map_fn`` defaults to the builtin ``map`` (in-process, one core). Returns the dataset.
    """
    from tqdm import tqdm

    path = Path(path)
    if path.is_symlink():  # appending would write into whatever file the link names
        raise UserError(f"dataset file {str(path)!r} is a symbolic link; give the path of the file itself")
    path.parent.mkdir(parents=True, exist_ok=True)
    metadata = {
        "command": command,
        "n": n,
        "seed": seed,
        "design": f"scipy.stats.qmc.Sobol(d={len(PROCESS_NAMES)}, scramble=True, seed=seed).random_base2, scaled",
        "bounds": {name: list(PROCESS_BOUNDS[name]) for name in PROCESS_NAMES},
        "config": config.as_dict(),
        "software": _software_versions(),  # informative only, not compared on resume
    }
    _check_or_write_sidecar(path, metadata)
    if path.exists():
        _drop_partial_last_line(path)
        _check_header(path)
        done = set(read_dataset(path)["design_id"]) if path.stat().st_size > 0 else set()
    else:
        done = set()
    if not path.exists() or path.stat().st_size == 0:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(",".join(COLUMNS) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    design = sobol_design(n, seed)
    todo = [
        (int(r.design_id), tuple(float(getattr(r, name)) for name in PROCESS_NAMES), config)
        for r in design.itertuples()
        if int(r.design_id) not in done
    ]
    results = (map_fn or map)(simulate_design, todo)
    bar = tqdm(total=n, initial=n - len(todo), unit="design", disable=not progress)
    with open(path, "a", encoding="utf-8") as handle:
        for row in results:
            # One complete line per design, durable before the next one is counted.
            handle.write(_csv_line(row))
            handle.flush()
            os.fsync(handle.fileno())
            bar.update(1)
    bar.close()
    return read_dataset(path)


def _check_header(path: Path) -> None:
    """A file being resumed must have this version's columns: appended lines follow them."""
    with open(path, encoding="utf-8") as handle:
        header = handle.readline().rstrip("\n")
    if header and header != ",".join(COLUMNS):
        missing = [c for c in COLUMNS if c not in header.split(",")]
        raise UserError(
            f"dataset file {str(path)!r} has other columns than this version writes"
            + (f" (it lacks {', '.join(missing)})" if missing else "")
            + "; finish it with the version that started it, or start a new file"
        )


def _software_versions() -> dict[str, str]:
    import platform
    from importlib.metadata import version

    return {"python": platform.python_version(), "pybamm": version("pybamm"), "scipy": version("scipy")}


def _check_or_write_sidecar(path: Path, metadata: dict) -> None:
    sidecar = _sidecar_path(path)
    comparable = ("n", "seed", "bounds", "config")
    if sidecar.exists() and path.exists():
        existing = _read_sidecar(sidecar)
        # JSON turns tuples into lists: compare through a JSON round trip.
        new = json.loads(json.dumps({k: metadata[k] for k in comparable}))
        old = {k: existing.get(k) for k in comparable}
        if old != new:
            differing = [k for k in comparable if old[k] != new[k]]
            raise UserError(
                f"{str(path)!r} was made with other settings ({', '.join(differing)} differ); "
                "use another --out or delete the file to start over"
            )
        return
    atomic_write_text(sidecar, json.dumps(metadata, indent=2) + "\n")  # never a half-written sidecar
