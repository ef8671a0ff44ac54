"""``hpo dynamics``: training-dynamics experiments and the learning-rate range.

``hpo dynamics list``                      names the experiments and the claim each reproduces
``hpo dynamics run NAME|all --out DIR``    runs experiments, each writing NAME.png and NAME.csv in DIR
``hpo dynamics lr-range [--model M:F]``    a learning-rate search range: the low end from the NTK
                                          sharpness, the top end from short probe runs

Torch and the experiments are imported inside the handlers so that ``hpo --help`` stays fast.
"""

from __future__ import annotations

import time

from hpo.cli.args import int_in, positive_float, positive_int, seed
from hpo.errors import UserError
from hpo.loading import load_callable

LOSS_CHOICES = ("mse", "half_mse", "sse", "half_sse")
# The built-in probe model is a small MLP: these keep its weights (hidden**2 * depth) and the
# probe runs within a laptop's memory and minutes.
MAX_HIDDEN = 4096
MAX_DEPTH = 32
MAX_STEPS = 100_000


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "dynamics",
        help="training-dynamics diagnostics: NTK lr range, paper experiments",
        description="Training-dynamics diagnostics (tangent kernel, catapults, linearity, label noise).",
    )
    commands = parser.add_subparsers(dest="dynamics_command", metavar="SUBCOMMAND")
    parser.set_defaults(func=lambda args: _usage(parser))

    listing = commands.add_parser("list", help="list the experiments with the claim and paper of each")
    listing.set_defaults(func=_list)

    run = commands.add_parser("run", help="run one experiment (or all); writes NAME.png and NAME.csv")
    run.add_argument("name", help="experiment name from 'hpo dynamics list', or 'all'")
    run.add_argument("--out", required=True, help="directory for the figures and CSV files (created if missing)")
    run.add_argument("--seed", type=seed, default=0, help="base random seed of the experiment (default 0)")
    run.set_defaults(func=_run)

    lr_range = commands.add_parser(
        "lr-range",
        help="propose a learning-rate search range: low end from the NTK sharpness, top end from probe runs",
        description="Measure the loss sharpness s (top NTK eigenvalue, under the stated convention) on a probe "
        "batch at initialisation, then train copies of the model for a few SGD steps at rates rising from 2/s "
        "until one no longer trains; print [low-factor/s, the largest rate that trained].",
    )
    lr_range.add_argument(
        "--model",
        default=None,
        metavar="MODULE:FUNCTION",
        help="import MODULE (installed, or a .py file in the working directory) and call "
        "FUNCTION() -> (torch model, probe inputs, probe targets); "
        "default: the built-in digits MLP benchmark task (hpo.digits_mlp)",
    )
    lr_range.add_argument(
        "--hidden",
        type=int_in(1, MAX_HIDDEN),
        default=128,
        help=f"digits MLP: hidden width, at most {MAX_HIDDEN} (default 128)",
    )
    lr_range.add_argument(
        "--depth",
        type=int_in(1, MAX_DEPTH),
        default=2,
        help=f"digits MLP: hidden layers, at most {MAX_DEPTH} (default 2)",
    )
    lr_range.add_argument(
        "--probe-size",
        type=positive_int,
        default=256,
        help="digits MLP: probe samples, from the training set (default 256)",
    )
    lr_range.add_argument(
        "--batch-size",
        type=positive_int,
        default=None,
        help="SGD batch size of the probe runs (default: the digits MLP's 64; the whole probe set for --model)",
    )
    lr_range.add_argument("--steps", type=int_in(1, MAX_STEPS), default=32, help="SGD steps per probe run (default 32)")
    lr_range.add_argument(
        "--loss",
        choices=LOSS_CHOICES,
        default="mse",
        help="loss convention: mse = torch MSELoss (mean, no 1/2), half_mse = mean/2, "
        "sse = sum, half_sse = sum/2 (default mse)",
    )
    lr_range.add_argument(
        "--low-factor", type=positive_float, default=0.3, help="range low end in units of 1/s (default 0.3)"
    )
    lr_range.add_argument(
        "--tolerance",
        type=positive_float,
        default=2.0,
        help="a probe trains if its final loss is at most this times the best probe's (default 2)",
    )
    lr_range.add_argument("--seed", type=seed, default=0, help="seed of the model init and the probe batch (default 0)")
    lr_range.set_defaults(func=_lr_range)


def _usage(parser) -> int:
    parser.print_help()
    return 2


def _list(args) -> int:
    from benchmarks.dynamics import EXPERIMENTS

    for experiment in EXPERIMENTS.values():
        print(f"{experiment.name:20s} ({experiment.letter}) {experiment.claim}")
        print(f"{'':20s}     {experiment.paper}")
    return 0


def _run(args) -> int:
    from benchmarks.dynamics import EXPERIMENTS, get_experiment, run_experiment

    names = list(EXPERIMENTS) if args.name == "all" else [get_experiment(args.name).name]
    for name in names:
        started = time.perf_counter()
        summary = run_experiment(name, args.out, seed=args.seed)
        print(f"{name}: {time.perf_counter() - started:.0f} s -> {args.out}/{name}.png, {args.out}/{name}.csv")
        for key, value in summary.items():
            print(f"  {key}: {value}")
    return 0


def _load_factory(reference: str):
    factory = load_callable(reference, "--model")
    built = factory()
    if not (isinstance(built, tuple) and len(built) == 3):
        raise UserError(
            f"--model: {reference}() must return (model, probe_inputs, probe_targets), got {type(built).__name__}"
        )
    return built


def _lr_range(args) -> int:
    from hpo.dynamics import lr_range

    batch_size = args.batch_size
    if args.model is not None:
        model, inputs, targets = _load_factory(args.model)
        source = args.model
    else:
        from hpo.digits_mlp import DigitsMLP

        task = DigitsMLP(hidden=args.hidden, depth=args.depth)
        model, (inputs, targets) = task.build_model(args.seed), task.probe(args.probe_size, args.seed)
        batch_size = task.batch_size if batch_size is None else batch_size
        source = f"digits MLP (64-{'-'.join([str(args.hidden)] * args.depth)}-10, MSELoss, probe {args.probe_size})"
    found = lr_range(
        model,
        inputs,
        targets,
        loss=args.loss,
        batch_size=batch_size,
        steps=args.steps,
        tolerance=args.tolerance,
        low_factor=args.low_factor,
        seed=args.seed,
    )
    print(f"model: {source}")
    print(f"loss convention: {args.loss}; NTK sharpness s = {found.sharpness:.6g}")
    print(f"critical learning rate of full-batch GD 2/s = {found.critical:.6g}")
    print(f"probe runs ({args.steps} SGD steps, batch {batch_size or inputs.shape[0]}): lr -> final/initial probe loss")
    for probe in found.probes:
        verdict = "trains" if probe.trained else "does not train"
        print(
            f"  {probe.lr:.4g} ({probe.lr * found.sharpness:.2f}/s) -> {probe.final_loss / probe.initial_loss:.3g} "
            f"{verdict}"
        )
    print(f"suggested log-uniform lr range: [{found.low:.6g}, {found.high:.6g}]")
    return 0
