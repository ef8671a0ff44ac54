"""``hpo electrode``: manufacturing model -> PyBaMM P2D -> Sobol dataset -> surrogate -> Pareto.

Sub-commands: ``simulate`` (one design), ``dataset`` (Sobol design, resumable), ``fit``
(cross-validated surrogate selection), ``pareto`` (front over the surrogate, validated with
P2D), ``design`` (inverse design). Heavy imports (pybamm, sklearn, pymoo) stay inside the
functions so that ``hpo --help`` stays fast. Numbers are parsed by the argument types of
``hpo.cli.args``, as in every command.
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
from pathlib import Path

from hpo.cli.args import int_in, real_in, seed
from hpo.errors import UserError
from hpo.validation import check_real, short_repr


def register(subparsers) -> None:
    from surrogates.dataset import MESH_POINTS
    from surrogates.pareto import ALGORITHMS, DOMAINS

    parser = subparsers.add_parser(
        "electrode",
        help="electrode manufacturing: P2D simulation, dataset, surrogate, Pareto front, inverse design",
        description="Bi-objective (energy at C/5 vs energy at 3C) optimization of cathode manufacturing: "
        "process parameters (AM mass fraction, slurry solid content, calendering degree, areal loading) -> "
        "analytic microstructure -> PyBaMM DFN -> surrogate -> pymoo.",
    )
    parser.set_defaults(func=lambda args: _print_help(parser))
    commands = parser.add_subparsers(dest="electrode_command", metavar="SUBCOMMAND")

    simulate = commands.add_parser("simulate", help="simulate one design with the P2D model")
    _add_process_options(simulate, required=True)
    simulate.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    _add_points_option(simulate, MESH_POINTS)
    _add_coefficient_option(simulate)
    simulate.set_defaults(func=_simulate)

    dataset = commands.add_parser("dataset", help="simulate a scrambled Sobol design into a CSV (resumable)")
    dataset.add_argument(
        "--n",
        type=int_in(1, 1_000_000),
        default=1024,
        help="number of designs (default 1024; powers of 2 balance Sobol best)",
    )
    dataset.add_argument("--seed", type=seed, default=0, help="Sobol scrambling seed (default 0)")
    dataset.add_argument(
        "--out", required=True, help="CSV file to create or resume (a JSON sidecar is written beside it)"
    )
    dataset.add_argument("--workers", type=int_in(1, 256), default=1, help="worker processes (default 1)")
    dataset.add_argument(
        "--dask",
        default=None,
        metavar="ADDRESS",
        help="run the simulations on this Dask scheduler (tcp://host:8786) instead",
    )
    _add_points_option(dataset, MESH_POINTS)
    _add_coefficient_option(dataset)
    dataset.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    dataset.set_defaults(func=_dataset)

    fit = commands.add_parser("fit", help="compare surrogate regressors by k-fold CV and select the best per objective")
    _add_data_option(fit)
    fit.add_argument("--folds", type=int_in(2, 50), default=5, help="number of cross-validation folds (default 5)")
    fit.add_argument("--seed", type=seed, default=0, help="seed of the fold split and the models (default 0)")
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
    pareto.add_argument(
        "--algorithm", choices=ALGORITHMS, default="nsga2", help="pymoo algorithm: nsga2 (default), smsemoa or moead"
    )
    pareto.add_argument(
        "--evaluations", type=int_in(100, 1_000_000), default=4000, help="surrogate evaluations budget (default 4000)"
    )
    pareto.add_argument(
        "--validate",
        type=int_in(0, 1000),
        default=12,
        help="front points re-simulated with P2D (default 12, at least 10 recommended; 0 skips)",
    )
    pareto.add_argument("--seed", type=seed, default=0, help="seed of the optimizer and the surrogate (default 0)")
    _add_domain_option(pareto, DOMAINS)
    pareto.add_argument(
        "--band",
        type=int_in(0, 1000),
        default=40,
        help="bootstrap members of the manufacturing relations re-simulated at the validated points "
        "for the 10-90 %% uncertainty band (default 40, at least 20; 0 skips)",
    )
    _add_fix_option(pareto)
    _add_points_option(pareto, MESH_POINTS, from_dataset=True)
    pareto.set_defaults(func=_pareto)

    design = commands.add_parser(
        "design", help="inverse design: maximize one objective subject to a floor on the other"
    )
    _add_data_option(design)
    design.add_argument(
        "--maximize",
        choices=("energy-3c", "energy", "power"),
        default="energy-3c",
        help="objective to maximize: energy-3c (default; the specific energy delivered at 3C) or energy (at C/5); "
        "'power' is a deprecated name of energy-3c",
    )
    design.add_argument(
        "--min-energy",
        type=real_in(0.0, 2000.0),
        help="floor on the C/5 specific energy [Wh/kg] (with --maximize energy-3c)",
    )
    design.add_argument(
        "--min-energy-3c",
        type=real_in(0.0, 2000.0),
        help="floor on the 3C specific energy [Wh/kg] (with --maximize energy)",
    )
    design.add_argument(
        "--min-power",
        type=real_in(0.0, 2000.0),
        help="deprecated name of --min-energy-3c",
    )
    design.add_argument("--seed", type=seed, default=0, help="optimizer seed (default 0)")
    design.add_argument("--no-verify", action="store_true", help="skip the P2D verification of the optimum")
    design.add_argument(
        "--margin",
        type=real_in(0.0, 0.5),
        default=None,
        help="relative margin above the floor imposed on the surrogate (default: the surrogate's measured error "
        "on that objective, the 95th percentile of its relative out-of-fold error over the dataset's upper half, "
        "from 'hpo electrode fit')",
    )
    design.add_argument(
        "--fine-points",
        type=int_in(*MESH_POINTS),
        help="cathode mesh points of the second P2D verification (default: twice the dataset's)",
    )
    _add_domain_option(design, DOMAINS)
    _add_fix_option(design)
    design.add_argument("--json", action="store_true", help="print one JSON object")
    _add_points_option(design, MESH_POINTS, from_dataset=True)
    design.set_defaults(func=_design)


# -- option helpers ----------------------------------------------------------------------------
def _add_process_options(parser: argparse.ArgumentParser, required: bool) -> None:
    from surrogates.manufacturing import CALIBRATION_LOADING, PROCESS_BOUNDS, PROCESS_DESCRIPTIONS, PROCESS_NAMES

    for name in PROCESS_NAMES:
        low, high = PROCESS_BOUNDS[name]
        if name == "loading":
            parser.add_argument(
                "--loading",
                default=CALIBRATION_LOADING,
                help=f"{PROCESS_DESCRIPTIONS[name]}, {low}-{high} (default {CALIBRATION_LOADING}, the calibration "
                "data's mean)",
            )
        else:
            parser.add_argument(f"--{name}", required=required, help=f"{PROCESS_DESCRIPTIONS[name]}, {low}-{high}")


def _add_points_option(parser: argparse.ArgumentParser, limits: tuple[int, int], from_dataset: bool = False) -> None:
    if from_dataset:
        parser.add_argument(
            "--points",
            type=int_in(*limits),
            help="P2D mesh points across the cathode for the re-simulations (default: the dataset's, from its JSON "
            "sidecar)",
        )
    else:
        parser.add_argument(
            "--points",
            type=int_in(*limits),
            default=20,
            help="P2D mesh points across the cathode (default 20, from the mesh study; the anode, separator and "
            "particles keep theirs)",
        )


def _add_domain_option(parser: argparse.ArgumentParser, domains: tuple[str, ...]) -> None:
    parser.add_argument(
        "--domain",
        choices=domains,
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

    overrides = _name_values("--coefficient", args.coefficient)
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


def _add_fix_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--fix",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="hold a process parameter at a value and search over the others (repeatable), e.g. "
        "loading=17.467 for the calibration data's loading",
    )


def _fixed(items: list[str]) -> dict[str, float]:
    """``--fix NAME=VALUE`` items as a mapping (names and ranges are checked by the search)."""
    return _name_values("--fix", items)


def _name_values(option: str, items: list[str]) -> dict[str, float]:
    """Repeated ``OPTION NAME=VALUE`` items as ``{name: finite number}``; a malformed item or a
    value that is not a finite number is a one-line error naming it."""
    values = {}
    for item in items:
        name, sep, raw = item.partition("=")
        if not sep or not name.strip():
            raise UserError(f"{option} {short_repr(item)} must look like NAME=VALUE")
        named = f"{option} {name.strip()}"
        try:
            number = float(raw)
        except ValueError:
            raise UserError(f"{named} must be a number, got {short_repr(raw)}") from None
        values[name.strip()] = check_real(named, number)
    return values


def _add_data_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", help="dataset CSV (default: the dataset shipped in the package)")


def _print_help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _p2d_settings(args):
    from surrogates.p2d import P2DSettings

    return P2DSettings(positive_points=args.points)


def _dataset_config(args):
    """The dataset's own simulation settings, with ``--points`` applied when given."""
    import dataclasses

    from surrogates.dataset import SHIPPED_DATASET, load_config

    config = load_config(args.data or SHIPPED_DATASET)
    if args.points is not None:
        config = dataclasses.replace(config, p2d=config.p2d.with_overrides(positive_points=args.points))
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
    from surrogates.manufacturing import (
        PROCESS_NAMES,
        PROPERTY_UNITS,
        ProcessParameters,
        check_process_value,
        manufacture,
    )
    from surrogates.p2d import P2DModel

    values = {name: check_process_value(name, getattr(args, name)) for name in PROCESS_NAMES}
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

    n, seed, workers = args.n, args.seed, args.workers
    config = SimulationConfig(p2d=_p2d_settings(args), manufacturing=_coefficients(args))
    map_fn = cluster_map(workers, dask=args.dask)
    # The canonical command (all options explicit) is stored in the sidecar for reproduction.
    command = (
        f"hpo electrode dataset --n {n} --seed {seed} --out {shlex.quote(str(args.out))} "
        f"--workers {workers} --points {config.p2d.positive_points}"
        + "".join(f" --coefficient {shlex.quote(item)}" for item in args.coefficient)
    )
    frame = generate_dataset(
        args.out, n, seed, config=config, map_fn=map_fn, command=command, progress=not args.no_progress
    )
    good = len(ok_rows(frame))
    print(f"{args.out}: {len(frame)} designs, {good} ok, {len(frame) - good} failed (kept with their reason)")
    return 0


