"""``benchmarks.bench``: the command a benchmark records runs the same jobs again."""

from __future__ import annotations

from benchmarks.bench import pinned_command
from benchmarks.runner import Job


def test_a_suite_of_every_registry_optimizer_records_the_optimizers_it_ran():
    jobs = [Job("bbob-f01-d2", name, 0, 5) for name in ("tpe", "random", "gp")]
    command = "hpo bench --suite standard --out X"
    assert pinned_command(command, "standard", optimizers=None, jobs=jobs) == f"{command} --optimizers gp random tpe"
    # named optimizers, a suite with its own list, and the transfer suite are recorded as given
    assert pinned_command(command, "standard", optimizers=["tpe"], jobs=jobs) == command
    assert (
        pinned_command("hpo bench --suite heldout", "heldout", optimizers=None, jobs=jobs)
        == "hpo bench --suite heldout"
    )
    assert (
        pinned_command("hpo bench --suite transfer", "transfer", optimizers=None, jobs=jobs)
        == "hpo bench --suite transfer"
    )
