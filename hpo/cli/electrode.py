"""``hpo electrode``: manufacturing model -> PyBaMM P2D -> Sobol dataset -> surrogate -> Pareto.

Sub-commands: ``simulate`` (one design), ``dataset`` (Sobol design, resumable), ``fit``
(cross-validated surrogate selection), ``pareto`` (front over the surrogate, validated with
P2D), ``design`` (inverse design). Heavy imports (pybamm, sklearn, pymoo) stay inside the
functions so that ``hpo --help`` stays fast. Numbers are parsed here, not by argparse, so
that a bad value gives the one-line error ``hpo: error: <parameter> ...``.
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
from pathlib import Path

from hpo.errors import UserError
from hpo.validation import SEED_MAX, short_repr


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "electrode",
        help="electrode manufacturing: P2D simulation, dataset, surrogate, Pareto front, inverse design",
        description="Bi-objective (energy vs power) optimization of cathode manufacturing: "
        "process parameters (AM mass fraction, slurry solid content, calendering degree) -> "
        "analytic microstructure -> PyBaMM DFN -> surrogate -> pymoo.",
    )
    parser.set_defaults(func=lambda args: _print_help(parser))
    commands = parser.add_subparsers(dest="electrode_command", metavar="SUBCOMMAND")

    simulate = commands.add_parser("simulate", help="simulate one design with the P2D model")
    _add_process_options(simulate, required=True)
    simulate.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    _add_points_option(simulate)
    _add_coefficient_option(simulate)
    simulate.set_defaults(func=_simulate)

    dataset = commands.add_parser("dataset", help="simulate a scrambled Sobol design into a CSV (resumable)")
    dataset.add_argument("--n", default="1024", help="number of designs (default 1024; powers of 2 balance Sobol best)")
    dataset.add_argument("--seed", default="0", help="Sobol scrambling seed (default 0)")
    dataset.add_argument(
        "--out", required=True, help="CSV file to create or resume (a JSON sidecar is written beside it)"
    )
    dataset.add_argument("--workers", default="1", help="worker processes (default 1)")
    dataset.add_argument(
        "--dask",
        default=None,
        metavar="ADDRESS",
        help="run the simulations on this Dask scheduler (tcp://host:8786) instead",
    )
    _add_points_option(dataset)
    _add_coefficient_option(dataset)
    dataset.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    dataset.set_defaults(func=_dataset)

    fit = commands.add_parser("fit", help="compare surrogate regressors by k-fold CV and select the best per objective")
    _add_data_option(fit)
    fit.add_argument("--folds", default="5", help="number of cross-validation folds (default 5)")
    fit.add_argument("--seed", default="0", help="seed of the fold split and the models (default 0)")
    fit.add_argument(
        "--out",
        help="write the comparison, selection and GP hyperparameters as JSON here "
        "(default with --data: DATA.selection.json beside it, the cache pareto/design read)",
    )
    fit.set_defaults(func=_fit)

    pareto = commands.add_parser(
        "pareto", help="Pareto front over the surrogate, validated with P2D; writes front.csv/png, validation.csv"
    )
    _add_data_option(pareto)
    pareto.add_argument("--out", required=True, help="output directory")
    pareto.add_argument("--algorithm", default="nsga2", help="pymoo algorithm: nsga2 (default), smsemoa or moead")
    pareto.add_argument("--evaluations", default="4000", help="surrogate evaluations budget (default 4000)")
    pareto.add_argument(
        "--validate",
        default="12",
        help="front points re-simulated with P2D (default 12, at least 10 recommended; 0 skips)",
    )
    pareto.add_argument("--seed", default="0", help="seed of the optimizer and the surrogate (default 0)")
    _add_domain_option(pareto)
    pareto.add_argument(
        "--band",
        default="8",
        help="bootstrap members of the manufacturing relations re-simulated at the validated points "
        "for the uncertainty band (default 8; 0 skips)",
    )
    _add_points_option(pareto, from_dataset=True)
    pareto.set_defaults(func=_pareto)

    design = commands.add_parser(
        "design", help="inverse design: maximize one objective subject to a floor on the other"
    )
    _add_data_option(design)
    design.add_argument("--maximize", default="power", help="objective to maximize: power (default) or energy")
    design.add_argument("--min-energy", help="floor on the C/5 specific energy [Wh/kg] (with --maximize power)")
    design.add_argument("--min-power", help="floor on the 3C specific energy [Wh/kg] (with --maximize energy)")
    design.add_argument("--seed", default="0", help="optimizer seed (default 0)")
    design.add_argument("--no-verify", action="store_true", help="skip the P2D verification of the optimum")
    design.add_argument(
        "--margin",
        default="0.01",
        help="relative margin above the floor imposed on the surrogate (default 0.01, i.e. 1 %%)",
    )
    design.add_argument(
        "--fine-points",
        help="cathode mesh points of the second P2D verification (default: twice the dataset's)",
    )
    _add_domain_option(design)
    design.add_argument("--json", action="store_true", help="print one JSON object")
    _add_points_option(design, from_dataset=True)
    design.set_defaults(func=_design)


# -- option helpers ----------------------------------------------------------------------------
def _add_process_options(parser: argparse.ArgumentParser, required: bool) -> None:
    from surrogates.manufacturing import PROCESS_BOUNDS, PROCESS_DESCRIPTIONS

    for name in ("am", "sc", "cd"):
        low, high = PROCESS_BOUNDS[name]
        parser.add_argument(f"--{name}", required=required, help=f"{PROCESS_DESCRIPTIONS[name]}, {low}-{high}")


def _add_points_option(parser: argparse.ArgumentParser, from_dataset: bool = False) -> None:
    if from_dataset:
        parser.add_argument(
            "--points",
            help="P2D mesh points across the cathode for the re-simulations (default: the dataset's, from its JSON "
            "sidecar)",
        )
    else:
        parser.add_argument(
            "--points",
            default="20",
            help="P2D mesh points across the cathode (default 20, from the mesh study; the anode, separator and "
            "particles keep theirs)",
        )


def _add_domain_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--domain",
        default="calibrated",
        help="calibrated (default: designs inside the calibration data of the manufacturing relations) "
        "or full (the whole process box; points outside are flagged 'extrapolated')",
    )


def _add_coefficient_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--coefficient",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a manufacturing-model coefficient (repeatable), e.g. "
        "dry_porosity_sc_slope=0.2; names: see surrogates.manufacturing.ManufacturingCoefficients",
    )


def _coefficients(args):
    from surrogates.manufacturing import DEFAULT_COEFFICIENTS

    overrides = {}
    for item in args.coefficient:
        name, sep, raw = item.partition("=")
        if not sep or not name.strip():
            raise UserError(f"--coefficient {short_repr(item)} must look like NAME=VALUE")
        overrides[name.strip()] = _real(raw, f"coefficient {name.strip()}")
    coefficients = DEFAULT_COEFFICIENTS.with_overrides(**overrides)
    if overrides:
        _check_manufacturable(coefficients, args.coefficient)
    return coefficients


def _check_manufacturable(coefficients, given: list[str]) -> None:
    """Refuse coefficients whose model breaks down (an error, or a property that is not a finite
    real) at a corner of the process box, before a simulation or a long dataset run meets it."""
    import itertools

    from surrogates.manufacturing import PROCESS_BOUNDS, PROCESS_NAMES, ProcessParameters, manufacture

    for corner in itertools.product(*(PROCESS_BOUNDS[name] for name in PROCESS_NAMES)):
        try:
            properties = manufacture(ProcessParameters(*corner), coefficients).as_dict()
        except (ArithmeticError, TypeError, ValueError) as err:
            problem = f"{type(err).__name__}: {' '.join(str(err).split())[:200]}"
        else:
            bad = [k for k, v in properties.items() if not (isinstance(v, float | int) and math.isfinite(v))]
            if not bad:
                continue
            problem = f"{bad[0]} = {properties[bad[0]]}"
        design = ", ".join(f"{name} {value}" for name, value in zip(PROCESS_NAMES, corner))
        raise UserError(
            f"--coefficient {' '.join(given)}: the manufacturing model breaks down at the design ({design}): "
            f"{problem}; give values nearer the defaults"
        )


def _add_data_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", help="dataset CSV (default: the dataset shipped in the package)")


def _print_help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _integer(value, name: str, low: int, high: int | None = None) -> int:
    try:
        number = int(str(value))
    except ValueError:  # also an integer of more than 4300 digits (Python's limit)
        raise UserError(f"--{name} must be an integer, got {short_repr(value)}") from None
    if number < low or (high is not None and number > high):
        allowed = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise UserError(f"--{name} = {short_repr(number)} must be {allowed}")
    return number


def _real(value, name: str, low: float = -math.inf, high: float = math.inf) -> float:
    try:
        number = float(str(value))
    except ValueError:
        raise UserError(f"--{name} must be a number, got {short_repr(value)}") from None
    if not (math.isfinite(number) and low <= number <= high):
        allowed = "" if (low, high) == (-math.inf, math.inf) else f" in [{low}, {high}]"
        raise UserError(f"--{name} = {short_repr(value)} must be a finite number{allowed}")
    return number


def _choice(value: str, name: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise UserError(f"--{name} = {short_repr(value)} must be one of {', '.join(allowed)}")
    return value


def _p2d_settings(args):
    from surrogates.dataset import MESH_POINTS
    from surrogates.p2d import P2DSettings

    return P2DSettings(positive_points=_integer(args.points, "points", *MESH_POINTS))


def _dataset_config(args):
    """The dataset's own simulation settings, with ``--points`` applied when given."""
    import dataclasses

    from surrogates.dataset import MESH_POINTS, SHIPPED_DATASET, load_config

    config = load_config(args.data or SHIPPED_DATASET)
    if args.points is not None:
        points = _integer(args.points, "points", *MESH_POINTS)
        config = dataclasses.replace(config, p2d=config.p2d.with_overrides(positive_points=points))
    return config


