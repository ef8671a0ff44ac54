"""How far meta-training moves the shipped agent's policy.

For each target of the transfer benchmark (one seed), ``sac-hmr-transfer`` is meta-trained on
its source studies as in the benchmark; then the shipped agent and the meta-trained one act
deterministically on the same observations (the last meta-training transitions). Printed per
family: the mean absolute difference of their actions per action dimension (in [-1, 1]),
the shipped policy's own spread over those observations, and the mean acquisition settings
both choose (``envs.acquisition_env.action_to_acquisition``: the lower confidence bound's
exploration weight beta, the radius of the local candidates, their share).

    python -m benchmarks.transfer.policy_shift --out DIR  # DIR: the benchmark's, for its sources
"""

from __future__ import annotations

import argparse
import base64
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import optuna

from benchmarks.problems import table_key
from benchmarks.transfer.entries import make_entry
from benchmarks.transfer.targets import FAMILIES, sources_for, table, targets
from envs.acquisition_env import action_to_acquisition
from hpo.agents.shipped import load_pretrained
from hpo.agents.transfer_training import load_weights
from hpo.samplers.sac_hmr_transfer import CACHE_ATTR
from hpo.transfer import DEFAULT_PORTFOLIO_SIZE

DIMENSIONS = ("beta", "radius", "local share")


def actions(target, out: Path, seed: int, n_trials: int) -> tuple[np.ndarray, np.ndarray]:
    """The shipped and the meta-trained agent's deterministic actions on the meta-training
    observations of ``target``."""
    space, means, _ = table(target.table)
    sources = sources_for(out, target, space)
    sampler = make_entry(
        "sac-hmr-transfer", sources, space, seed=seed, n_trials=n_trials, direction=target.table.direction
    )
    study = optuna.create_study(direction=target.table.direction, sampler=sampler)
    for _ in range(DEFAULT_PORTFOLIO_SIZE + 1):  # the first agent suggestion meta-trains
        trial = study.ask(space)
        study.tell(trial, means[table_key(space, trial.params)])
    attrs = study._storage.get_study_system_attrs(study._study_id)
    (weights,) = [v for k, v in attrs.items() if k.startswith(CACHE_ATTR) and not k.endswith(":claim")]
    meta = load_pretrained("sac-hmr-pretrained")
    observations = load_weights(meta, base64.b64decode(weights))["observations"]
    shipped = load_pretrained("sac-hmr-pretrained")
    return shipped.predict(observations, deterministic=True)[0], meta.predict(observations, deterministic=True)[0]


def settings(action_batch: np.ndarray) -> np.ndarray:
    return np.array([action_to_acquisition(a) for a in action_batch]).mean(axis=0)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.transfer.policy_shift", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--out", required=True, help="the transfer benchmark's folder (its source studies)")
    parser.add_argument("--families", nargs="+", choices=list(FAMILIES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-trials", type=int, default=50, help="the budget the agent is meta-trained for")
    args = parser.parse_args(argv)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    by_family = defaultdict(list)
    for target in targets(args.families):
        by_family[target.family].append(actions(target, Path(args.out), args.seed, n_trials=args.n_trials))
    print(f"{'family':14s} {'':22s} " + " ".join(f"{d:>12s}" for d in DIMENSIONS))
    for family, pairs in by_family.items():
        shipped = np.concatenate([s for s, _ in pairs])
        meta = np.concatenate([m for _, m in pairs])
        rows = {
            "mean |a_meta - a_shipped|": np.abs(meta - shipped).mean(axis=0),
            "std of a_shipped": shipped.std(axis=0),
            "shipped: mean setting": settings(shipped),
            "meta: mean setting": settings(meta),
        }
        name = f"{FAMILIES[family][0]} ({len(pairs)})"
        for label, values in rows.items():
            print(f"{name:14s} {label:26s} " + " ".join(f"{v:12.3f}" for v in values))
            name = ""
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
