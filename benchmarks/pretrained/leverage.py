"""How much could any agent gain by steering the pre-trained tuner's search?

``python -m benchmarks.pretrained.leverage [--functions 32] [--seeds 4] [--workers 2] [--out DIR]``
``python -m benchmarks.pretrained.leverage --from-runs benchmarks/results/leverage/runs.csv``

The shipped agent validates no better than uniformly random actions. This script asks whether
a better-trained agent could do better, on functions of the *training* distribution
(``hpo.agents.pretraining.make_validation_functions``, another seed; never held-out problems): each
function is run ``--seeds`` times by

* ``uniform``: uniformly random actions (the search the agent starts from);
* every constant action of the 3 x 3 x 3 grid ``{-1, 0, 1}^3`` (``beta``, radius, local share);
* ``best constant``: the constant with the lowest mean over all functions, and ``oracle``: for
  each function, the constant with the lowest mean on that function; both chosen on half of the
  seeds and scored on the other half (then the halves swapped), so that choosing does not
  score itself. The oracle is an upper bound for any policy that only picks its setting
  from what the function is;
* ``agent``: the shipped ``sac-hmr-pretrained`` agent without fine-tuning, actions sampled;
* Optuna's ``GPSampler`` and ``TPESampler`` (float coordinates, snapped by the function).

It prints, at 25 and 50 trials, the mean normalized regret ``(best - min) / (median random
value - min)`` (the held-out report's ranking metric up to a per-function scale, which ranks
ignore), the mean ``log10`` of it floored at 1e-6 (the pre-training reward's scale), and the
mean per-function rank of the six entries (ranks of the per-function mean over the scored seeds, as in
the benchmark report; 1 = best). With ``--out``, the per-run results go to ``DIR/runs.csv``,
saved every 100 runs: the same command resumes an interrupted run. A run that raises is
recorded with its error and its function left out of the tables. ``--from-runs`` prints the
tables of such a file without running anything (the shipped one is the docs' table).
"""

from __future__ import annotations

import argparse
import itertools
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

BUDGETS = (25, 50)
GRID = tuple(itertools.product((-1.0, 0.0, 1.0), repeat=3))
FUNCTION_SEED = 5
REGRET_FLOOR = 1e-6

# per worker process: the functions are drawn once, the agent loaded once
_FUNCTION_COUNT = 32
_FUNCTIONS = None
_AGENT = None


class ConstantPolicy:
    def __init__(self, action):
        self.action = np.asarray(action, dtype=np.float32)

    def predict(self, observation, deterministic=False):
        return self.action, None


def constant_name(action) -> str:
    return "const(" + ",".join(f"{a:+.0f}" for a in action) + ")"


def run_one(job: tuple[str, int, int]) -> dict:
    """One run: ``(entry, function index, seed)`` -> best values at the budgets."""
    entry, index, seed = job
    from hpo.agents.pretraining import best_values

    function, lower, center = _functions()[index]
    row = {"entry": entry, "function": index, "seed": seed, "dim": function.dim, "error": ""}
    budget = max(BUDGETS)
    try:
        if entry in ("gp", "tpe"):
            best = _optuna_best_values(entry, function, budget, seed=1000 * index + seed)
        else:
            import torch

            torch.manual_seed(1000 * index + seed)  # the agent samples its actions with torch
            best = best_values(
                _policy(entry), function, budget, rng=np.random.default_rng([FUNCTION_SEED, index, seed])
            )
    except Exception as err:  # recorded, not fatal: the other runs still count
        row["error"] = f"{type(err).__name__}: {err}"
    for b in BUDGETS:
        if row["error"]:
            row[f"regret_{b}"] = np.nan
        else:
            row[f"regret_{b}"] = max((best[b - 1] - lower) / (center - lower), 0.0) if center > lower else 0.0
    return row


def _functions():
    global _FUNCTIONS
    if _FUNCTIONS is None:
        from hpo.agents.pretraining import make_validation_functions

        _FUNCTIONS = make_validation_functions(FUNCTION_SEED, _FUNCTION_COUNT)
    return _FUNCTIONS


def _init_worker(function_count: int) -> None:
    global _FUNCTION_COUNT
    _FUNCTION_COUNT = function_count
    from hpo.threads import limit_threads

    limit_threads(1)
    warnings.filterwarnings("ignore")


def _policy(entry: str):
    global _AGENT
    if entry == "uniform":
        return "uniform"
    if entry == "agent":
        if _AGENT is None:
            from hpo.samplers.pretrained import load_pretrained

            _AGENT = load_pretrained("sac-hmr-pretrained")
        return _AGENT
    return ConstantPolicy(next(a for a in GRID if constant_name(a) == entry))


def _optuna_best_values(which: str, function, budget: int, seed: int) -> list[float]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    sampler = optuna.samplers.GPSampler(seed=seed) if which == "gp" else optuna.samplers.TPESampler(seed=seed)
    study = optuna.create_study(sampler=sampler)

    def objective(trial):
        point = np.array([trial.suggest_float(f"x{j}", -1.0, 1.0) for j in range(function.dim)])
        return function(function.discretize(point))

    study.optimize(objective, n_trials=budget)
    return list(np.minimum.accumulate([t.value for t in study.trials]))