def _load(args, needs_surrogate: bool = False):
    from surrogates.dataset import SHIPPED_DATASET, ok_rows, read_dataset

    if args.data and not Path(args.data).is_file():
        raise UserError(f"--data {args.data!r} is not a file")
    frame = read_dataset(args.data or SHIPPED_DATASET)
    if len(ok_rows(frame)) < 20:
        raise UserError(f"--data {args.data!r} has {len(ok_rows(frame))} successful designs; need >= 20")
    if needs_surrogate:
        from surrogates.models import find_cached_selection, selection_cache_path

        cache = selection_cache_path(args.data) if args.data else None
        if find_cached_selection(frame, cache) is None:
            print(
                f"no surrogate selection cached for this dataset ({cache}): running the "
                "cross-validation first (minutes; 'hpo electrode fit --data ...' caches it)",
                file=sys.stderr,
            )
    return frame


# -- commands ----------------------------------------------------------------------------------
def _simulate(args) -> int:
    from surrogates.dataset import domain_columns
    from surrogates.manufacturing import PROPERTY_UNITS, ProcessParameters, check_process_value, manufacture
    from surrogates.p2d import P2DModel

    values = {name: check_process_value(name, getattr(args, name)) for name in ("am", "sc", "cd")}
    settings = _p2d_settings(args)
    props = manufacture(ProcessParameters(**values), _coefficients(args))
    result = P2DModel(settings).simulate(props)
    domain = domain_columns(tuple(values.values()), props)
    record = {"process": values, "domain": domain, "properties": props.as_dict(), "p2d": result.as_dict()}
    if args.json:
        print(json.dumps(record, default=_json_number))
    else:
        for section, entries in record.items():
            print(f"[{section}]")
            for key, value in entries.items():
                text = f"{value:.6g}" if isinstance(value, float) else str(value)
                unit = PROPERTY_UNITS.get(key, "") if section == "properties" else ""
                print(f"  {key:30s} {text} {unit}".rstrip())
    return 0 if result.status == "ok" else 1


