"""What the benchmark tests share: the ``hpo bench`` entry point, a report's tables, and a
cheap test problem registered for the duration of a test."""

from __future__ import annotations

import pandas as pd
from optuna.distributions import FloatDistribution

from benchmarks import problems as problems_module
from benchmarks.runner import Job
from benchmarks.suites import make_jobs
from hpo import cli
from hpo.tasks import Task


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


class Interrupt:
    """An objective that raises KeyboardInterrupt (as Ctrl-C does) at its ``at``-th call."""

    def __init__(self, at: int | None):
        self.at, self.calls = at, 0

    def __call__(self, params):
        self.calls += 1
        if self.at is not None and self.calls == self.at:
            raise KeyboardInterrupt
        return float(sum((v - 0.25) ** 2 for v in params.values()))


def register_problem(monkeypatch, name: str, build) -> None:
    monkeypatch.setitem(problems_module._BUILDERS, name, problems_module._Entry("test", 1, build))


def quadratic_task(name: str, objective) -> Task:
    return Task(
        name=name,
        description="test quadratic",
        space={"x": FloatDistribution(-1, 1), "y": FloatDistribution(-1, 1)},
        directions=("minimize",),
        function=objective,
        optimum=0.0,
    )


def quadratic_jobs(monkeypatch, objective) -> list[Job]:
    register_problem(monkeypatch, "test-quadratic", lambda seed: quadratic_task("test-quadratic", objective))
    # 11 seeds: "seed10" sorts before "seed2" in the run files' order, which must be kept.
    return make_jobs("smoke", problems=["test-quadratic"], optimizers=["random", "tpe"], seeds=11, n_trials=4)