def summarize(runs: pd.DataFrame, budget: int) -> pd.DataFrame:
    """Per function: each entry's mean regret on the scored half of the seeds, for both splits."""
    from scipy.stats import rankdata

    column = f"regret_{budget}"
    seeds = sorted(runs["seed"].unique())
    halves = (seeds[: len(seeds) // 2], seeds[len(seeds) // 2 :])
    constants = [constant_name(a) for a in GRID]
    tables = []
    for choose, score in (halves, halves[::-1]):
        chosen = runs[runs["seed"].isin(choose)].pivot_table(index="function", columns="entry", values=column)
        scored = runs[runs["seed"].isin(score)].pivot_table(index="function", columns="entry", values=column)
        best_constant = chosen[constants].mean().idxmin()
        oracle = chosen[constants].idxmin(axis=1)
        table = pd.DataFrame(
            {
                "uniform": scored["uniform"],
                "best constant": scored[best_constant],
                "oracle": [scored.loc[function, oracle[function]] for function in scored.index],
                "agent": scored["agent"],
                "gp": scored["gp"],
                "tpe": scored["tpe"],
            },
            index=scored.index,
        )
        table = table.dropna()  # a function with a failed run in the scored half is left out
        table.attrs["best constant"] = best_constant
        tables.append(table)
    rows = []
    for name in tables[0].columns:
        regrets = np.concatenate([t[name].to_numpy() for t in tables])
        ranks = np.concatenate(
            [np.apply_along_axis(rankdata, 1, t.to_numpy())[:, list(t.columns).index(name)] for t in tables]
        )
        rows.append(
            {
                "entry": name,
                "mean regret": regrets.mean(),
                "mean log10 regret": np.log10(np.maximum(regrets, REGRET_FLOOR)).mean(),
                "mean rank": ranks.mean(),
            }
        )
    summary = pd.DataFrame(rows).set_index("entry")
    summary.attrs["best constants"] = [t.attrs["best constant"] for t in tables]
    return summary


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", type=int, default=32, help="training-distribution functions (seed 5)")
    parser.add_argument("--seeds", type=int, default=4, help="runs per function and entry (even, at least 2)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None, help="folder for runs.csv")
    parser.add_argument("--from-runs", type=Path, default=None, help="a runs.csv to summarize instead of running")
    args = parser.parse_args(argv)
    if args.from_runs is not None:
        if not args.from_runs.is_file():
            parser.error(f"--from-runs: no file {str(args.from_runs)!r}")
        runs = pd.read_csv(args.from_runs)
        print_tables(runs, runs["function"].nunique(), runs["seed"].nunique())
        return
    if args.functions < 1:
        parser.error(f"--functions must be at least 1, got {args.functions}")
    if args.seeds < 2 or args.seeds % 2:
        parser.error(f"--seeds must be even and at least 2 (half choose, half score), got {args.seeds}")
    if args.workers < 1:
        parser.error(f"--workers must be at least 1, got {args.workers}")
    runs = run_all(args.functions, args.seeds, args.workers, out=args.out)
    failed = int((runs["error"].fillna("") != "").sum())
    if failed:
        print(f"{failed} runs failed (their 'error' column in runs.csv says why); their functions are left out")
    print_tables(runs, args.functions, args.seeds)


SAVE_EVERY = 100  # runs between saves of runs.csv


def run_all(functions: int, seeds: int, workers: int, out: Path | None) -> pd.DataFrame:
    """Every entry on every function and seed; with ``out``, runs already in ``out/runs.csv`` are
    kept and skipped (function ``i`` is the same function whatever ``--functions`` is), and the file is
    rewritten every ``SAVE_EVERY`` runs, so an interrupted run resumes where it stopped."""
    from tqdm import tqdm

    from hpo.io import atomic_write

    entries = ["gp", "tpe", "uniform", "agent"] + [constant_name(a) for a in GRID]
    path = None if out is None else out / "runs.csv"
    rows = (
        pd.read_csv(path, keep_default_na=False, na_values=[""]).to_dict("records") if path and path.is_file() else []
    )
    done = {(r["entry"], r["function"], r["seed"]) for r in rows}
    # the slow Optuna GP runs first, so the pool is not left waiting on them at the end
    jobs = [(e, t, s) for e in entries for t in range(functions) for s in range(seeds) if (e, t, s) not in done]
    if done:
        print(f"resuming: {len(done)} runs already in {path}, {len(jobs)} to go")

    def save():
        atomic_write(path, lambda tmp: pd.DataFrame(rows).to_csv(tmp, index=False))

    with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(functions,)) as pool:
        for count, row in enumerate(tqdm(pool.map(run_one, jobs, chunksize=1), total=len(jobs), desc="runs"), 1):
            rows.append(row)
            if path is not None and count % SAVE_EVERY == 0:
                save()
    if path is not None:
        save()
    runs = pd.DataFrame(rows)
    return runs[(runs["function"] < functions) & (runs["seed"] < seeds)]


def print_tables(runs: pd.DataFrame, functions: int, seeds: int) -> None:
    print(
        f"{functions} training-distribution functions (seed {FUNCTION_SEED}), {seeds} runs each; "
        f"constants chosen on half of the runs, scored on the other half"
    )
    for budget in BUDGETS:
        summary = summarize(runs, budget)
        print(f"\n{budget} trials (best constant: {' / '.join(summary.attrs['best constants'])})")
        print(summary.to_string(float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
