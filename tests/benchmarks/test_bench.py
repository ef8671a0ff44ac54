"""``hpo bench`` end to end: the smoke suite's report, resuming, failures, the run archive,
Dask = local pool."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from optuna.distributions import FloatDistribution

from benchmarks import problems as problems_module
from benchmarks.problems import ProblemUnavailable
from benchmarks.report import write_report
from benchmarks.runner import ARCHIVE, RUNS_DIR, Job, pack_records, read_records, run_jobs
from benchmarks.suites import make_jobs
from hpo import cli
from hpo.errors import UserError
from hpo.tasks import Task

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SMOKE_PROBLEMS = ("bbob-f01-d2", "bbob-f08-d2", "nb201-cifar10", "zdt1")


def bench(monkeypatch, *argv: str) -> int:
    """``hpo bench ...`` through the real entry point."""
    return cli.main(["bench", *argv])


def markdown_section_table(text: str, heading: str) -> pd.DataFrame:
    """The first Markdown table after ``heading`` in the report."""
    after = text.split(heading, 1)[1]
    block = []
    for line in after.splitlines():
        if line.startswith("|"):
            block.append(line)
        elif block:
            break
    assert block, f"no table after {heading!r}"
    header = [c.strip() for c in block[0].strip("|").split("|")]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in block[2:]]
    return pd.DataFrame(rows, columns=header)


def test_smoke_suite_report(tmp_path, monkeypatch):
    """The smoke suite runs through the CLI and its report holds the tables,
    figures and numbers that the raw results imply."""
    out = tmp_path / "smoke"
    argv = ("--suite", "smoke", "--out", str(out), "--workers", "2", "--no-progress", "--raw-csv")
    assert bench(monkeypatch, *argv) == 0
    text = (out / "report.md").read_text()
    # The run files were packed into the archive at the end.
    assert (out / ARCHIVE).is_file() and not (out / RUNS_DIR).exists()
    assert f"Produced by: `hpo bench --suite smoke --out {out} --workers 2`" in text

    for heading in (
        "## Problems",
        "## Normalized regret",
        "## Ranks and statistical tests",
        "## Hypervolume (multi-objective problems)",
        "## Suggestion overhead",
        "## Failed and skipped runs",
    ):
        assert heading in text
    problems_table = markdown_section_table(text, "## Problems")
    assert list(problems_table["problem"]) == list(SMOKE_PROBLEMS)
    assert set(problems_table["runs ok/failed/skipped"]) == {"4/0/0"}  # 2 optimizers x 2 seeds

    # Every figure the report shows exists and is a PNG; the three kinds are there.
    figures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert {"figures/curves-bbob.png", "figures/ranks.png", "figures/overhead.png"} <= set(figures)
    for figure in figures:
        assert (out / figure).read_bytes()[:8] == PNG_MAGIC

    # Raw results: one row per trial and per run.
    trials = pd.read_csv(out / "trials.csv")
    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == 16 and set(runs["status"]) == {"ok"}
    assert len(trials) == 16 * 16
    assert set(runs["optimizer"]) == {"random", "tpe", "motpe"}

    # The BBOB table's normalized regret at 100%, recomputed here from trials.csv and the
    # optima in the run files: regret = best - f_opt, divided by random search's mean.
    optimum = {(r["problem"], r["seed"]): r["optimum"] for r in read_records(out)}
    finals = (
        trials[trials["problem"].str.startswith("bbob")]
        .groupby(["problem", "optimizer", "seed"])["value_0"]
        .min()
        .reset_index()
    )
    finals["regret"] = finals["value_0"] - [optimum[(p, s)] for p, s in zip(finals["problem"], finals["seed"])]
    scale = finals[finals["optimizer"] == "random"].groupby("problem")["regret"].mean()
    finals["normalized"] = finals["regret"] / finals["problem"].map(scale)
    expected = finals.groupby(["optimizer", "problem"])["normalized"].mean().groupby("optimizer").mean()
    bbob_table = markdown_section_table(text, "### bbob").set_index("optimizer")
    for optimizer in ("random", "tpe"):
        assert float(bbob_table.loc[optimizer, "100%"]) == pytest.approx(expected[optimizer], rel=2e-3)
    assert float(bbob_table.loc["random", "100%"]) == pytest.approx(1.0)

    # curves.csv: the last best-so-far value of each run is its best trial value.
    curves = pd.read_csv(out / "curves.csv")
    last = curves[curves["trial"] == curves["n_trials"]].set_index(["problem", "optimizer", "seed"])
    for row in finals.itertuples():
        assert last.loc[(row.problem, row.optimizer, row.seed), "best_so_far"] == pytest.approx(row.value_0)

    # Ranks at 100% agree with the pairwise wins in the report's own tables.
    pairwise = pd.read_csv(out / "pairwise.csv")
    final = pairwise[(pairwise["budget"] == 1.0) & (pairwise["a"] == "random") & (pairwise["b"] == "tpe")]
    assert len(final) == 1
    ranks = pd.read_csv(out / "ranks.csv")
    final_ranks = ranks[(ranks["budget"] == 1.0) & ranks["optimizer"].isin(["random", "tpe"])]
    random_rank = float(final_ranks.loc[final_ranks["optimizer"] == "random", "mean_rank"].iloc[0])
    tpe_rank = float(final_ranks.loc[final_ranks["optimizer"] == "tpe", "mean_rank"].iloc[0])
    wins_random, wins_tpe = int(final["wins_a"].iloc[0]), int(final["wins_b"].iloc[0])
    n_problems = wins_random + wins_tpe + int(final["ties"].iloc[0])
    assert random_rank - tpe_rank == pytest.approx((wins_tpe - wins_random) / n_problems)

    per_group = markdown_section_table(text, "Mean rank per group").set_index("optimizer")
    assert list(per_group.columns) == ["bbob (2)", "tabular (1)"]
    assert float(per_group.loc["random", "tabular (1)"]) + float(per_group.loc["tpe", "tabular (1)"]) == 3.0

    # The report can be rebuilt from the archive alone, identically.
    (out / "report.md").unlink()
    assert bench(monkeypatch, "report", str(out), "--raw-csv") == 0
    assert (out / "report.md").read_text() == text


# -- resuming and failures -------------------------------------------------------------------


class _Interrupt:
    """An objective that raises KeyboardInterrupt (as Ctrl-C does) at its ``at``-th call."""

    def __init__(self, at: int | None):
        self.at, self.calls = at, 0

    def __call__(self, params):
        self.calls += 1
        if self.at is not None and self.calls == self.at:
            raise KeyboardInterrupt
        return float(sum((v - 0.25) ** 2 for v in params.values()))


def _register(monkeypatch, name: str, build) -> None:
    monkeypatch.setitem(problems_module._BUILDERS, name, problems_module._Entry("test", 1, build))


def _quadratic(name: str, objective) -> Task:
    return Task(
        name=name,
        description="test quadratic",
        space={"x": FloatDistribution(-1, 1), "y": FloatDistribution(-1, 1)},
        directions=("minimize",),
        function=objective,
        optimum=0.0,
    )


def test_interrupted_run_resumes_without_rerunning_finished_jobs(tmp_path, monkeypatch):
    """Ctrl-C in the middle of the 3rd job; the rerun runs only what is missing."""
    interrupt = _Interrupt(at=2 * 5 + 3)  # 5 trials per job: the 3rd job's 3rd trial
    _register(monkeypatch, "test-quadratic", lambda seed: _quadratic("test-quadratic", interrupt))
    jobs = make_jobs("smoke", problems=["test-quadratic"], optimizers=["random", "tpe"], seeds=2, n_trials=5)
    assert len(jobs) == 4

    with pytest.raises(KeyboardInterrupt):
        run_jobs(jobs, tmp_path, workers=0, progress=False)
    finished = [job for job in jobs if job.path(tmp_path).exists()]
    assert finished == jobs[:2]
    stamps = {job: job.path(tmp_path).stat().st_mtime_ns for job in finished}
    contents = {job: job.path(tmp_path).read_text() for job in finished}

    interrupt.at = None
    calls_before = interrupt.calls
    summary = run_jobs(jobs, tmp_path, workers=0, progress=False)
    assert (summary.skipped_finished, summary.ok) == (2, 2)
    assert interrupt.calls - calls_before == 2 * 5  # only the two missing jobs ran
    for job in finished:
        assert job.path(tmp_path).stat().st_mtime_ns == stamps[job]
        assert job.path(tmp_path).read_text() == contents[job]
    assert all(record["status"] == "ok" for record in read_records(tmp_path))
    assert not list(tmp_path.rglob(".seed*"))  # no temporary file of an atomic write left

    # A rerun with a larger budget is not "finished": those runs are redone.
    bigger = make_jobs("smoke", problems=["test-quadratic"], optimizers=["random"], seeds=1, n_trials=6)
    assert run_jobs(bigger, tmp_path, workers=0, progress=False).ok == 1


def test_failures_are_recorded_and_do_not_stop_other_runs(tmp_path, monkeypatch):
    def broken_build(seed):
        raise RuntimeError("cannot build this problem")

    def unavailable_build(seed):
        raise ProblemUnavailable("optional data not installed")

    def failing_objective(params):
        raise ValueError("objective exploded")

    _register(monkeypatch, "test-broken", broken_build)
    _register(monkeypatch, "test-unavailable", unavailable_build)
    _register(monkeypatch, "test-failing", lambda seed: _quadratic("test-failing", failing_objective))
    _register(monkeypatch, "test-fine", lambda seed: _quadratic("test-fine", _Interrupt(None)))
    jobs = make_jobs("smoke", problems=["test-*"], optimizers=["random"], seeds=1, n_trials=3)

    summary = run_jobs(jobs, tmp_path, workers=0, progress=False)
    assert (summary.ok, summary.failed, summary.skipped) == (2, 1, 1)
    records = {r["problem"]: r for r in read_records(tmp_path)}
    assert records["test-broken"]["status"] == "failed"
    assert "RuntimeError: cannot build this problem" in records["test-broken"]["error"]
    assert records["test-unavailable"]["status"] == "skipped"
    assert records["test-unavailable"]["error"] == "optional data not installed"
    assert {t["state"] for t in records["test-failing"]["trials"]} == {"FAIL"}
    assert records["test-failing"]["trials"][0]["error"] == "ValueError: objective exploded"
    assert records["test-fine"]["status"] == "ok"

    # Failed and skipped runs are tried again on a rerun; finished ones are not.
    again = run_jobs(jobs, tmp_path, workers=0, progress=False)
    assert (again.skipped_finished, again.failed, again.skipped) == (2, 1, 1)

    text = write_report(tmp_path).read_text()
    failed_table = markdown_section_table(text, "## Failed and skipped runs")
    assert set(failed_table["problem"]) == {"test-broken", "test-unavailable"}
    assert set(failed_table["status"]) == {"failed", "skipped"}


# -- the run archive -------------------------------------------------------------------------


def _quadratic_jobs(monkeypatch, objective) -> list[Job]:
    _register(monkeypatch, "test-quadratic", lambda seed: _quadratic("test-quadratic", objective))
    # 11 seeds: "seed10" sorts before "seed2" in the run files' order, which must be kept.
    return make_jobs("smoke", problems=["test-quadratic"], optimizers=["random", "tpe"], seeds=11, n_trials=4)


def test_packed_records_read_back_and_report_identically(tmp_path, monkeypatch):
    jobs = _quadratic_jobs(monkeypatch, _Interrupt(None))
    run_jobs(jobs, tmp_path, workers=0, progress=False)
    from_files = read_records(tmp_path)
    assert len(from_files) == len(jobs)
    report = write_report(tmp_path).read_text()
    figures = {p.name: p.read_bytes() for p in (tmp_path / "figures").iterdir()}
    assert not (tmp_path / "trials.csv").exists() and not (tmp_path / "curves.csv").exists()

    assert pack_records(tmp_path) == (len(jobs), tmp_path / ARCHIVE)
    assert not (tmp_path / RUNS_DIR).exists()  # run files and their folders removed
    assert read_records(tmp_path) == from_files  # same records, same order
    packed = (tmp_path / ARCHIVE).read_bytes()
    (tmp_path / "report.md").unlink()
    assert write_report(tmp_path).read_text() == report
    assert {p.name: p.read_bytes() for p in (tmp_path / "figures").iterdir()} == figures

    # Packing again (nothing new) gives the same bytes: the archive can be committed.
    pack_records(tmp_path)
    assert (tmp_path / ARCHIVE).read_bytes() == packed

    # --raw-csv writes the per-trial tables from the archive.
    write_report(tmp_path, raw_csv=True)
    trials = pd.read_csv(tmp_path / "trials.csv")
    assert len(trials) == len(jobs) * 4
    assert len(pd.read_csv(tmp_path / "curves.csv")) == len(jobs) * 4


def test_resumed_run_skips_archived_jobs_and_run_files_win(tmp_path, monkeypatch):
    objective = _Interrupt(None)
    jobs = _quadratic_jobs(monkeypatch, objective)
    run_jobs(jobs[:3], tmp_path, workers=0, progress=False)
    pack_records(tmp_path)
    calls = objective.calls
    summary = run_jobs(jobs, tmp_path, workers=0, progress=False)
    assert (summary.skipped_finished, summary.ok) == (3, len(jobs) - 3)
    assert objective.calls - calls == (len(jobs) - 3) * 4  # the archived jobs did not run again

    # A run file replaces the archived record of its job: here a failed rerun of jobs[0],
    # which a rerun then tries again, and the next pack keeps only the new record.
    failed = {**read_records(tmp_path)[0], "status": "failed", "error": "lost"}
    failed_job = next(
        j for j in jobs if (j.problem, j.optimizer, j.seed) == (failed["problem"], failed["optimizer"], failed["seed"])
    )
    failed_job.path(tmp_path).parent.mkdir(parents=True, exist_ok=True)
    failed_job.path(tmp_path).write_text(json.dumps(failed))
    pack_records(tmp_path)
    assert read_records(tmp_path)[0]["status"] == "failed"
    again = run_jobs(jobs, tmp_path, workers=0, progress=False)
    assert (again.skipped_finished, again.ok) == (len(jobs) - 1, 1)
    pack_records(tmp_path)
    records = read_records(tmp_path)
    assert len(records) == len(jobs) and {r["status"] for r in records} == {"ok"}
    assert not (tmp_path / RUNS_DIR).exists()


def test_report_takes_machine_and_focus_from_bench_json(tmp_path, monkeypatch):
    """A report rebuilt elsewhere shows the machine that ran the benchmark, and its focus."""
    run_jobs(_quadratic_jobs(monkeypatch, _Interrupt(None))[:4], tmp_path, workers=0, progress=False)
    machine = {"machine": "m68k", "cpus": 3, "python": "3.0.1", "optuna": "0.1", "hpo": "9"}
    (tmp_path / "bench.json").write_text(json.dumps({"command": "hpo bench x", "focus": "tpe", "machine": machine}))
    text = write_report(tmp_path).read_text()
    assert "Machine: m68k, 3 CPUs, Python 3.0.1, optuna 0.1, hpo 9." in text
    assert "## tpe against each optimizer" in text
    assert "## random against each optimizer" in write_report(tmp_path, focus="random").read_text()


def test_unreadable_archive_is_an_error_not_pending_runs(tmp_path):
    (tmp_path / ARCHIVE).write_bytes(b"not xz")
    with pytest.raises(UserError, match="not a readable run archive"):
        read_records(tmp_path)


def test_pack_command(tmp_path, monkeypatch, capsys):
    run_jobs(_quadratic_jobs(monkeypatch, _Interrupt(None))[:2], tmp_path, workers=0, progress=False)
    assert bench(monkeypatch, "pack", str(tmp_path)) == 0
    assert f"packed 2 runs into {tmp_path / ARCHIVE}" in capsys.readouterr().out
    assert bench(monkeypatch, "pack", str(tmp_path / "nope")) == 2
    assert "is not a folder" in capsys.readouterr().err


# -- Dask ------------------------------------------------------------------------------------


def _trajectories(out: Path) -> dict:
    return {
        (r["problem"], r["optimizer"], r["seed"]): [(t["state"], t["values"], t["params"]) for t in r["trials"]]
        for r in read_records(out)
    }


def test_dask_local_cluster_gives_the_same_results_as_the_local_pool(tmp_path):
    """The smoke suite on a real scheduler with worker processes gives the same
    trials as the local process pool for the same seeds."""
    distributed = pytest.importorskip("distributed")
    jobs = make_jobs("smoke")
    run_jobs(jobs, tmp_path / "pool", workers=2, progress=False)
    with (
        distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        assert len(client.scheduler_info()["workers"]) == 2
        # By address (run_jobs opens its own client), then resumed with a client object.
        first = run_jobs(jobs[:6], tmp_path / "dask", dask=cluster.scheduler_address, progress=False)
        rest = run_jobs(jobs, tmp_path / "dask", dask=client, progress=False)
    assert (first.ok, rest.skipped_finished, rest.ok) == (6, 6, len(jobs) - 6)
    pool, dask = _trajectories(tmp_path / "pool"), _trajectories(tmp_path / "dask")
    assert len(pool) == len(jobs)
    assert pool == dask


# -- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--suite", "nope", "--out", "X"], "suite 'nope' is unknown; allowed: smoke, standard"),
        (["--problems", "bbob-f99-d2", "--out", "X"], "matches no problem; allowed: bbob-fFF-dD"),
        (["--optimizers", "nope", "--out", "X"], "optimizer 'nope' is unknown; allowed: random"),
        (["--suite", "smoke"], "--out: required"),
        (["report"], "report: give the results folder"),
        (["pack"], "pack: give the results folder"),
    ],
)
def test_bad_input_is_a_one_line_error_listing_the_allowed_values(monkeypatch, capsys, tmp_path, argv, message):
    monkeypatch.chdir(tmp_path)
    assert bench(monkeypatch, *argv) == 2
    error = capsys.readouterr().err
    assert message in error
    assert len(error.strip().splitlines()) == 1
    assert not (tmp_path / "X").exists()


def test_a_replicate_on_other_seeds_runs_those_seeds_and_says_so_in_the_report(tmp_path, monkeypatch, capsys):
    out = tmp_path / "replicate"
    argv = ("--problems", "bbob-f01-d2", "--optimizers", "tpe", "--seeds", "2", "--first-seed", "7")
    assert bench(monkeypatch, *argv, "--n-trials", "4", "--workers", "0", "--no-progress", "--out", str(out)) == 0
    ran = {(r["optimizer"], r["seed"]) for r in read_records(out)}
    assert ran == {(optimizer, seed) for optimizer in ("random", "tpe") for seed in (7, 8)}
    assert "--seeds 2 --first-seed 7" in (out / "report.md").read_text()
    with pytest.raises(SystemExit):
        bench(monkeypatch, "--first-seed", "-1", "--out", str(tmp_path / "refused"))
    assert "--first-seed: '-1' is not a non-negative integer" in capsys.readouterr().err
    assert not (tmp_path / "refused").exists()


def test_report_of_a_folder_without_runs_is_an_error(monkeypatch, capsys, tmp_path):
    assert bench(monkeypatch, "report", str(tmp_path)) == 2
    assert "holds no benchmark runs" in capsys.readouterr().err


def test_jobs_cover_compatible_optimizers_and_always_the_random_baseline():
    jobs = make_jobs("smoke", optimizers=["tpe", "nsga2"], seeds=3, n_trials=7)
    by_problem: dict[str, set] = {}
    for job in jobs:
        by_problem.setdefault(job.problem, set()).add(job.optimizer)
        assert job.n_trials == 7
    assert by_problem["bbob-f01-d2"] == {"random", "tpe"}  # nsga2 is multi-objective only
    assert by_problem["zdt1"] == {"random", "nsga2"}  # tpe (registry entry) is single-objective
    assert {job.seed for job in jobs} == {0, 1, 2}
    assert len(set(jobs)) == len(jobs)
    replicate = make_jobs("smoke", optimizers=["tpe", "nsga2"], seeds=3, n_trials=7, first_seed=10)
    assert {job.seed for job in replicate} == {10, 11, 12}
    assert [(j.problem, j.optimizer) for j in replicate] == [(j.problem, j.optimizer) for j in jobs]
    with pytest.raises(UserError, match="first_seed must be >= 0, got -1"):
        make_jobs("smoke", first_seed=-1)
    assert Job("p", "o", 1, 5).path("out") == Path("out/runs/p/o/seed1.json")
