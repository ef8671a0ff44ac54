"""Does the meta-trained agent know where a new dataset's good configurations are?

For each target of the transfer benchmark (leave one dataset out), ``sac-hmr-transfer`` is
meta-trained on the other datasets' source studies and run on the target's table for the
first ``max(--at)`` trials (the portfolio first). At each trial count in ``--at`` its critic
scores ``--configs`` configurations of the target's table drawn at random, by
``min(Q1, Q2)`` of proposing each one in the study's current state
(``SACHMRSampler.critic_values``). The Spearman correlation of those values with the
configurations' true scores (``rho``) says how well the agent ranks the new dataset; the
true quantile of the critic's favourite among them (``top``: 0 is the best of the drawn
configurations) says how good its first choice would be, and the correlation with the
sources' prior (``rho_sources``) whether it learned what the sources it was trained on say.

The reference is the sources' prior that the greedy portfolio is chosen by: the mean over
the sources of the quantile score of the nearest source trial (``hpo.transfer.nearest_scores``).
Plain SAC (``hmr=False``) is measured the same way; HMR against no HMR is a one-sided
Wilcoxon signed-rank test on ``rho`` over the (target, seed) pairs.

``python -m benchmarks.transfer.critic_rank --out DIR [--seeds N] [--families ...] [--at 5 10 25]``
prints a table per family and trial count and writes ``critic_rank.json`` to ``DIR``; the
source studies are those of the transfer benchmark (made once in ``DIR/sources``).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import optuna
from scipy.stats import spearmanr, wilcoxon

from benchmarks.transfer.run import FAMILIES, Target, score_of, source_frame, sources_for, table, table_key, targets
from hpo.io import atomic_write_text

VARIANTS = {"sac-hmr-transfer": True, "sac-transfer": False}  # name: hmr


def measure(out: Path, target: Target, seed: int, at: Sequence[int], n_configs: int) -> list[dict]:
    """The rows of one (target, seed): the prior's, then each variant's at each trial count."""
    from hpo.samplers.sac_hmr_transfer import from_sources
    from hpo.space import SpaceEncoder
    from hpo.threads import limit_threads
    from hpo.transfer import nearest_scores

    limit_threads()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space, means, _ = table(target.table)
    sources = sources_for(out, target, space)
    keys = sorted(means)
    drawn = np.random.default_rng(seed).choice(len(keys), size=min(n_configs, len(keys)), replace=False)
    configs = [_params_of(space, keys[i]) for i in drawn]
    truth = np.array([score_of(target.table, means[keys[i]]) for i in drawn])  # larger is better
    quantile = 1.0 - (truth[:, None] > truth[None, :]).mean(axis=1)  # 0: the best drawn configuration

    encoder = SpaceEncoder(space)
    points = np.array([encoder.encode(c) for c in configs])
    prior = -nearest_scores(sources, points, encoder).mean(axis=1)

    def row(name: str, trials: int, values: np.ndarray) -> dict:
        return {
            "family": target.family,
            "target": target.dataset,
            "seed": seed,
            "variant": name,
            "trials": trials,
            "rho": float(spearmanr(values, truth)[0]),
            "top": float(quantile[int(np.argmax(values))]),
            "rho_sources": float(spearmanr(values, prior)[0]),
        }

    rows = [row("sources' prior", 0, prior)]
    for name, hmr in VARIANTS.items():
        sampler = from_sources(sources, space, 1000 * seed + 7, max(at), hmr=hmr)
        study = optuna.create_study(direction=target.table.direction, sampler=sampler)
        for n in range(1, max(at) + 1):
            trial = study.ask(space)
            study.tell(trial, means[table_key(space, trial.params)])
            if n in at:  # the agent proposes from trial portfolio size + 1 on (at 5: twice)
                rows.append(row(name, n, sampler.sampler.critic_values(configs)))
    return rows


def _params_of(space, key: str) -> dict:
    return {
        name: (dist.choices[int(c)] if hasattr(dist, "choices") else int(c))
        for (name, dist), c in zip(space.items(), key)
    }


def _measure_one(args) -> list[dict]:
    return measure(*args)


def summarize(rows: list[dict]) -> str:
    """Markdown: mean rho and top per family, variant and trial count; HMR vs no HMR."""
    lines = [
        "| family | who | trials | pairs | mean rho | mean top | mean rho with the sources' prior |",
        "|---|---|---|---|---|---|---|",
    ]
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["family"], r["variant"], r["trials"]), []).append(r)
    for (family, variant, trials), group in sorted(groups.items()):
        rho = np.mean([r["rho"] for r in group])
        top = np.mean([r["top"] for r in group])
        agree = np.mean([r["rho_sources"] for r in group])
        lines.append(f"| {family} | {variant} | {trials} | {len(group)} | {rho:.3f} | {top:.3f} | {agree:.3f} |")
    lines += ["", "| family | trials | pairs | HMR mean rho | no-HMR mean rho | W | p (HMR > no HMR) |"]
    lines.append("|---|---|---|---|---|---|---|")
    for family in sorted({r["family"] for r in rows}):
        for trials in sorted({r["trials"] for r in rows if r["trials"]}):
            pick = {
                v: {(r["target"], r["seed"]): r["rho"] for r in groups.get((family, v, trials), [])} for v in VARIANTS
            }
            pairs = sorted(set(pick["sac-hmr-transfer"]) & set(pick["sac-transfer"]))
            if not pairs:
                continue
            a = np.array([pick["sac-hmr-transfer"][k] for k in pairs])
            b = np.array([pick["sac-transfer"][k] for k in pairs])
            test = wilcoxon(a, b, alternative="greater") if np.any(a != b) else None
            w, p = (f"{test.statistic:g}", f"{test.pvalue:.3g}") if test else ("-", "-")
            lines.append(f"| {family} | {trials} | {len(pairs)} | {a.mean():.3f} | {b.mean():.3f} | {w} | {p} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.transfer.critic_rank", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--out", required=True)
    parser.add_argument("--families", nargs="+", choices=list(FAMILIES))
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--at", type=int, nargs="+", default=[5, 10, 25])
    parser.add_argument("--configs", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    if args.seeds < 1 or args.configs < 2 or min(args.at) < 1:
        parser.error("--seeds must be >= 1, --configs >= 2 and every --at >= 1")
    out = Path(args.out)
    chosen = targets(args.families)
    for target in chosen:
        for dataset in target.others:
            source_frame(out, target.family, dataset)
    jobs = [(out, t, s, tuple(args.at), args.configs) for s in range(args.seeds) for t in chosen]
    with ProcessPoolExecutor(args.workers) as pool:
        rows = [r for result in pool.map(_measure_one, jobs) for r in result]
    atomic_write_text(out / "critic_rank.json", json.dumps(rows, indent=1))
    print(summarize(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