def _json_number(value):
    return float(value)


def _dataset(args) -> int:
    from surrogates.dataset import SimulationConfig, cluster_map, generate_dataset, ok_rows

    n = _integer(args.n, "n", 1, 1_000_000)
    seed = _integer(args.seed, "seed", 0, SEED_MAX)
    workers = _integer(args.workers, "workers", 1, 256)
    config = SimulationConfig(p2d=_p2d_settings(args), manufacturing=_coefficients(args))
    map_fn = cluster_map(workers, dask=args.dask)
    # The canonical command (all options explicit) is stored in the sidecar for reproduction.
    command = (
        f"hpo electrode dataset --n {n} --seed {seed} --out {shlex.quote(str(args.out))} "
        f"--workers {workers} --points {config.p2d.positive_points}"
        + "".join(f" --coefficient {shlex.quote(item)}" for item in args.coefficient)
    )
    frame = generate_dataset(args.out, n, seed, config, map_fn=map_fn, command=command, progress=not args.no_progress)
    good = len(ok_rows(frame))
    print(f"{args.out}: {len(frame)} designs, {good} ok, {len(frame) - good} failed (kept with their reason)")
    return 0


def _fit(args) -> int:
    from surrogates.models import select_surrogates

    folds = _integer(args.folds, "folds", 2, 50)
    seed = _integer(args.seed, "seed", 0, SEED_MAX)
    frame = _load(args)
    selection = select_surrogates(frame, folds=folds, seed=seed, progress=True)
    print(selection.table().to_string(index=False))
    for objective, name in selection.best.items():
        print(f"selected for {objective}: {name} (CV R^2 {selection.score(objective, name):.4f})")
    from surrogates.models import selection_cache_path

    out = args.out or (selection_cache_path(args.data) if args.data else None)
    if out:
        selection.save(out)
        print(f"wrote {out}")
    return 0


