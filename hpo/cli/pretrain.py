"""``hpo pretrain``: pre-train a SAC-HMR tuning agent on synthetic tasks (``hpo.agents.pretraining``)."""

from __future__ import annotations

from hpo.cli.args import HelpFormatter, non_negative_int, positive_int


def register(subparsers) -> None:
    from hpo.agents import pretraining as defaults

    parser = subparsers.add_parser(
        "pretrain",
        help="pre-train a SAC-HMR agent on cheap synthetic tuning problems",
        description=(
            "Train a SAC-HMR agent that steers a Gaussian-process search (exploration weight, "
            "local radius, share of local candidates) on a distribution of synthetic problems "
            "(Gaussian-process prior samples and training BBOB functions/instances, 1 to 20 "
            "parameters, random budgets, discrete coordinates, noise). Writes OUT/agent.zip, "
            "OUT/curve.csv and OUT/curve.png, checkpoints to OUT/checkpoint/ and resumes from "
            "there when rerun. The shipped agents were made with the defaults "
            "('--seed 0', and '--no-hmr' for the ablation); see docs/pretrained.md."
        ),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--out", required=True, help="folder for the agent, curve and checkpoints")
    parser.add_argument("--steps", type=positive_int, default=defaults.DEFAULT_STEPS, help="environment steps (trials)")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="seed of the tasks, the agent and its noise")
    parser.add_argument("--no-hmr", action="store_true", help="train SB3's plain SAC (the HMR ablation)")
    parser.add_argument(
        "--batch-size", type=positive_int, default=defaults.DEFAULT_BATCH_SIZE, help="SAC minibatch size"
    )
    parser.add_argument(
        "--learning-starts",
        type=non_negative_int,
        default=defaults.DEFAULT_LEARNING_STARTS,
        help="random-action steps before the first update",
    )
    parser.add_argument(
        "--gamma",
        type=float,
        default=defaults.DEFAULT_GAMMA,
        help="SAC's discount (0: each action is judged by the improvement of its own trial alone)",
    )
    parser.add_argument(
        "--target-entropy",
        type=float,
        default=defaults.DEFAULT_TARGET_ENTROPY,
        help="policy entropy (nats, 3 action entries) SAC's temperature is tuned towards; SB3's default is -3",
    )
    parser.add_argument(
        "--checkpoint-every",
        type=positive_int,
        default=defaults.DEFAULT_CHECKPOINT_EVERY,
        help="steps between checkpoints (and validation points of the curve)",
    )
    parser.add_argument(
        "--validation-functions",
        type=positive_int,
        default=defaults.VALIDATION_FUNCTIONS,
        help="training-distribution functions (own seed) the curve validates on at each checkpoint",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(func=run)


def run(args) -> int:
    from hpo.agents.pretraining import pretrain

    result = pretrain(
        args.out,
        steps=args.steps,
        seed=args.seed,
        hmr=not args.no_hmr,
        batch_size=args.batch_size,
        learning_starts=args.learning_starts,
        validation_functions=args.validation_functions,
        target_entropy=args.target_entropy,
        gamma=args.gamma,
        checkpoint_every=args.checkpoint_every,
        progress=not args.no_progress,
    )
    resumed = f", resumed from step {result.resumed_from}" if result.resumed_from else ""
    print(
        f"pretrained {result.steps} steps in {result.seconds:.0f} s{resumed}; "
        f"wrote {result.agent_path} and {result.curve_path}"
    )
    return 0
