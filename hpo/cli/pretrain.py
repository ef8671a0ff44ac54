"""``hpo pretrain``: pre-train a SAC-HMR tuning agent on synthetic tasks (``hpo.agents.pretrain``)."""

from __future__ import annotations

import argparse

from hpo.cli.args import non_negative_int, positive_float, positive_int


def register(subparsers) -> None:
    from hpo.agents import pretrain as defaults

    parser = subparsers.add_parser(
        "pretrain",
        help="pre-train a SAC-HMR agent on cheap synthetic tuning problems",
        description=(
            "Train a SAC-HMR agent that proposes trials on a distribution of synthetic problems "
            "(Gaussian-process prior samples and training BBOB functions/instances, 1 to 20 "
            "parameters, random budgets, discrete coordinates, noise). Writes OUT/agent.zip, "
            "OUT/curve.csv and OUT/curve.png, checkpoints to OUT/checkpoint/ and resumes from "
            "there when rerun. The shipped agents were made with the defaults "
            "('--seed 0', and '--no-hmr' for the ablation); see docs/pretrained.md."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--out", required=True, help="folder for the agent, curve and checkpoints")
    parser.add_argument("--steps", type=positive_int, default=defaults.DEFAULT_STEPS, help="environment steps (trials)")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="seed of the tasks, the agent and its noise")
    parser.add_argument("--no-hmr", action="store_true", help="train SB3's plain SAC (the HMR ablation)")
    parser.add_argument(
        "--batch-size", type=positive_int, default=defaults.DEFAULT_BATCH_SIZE, help="SAC minibatch size"
    )
    parser.add_argument(
        "--learning-starts", type=non_negative_int, default=defaults.DEFAULT_LEARNING_STARTS,
        help="random-action steps before the first update",
    )
    parser.add_argument(
        "--step-scale", type=positive_float, default=defaults.DEFAULT_STEP_SCALE,
        help="largest step from the incumbent per coordinate, in encoded units (the box is [-1, 1])",
    )
    parser.add_argument(
        "--reward", choices=("score", "improvement"), default=defaults.DEFAULT_REWARD,
        help="'score': every trial's value against the task's typical value; 'improvement': the "
        "rise of the best value (both in the task's own units, see envs.pretrain_env)",
    )
    parser.add_argument(
        "--checkpoint-every", type=positive_int, default=defaults.DEFAULT_CHECKPOINT_EVERY,
        help="steps between checkpoints (and validation points of the curve)",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(func=run)


def run(args) -> int:
    from hpo.agents.pretrain import pretrain

    result = pretrain(
        args.out, steps=args.steps, seed=args.seed, hmr=not args.no_hmr, batch_size=args.batch_size,
        learning_starts=args.learning_starts, step_scale=args.step_scale, reward=args.reward,
        checkpoint_every=args.checkpoint_every, progress=not args.no_progress,
    )
    resumed = f", resumed from step {result.resumed_from}" if result.resumed_from else ""
    print(
        f"pretrained {result.steps} steps in {result.seconds:.0f} s{resumed}; "
        f"wrote {result.agent_path} and {result.curve_path}"
    )
    return 0