def _pareto(args) -> int:
    from surrogates.pareto import ALGORITHMS, run_pareto

    algorithm = _choice(args.algorithm, "algorithm", tuple(ALGORITHMS))
    evaluations = _integer(args.evaluations, "evaluations", 100, 1_000_000)
    validate = _integer(args.validate, "validate", 0, 1000)
    seed = _integer(args.seed, "seed", 0, SEED_MAX)
    domain = _choice(args.domain, "domain", ("calibrated", "full"))
    band = _integer(args.band, "band", 0, 1000)
    frame = _load(args, needs_surrogate=True)
    config = _dataset_config(args)
    report = run_pareto(
        frame,
        out_dir=args.out,
        algorithm=algorithm,
        evaluations=evaluations,
        validate=validate,
        seed=seed,
        config=config,
        dataset_path=args.data,
        domain=domain,
        band_members=band,
    )
    print(report.summary())
    return 0


def _design(args) -> int:
    from surrogates.dataset import MESH_POINTS
    from surrogates.design import inverse_design

    maximize = _choice(args.maximize, "maximize", ("power", "energy"))
    floor_name = "min-energy" if maximize == "power" else "min-power"
    other = "min-power" if maximize == "power" else "min-energy"
    if getattr(args, other.replace("-", "_")) is not None:
        raise UserError(f"--{other} goes with --maximize {'energy' if maximize == 'power' else 'power'}")
    raw_floor = getattr(args, floor_name.replace("-", "_"))
    if raw_floor is None:
        raise UserError(f"--{floor_name} is required with --maximize {maximize}")
    floor = _real(raw_floor, floor_name, 0.0, 2000.0)
    seed = _integer(args.seed, "seed", 0, SEED_MAX)
    margin = _real(args.margin, "margin", 0.0, 0.5)
    domain = _choice(args.domain, "domain", ("calibrated", "full"))
    fine_points = None if args.fine_points is None else _integer(args.fine_points, "fine-points", *MESH_POINTS)
    frame = _load(args, needs_surrogate=True)
    config = _dataset_config(args)
    result = inverse_design(
        frame,
        maximize=maximize,
        floor=floor,
        seed=seed,
        verify=not args.no_verify,
        config=config,
        dataset_path=args.data,
        margin=margin,
        domain=domain,
        fine_mesh_points=fine_points,
    )
    if args.json:
        print(json.dumps(result.as_dict(), default=_json_number))
    else:
        print(result.summary())
    return 0 if result.feasible else 1