def _fit(args) -> int:
    from surrogates.models import select_surrogates

    frame = _load(args)
    selection = select_surrogates(frame, folds=args.folds, seed=args.seed, progress=True)
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
    from surrogates.pareto import run_pareto

    frame = _load(args, needs_surrogate=True)
    config = _dataset_config(args)
    report = run_pareto(
        frame,
        out_dir=args.out,
        algorithm=args.algorithm,
        evaluations=args.evaluations,
        validate=args.validate,
        seed=args.seed,
        config=config,
        dataset_path=args.data,
        domain=args.domain,
        band_members=args.band,
        fixed=_fixed(args.fix),
    )
    print(report.summary())
    return 0


def _design(args) -> int:
    from surrogates.design import inverse_design

    maximize = args.maximize
    if maximize == "power":
        print("hpo: warning: --maximize power is deprecated: use --maximize energy-3c", file=sys.stderr)
        maximize = "energy-3c"
    if args.min_power is not None:
        if args.min_energy_3c is not None:
            raise UserError("--min-power is the deprecated name of --min-energy-3c: give one of them")
        print("hpo: warning: --min-power is deprecated: use --min-energy-3c", file=sys.stderr)
        args.min_energy_3c = args.min_power
    floor_name = "min-energy" if maximize == "energy-3c" else "min-energy-3c"
    other = "min-energy-3c" if maximize == "energy-3c" else "min-energy"
    if getattr(args, other.replace("-", "_")) is not None:
        raise UserError(f"--{other} goes with --maximize {'energy' if maximize == 'energy-3c' else 'energy-3c'}")
    floor = getattr(args, floor_name.replace("-", "_"))
    if floor is None:
        raise UserError(f"--{floor_name} is required with --maximize {maximize}")
    frame = _load(args, needs_surrogate=True)
    config = _dataset_config(args)
    result = inverse_design(
        frame,
        maximize=maximize,
        floor=floor,
        seed=args.seed,
        verify=not args.no_verify,
        config=config,
        dataset_path=args.data,
        margin=args.margin,
        domain=args.domain,
        fine_mesh_points=args.fine_points,
        fixed=_fixed(args.fix),
    )
    if args.json:
        print(json.dumps(result.as_dict(), default=_json_number))
    else:
        print(result.summary())
    return 0 if result.feasible else 1
